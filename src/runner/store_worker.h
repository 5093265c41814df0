// The runner's single SQLite writer: a thread that owns the run's database
// connection, commits settlements in batched transactions (every
// flush_interval or flush_batch settlements, whichever comes first), renews
// the run's leases, and runs the few other store calls the engine needs, so
// SQLite never blocks the network thread.
//
// Threading: every public method may be called from any thread. Work runs
// on the worker thread in submission order; a call() first commits every
// settlement submitted before it, so e.g. release_all never overtakes a
// settlement of the same job.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/job.h"
#include "core/result.h"
#include "store/job_queue.h"
#include "store/run_log.h"

namespace lf {

struct StoreWorkerOptions {
  std::string owner;                 // the lease owner of this run
  RunId run_id = 0;
  std::int64_t lease_millis = 120'000;
  std::chrono::milliseconds flush_interval{50};
  std::size_t flush_batch = 200;
  std::function<UnixMillis()> now;   // wall clock (injected for tests)
  // Called on the worker thread when a commit or renewal fails; the
  // settlements of that batch are lost to this run (their leases expire and
  // the jobs are retried by a later run).
  std::function<void(const Error&)> on_error;
};

class StoreWorker {
 public:
  // `queue` and `log` must outlive the worker and must not be used by any
  // other thread while it runs.
  StoreWorker(JobQueue& queue, RunLog& log, StoreWorkerOptions options);
  ~StoreWorker();  // stop()s
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // Queues a settlement and the run-count deltas it brings.
  void settle(Settlement settlement, const RunCounts& delta);

  // Runs `fn` on the worker thread after committing every settlement queued
  // before it. `fn` may use the queue and the log.
  void call(std::function<void(JobQueue&, RunLog&)> fn);

  // Commits what is queued, runs queued calls, and joins the thread.
  // Idempotent.
  void stop();

  // Settlements committed so far, and how many the store ignored because
  // the job was no longer leased by this run.
  std::int64_t committed() const;
  std::int64_t ignored() const;

 private:
  void loop();
  void commit(std::vector<Settlement>& batch, RunCounts& counts);

  JobQueue& queue_;
  RunLog& log_;
  StoreWorkerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Settlement> pending_;            // guarded by mu_
  RunCounts pending_counts_;                   // guarded by mu_
  std::chrono::steady_clock::time_point first_pending_at_;  // guarded by mu_
  std::deque<std::function<void(JobQueue&, RunLog&)>> calls_;  // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::int64_t committed_ = 0;                 // guarded by mu_
  std::int64_t ignored_ = 0;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace lf
