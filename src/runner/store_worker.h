// The runner's single store writer: a thread that owns the run's database
// connection (SQLite or PostgreSQL) and commits, in one transaction at a
// time (group commit):
//  - the attempts about to be sent (record_sent): a request leaves only
//    once its attempts row is committed, so every call is on record;
//  - the settlements of answered requests, with the run's counts;
// then renews the run's leases (and its heartbeat) and runs the few other
// store calls the engine needs, so the database never blocks the network
// thread. On a shared store (PostgreSQL, several runners) each renewal also
// recovers the expired leases and the work of dead runs
// (JobQueue::recover_expired_leases), so a runner killed on one host has its
// jobs finished by the others.
//
// Promptness: the worker wakes as soon as anything is queued and commits all
// that is queued, at most once every 500 us; what arrives during a commit
// goes into the next one. An answer is thus committed within about a
// millisecond of its arrival at any rate, and a commit carries every row
// that gathered meanwhile.
// Durability: on SQLite every commit is a write into the WAL (synchronous =
// NORMAL), which a SIGKILL cannot lose once it returns; a WalSyncer thread
// fdatasyncs the WAL behind the commits, so they survive a power loss within
// one fsync, while neither a request nor an answer waits for the disk. On
// PostgreSQL a commit returns once the server has it (its own
// synchronous_commit decides the disk).
//
// Never drops a paid answer: when a commit fails (the database is locked by
// another process, full, read-only, failing), the settlements in hand are
// appended to the unsaved-results file (unsaved_results.h) at once, and so is
// every settlement that arrives while the database stays unwritable; the
// commit is retried with backoff. No new attempt can be recorded meanwhile,
// so sending pauses by itself. Once a commit succeeds the file is removed;
// when the database stays unwritable for `patience`, the worker gives up
// (on_fatal) and the next run imports the file.
//
// Threading: every public method may be called from any thread. Work runs on
// the worker thread in submission order; a call() runs after every
// settlement submitted before it is committed, so e.g. release_all never
// overtakes a settlement of the same job.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/job.h"
#include "core/result.h"
#include "store/job_queue.h"
#include "store/run_log.h"
#include "store/store.h"
#include "store/wal_syncer.h"

namespace lf {

struct StoreWorkerOptions {
  std::string owner;                 // the lease owner of this run
  RunId run_id = 0;
  std::int64_t lease_millis = 120'000;
  // How long one commit waits for another connection's write lock before the
  // settlements in hand are saved to the unsaved-results file. Short, so a
  // SIGKILL during a long lock held by another process finds them saved.
  std::chrono::milliseconds lock_wait{200};
  // How long the database may stay unwritable before the worker gives up.
  std::chrono::milliseconds patience{60'000};
  std::string unsaved_path;          // unsaved_results_path(db)
  std::function<UnixMillis()> now;   // wall clock (injected for tests)
  // Called on the worker thread when a commit first fails (its settlements
  // are already saved to `unsaved_path` when the call is made), when a later
  // commit succeeds again, and when the worker gives up.
  std::function<void(const Error&)> on_blocked;
  std::function<void()> on_unblocked;
  std::function<void(const Error&)> on_fatal;
};

class StoreWorker {
 public:
  // `store` must outlive the worker and must not be used by any other
  // thread while it runs.
  StoreWorker(Store& store, StoreWorkerOptions options);
  ~StoreWorker();  // stop()s
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  using SentCallback = std::function<void(Result<AttemptId>)>;

  // Records that a request for `job_id` is about to be sent; `done` is called
  // on the worker thread with the attempt's id once its row is committed
  // (the run's request count with it), or with an error once the worker has
  // given up. The request must not leave before `done` has an id.
  void record_sent(JobId job_id, UnixMillis started_at, SentCallback done);
  void record_sent(SentAttempt attempt, SentCallback done);

  // Queues a settlement and the run-count deltas it brings (requests
  // excluded: record_sent counts those).
  void settle(Settlement settlement, const RunCounts& delta);

  // Runs `fn` on the worker thread after committing every settlement queued
  // before it. `fn` may use the queue and the log.
  void call(std::function<void(JobQueue&, RunLog&)> fn);

  // Commits what is queued, runs queued calls, and joins the thread (waiting
  // up to `patience` for an unwritable database). Idempotent.
  void stop();

  // Settlements committed so far, and how many the store ignored because
  // the job was no longer leased by this run.
  std::int64_t committed() const;
  std::int64_t ignored() const;

  // Why the worker gave up (what on_fatal was told), if it did; e.g. during
  // stop(), when no engine is left to tell.
  std::optional<Error> failure() const;

 private:
  struct Sent {
    SentAttempt attempt;
    SentCallback done;
  };

  void loop();
  // One transaction: records `sent`, settles `owed`, adds `counts` and the
  // requests; then delivers the attempt ids and clears `sent`. Returns how
  // many settlements the store ignored.
  Result<std::int64_t> commit(std::vector<Sent>& sent, const std::vector<Settlement>& owed,
                              const RunCounts& counts);
  // Appends owed[from..] to the unsaved-results file; logs them on failure.
  void save_unsaved(const std::vector<Settlement>& owed, const std::vector<RunCounts>& deltas,
                    std::size_t from);

  Store& store_;
  JobQueue& queue_;
  RunLog& log_;
  StoreWorkerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Sent> sent_;                     // guarded by mu_
  std::vector<Settlement> pending_;            // guarded by mu_
  std::vector<RunCounts> pending_deltas_;      // guarded by mu_; one per pending_ entry
  std::deque<std::function<void(JobQueue&, RunLog&)>> calls_;  // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  bool idle_ = false;  // guarded by mu_; the worker waits for work (a notify is needed)
  std::int64_t committed_ = 0;                 // guarded by mu_
  std::int64_t ignored_ = 0;                   // guarded by mu_
  std::optional<Error> failure_;               // guarded by mu_
  std::optional<WalSyncer> syncer_;             // SQLite only
  std::uint64_t last_commit_ = 0;              // syncer_'s number; worker thread only
  std::thread thread_;                         // last: started once the rest exists
};

}  // namespace lf
