// The writer thread: group commits of sent attempts and settlements, the
// unsaved-results file while the database is unwritable, lease renewal,
// queued calls.
#include "runner/store_worker.h"

#include <pthread.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include <spdlog/spdlog.h>

#include "store/database.h"
#include "store/unsaved_results.h"

namespace lf {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

void add(RunCounts& total, const RunCounts& delta) {
  total.requests += delta.requests;
  total.done += delta.done;
  total.failed += delta.failed;
  total.retried += delta.retried;
  total.throttled += delta.throttled;
  total.decided_locally += delta.decided_locally;
  total.reused += delta.reused;
  total.sent_by_image_id += delta.sent_by_image_id;
}

// Backoff between commit retries while the database is unwritable: 50 ms
// doubling to 1 s.
milliseconds retry_delay(int failures) {
  return milliseconds(std::min<std::int64_t>(1000, 50LL << std::min(failures - 1, 5)));
}

// The least time between two commits of the worker (see loop()).
constexpr std::chrono::microseconds kCommitGap{500};

// Runs `body` in one write transaction (SQLite: BEGIN IMMEDIATE, waiting up
// to the connection's busy timeout for the lock), rolled back when anything
// fails.
template <typename Body>
Status in_write_transaction(Store& store, Body body) {
  Status s = store.begin_write();
  if (!s) return s;
  s = body();
  if (s) s = store.commit();
  if (!s) store.rollback();
  return s;
}

}  // namespace

StoreWorker::StoreWorker(Store& store, StoreWorkerOptions options)
    : store_(store), queue_(store.queue()), log_(store.log()), options_(std::move(options)) {
  if (Database* db = store.sqlite()) {
    syncer_.emplace(db->path(),
                    [](const std::string& message) { spdlog::warn("database: {}", message); });
  }
  thread_ = std::thread([this] { loop(); });
}

StoreWorker::~StoreWorker() { stop(); }

void StoreWorker::record_sent(JobId job_id, UnixMillis started_at, SentCallback done) {
  SentAttempt attempt;
  attempt.job_id = job_id;
  attempt.started_at = started_at;
  record_sent(std::move(attempt), std::move(done));
}

void StoreWorker::record_sent(SentAttempt attempt, SentCallback done) {
  std::lock_guard lock(mu_);
  sent_.push_back(Sent{std::move(attempt), std::move(done)});
  if (idle_) cv_.notify_one();
}

void StoreWorker::settle(Settlement settlement, const RunCounts& delta) {
  std::lock_guard lock(mu_);
  pending_.push_back(std::move(settlement));
  pending_deltas_.push_back(delta);
  if (idle_) cv_.notify_one();
}

void StoreWorker::call(std::function<void(JobQueue&, RunLog&)> fn) {
  std::lock_guard lock(mu_);
  calls_.push_back(std::move(fn));
  cv_.notify_one();
}

void StoreWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::int64_t StoreWorker::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::int64_t StoreWorker::ignored() const {
  std::lock_guard lock(mu_);
  return ignored_;
}

std::optional<Error> StoreWorker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

Result<std::int64_t> StoreWorker::commit(std::vector<Sent>& sent,
                                         const std::vector<Settlement>& owed,
                                         const RunCounts& counts) {
  // The commit is a write into the WAL (synchronous = NORMAL): a SIGKILL
  // cannot lose it once it returns, and it waits for no disk; syncer_ then
  // makes it survive a power loss.
  std::vector<SentAttempt> attempts;
  attempts.reserve(sent.size());
  for (const Sent& s : sent) attempts.push_back(s.attempt);
  std::vector<AttemptId> ids;
  std::int64_t ignored = 0;
  Status committed = in_write_transaction(store_, [&]() -> Status {
    Result<std::vector<AttemptId>> recorded = queue_.record_sent(attempts, options_.run_id);
    if (!recorded) return recorded.error();
    ids = std::move(recorded).value();
    Result<std::int64_t> n = queue_.settle(owed, options_.owner, options_.run_id, options_.now());
    if (!n) return n.error();
    ignored = *n;
    RunCounts delta = counts;
    delta.requests += static_cast<std::int64_t>(sent.size());
    return options_.run_id > 0 ? log_.add_counts(options_.run_id, delta) : Status::Ok();
  });
  if (!committed) return committed.error();
  // The requests may leave: a crash from here on finds their attempts.
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i].done(ids[i]);
  sent.clear();
  if (!owed.empty() && syncer_) last_commit_ = syncer_->committed();
  return ignored;
}

void StoreWorker::save_unsaved(const std::vector<Settlement>& owed,
                               const std::vector<RunCounts>& deltas, std::size_t from) {
  if (from >= owed.size()) return;
  std::vector<UnsavedResult> results;
  results.reserve(owed.size() - from);
  for (std::size_t i = from; i < owed.size(); ++i) {
    results.push_back(UnsavedResult{options_.owner, options_.run_id, owed[i], deltas[i]});
  }
  if (Status s = append_unsaved_results(options_.unsaved_path, results); !s) {
    // The last resort: the answers in the log, where a person can find them.
    spdlog::error("{}; the {} results follow, one JSON line each", s.message(), results.size());
    for (const UnsavedResult& r : results) {
      std::string line = to_json_line(r);
      line.pop_back();
      spdlog::error("unsaved result: {}", line);
    }
  }
}

void StoreWorker::loop() {
  pthread_setname_np(pthread_self(), "lfbatch-store");  // as `top -H` shows it
  // Each commit waits at most lock_wait for another connection's lock: the
  // answers in hand are saved to the file rather than held in memory.
  store_.set_lock_wait(options_.lock_wait);
  // No commit of the worker waits for an fsync: syncer_ makes them durable
  // (see commit()).
  // The savepoints of a group commit (each store call inside the worker's
  // transaction is one) journal the pages they change: in memory, not in a
  // temporary file (which cost eight pwrite calls a request). The worker
  // sorts nothing large, so this bounds nothing that could grow.
  if (Database* db = store_.sqlite()) {
    if (Status s = db->exec("PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY"); !s) {
      spdlog::warn("database: {}", s.message());
    }
  }
  const auto renew_every = milliseconds(std::max<std::int64_t>(options_.lease_millis / 4, 1));
  auto next_renewal = Clock::now() + renew_every;

  std::vector<Sent> sent;
  std::vector<Settlement> owed;     // answered, not yet committed
  std::vector<RunCounts> deltas;    // one per owed entry
  std::size_t saved = 0;            // owed[0..saved) are in the unsaved-results file
  std::deque<std::function<void(JobQueue&, RunLog&)>> calls;
  bool blocked = false;             // the last commit failed
  bool gave_up = false;
  int failures = 0;
  Clock::time_point blocked_since{};
  Clock::time_point next_try{};
  Clock::time_point last_commit_at{};

  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      // While blocked, stopping waits for the next retry (or giving up).
      auto has_work = [&] {
        return !sent_.empty() || !pending_.empty() || !calls_.empty() ||
               (stopping_ && (!blocked || gave_up));
      };
      idle_ = true;  // from here on, the first work queued wakes the worker
      while (!has_work()) {
        auto wake = next_renewal;
        if (blocked && !gave_up) wake = std::min(wake, next_try);
        if (cv_.wait_until(lock, wake) == std::cv_status::timeout) break;
      }
      idle_ = false;
      // Group commit: at most one commit per kCommitGap. At a low rate work
      // arrives after the gap and is committed at once; at a high rate it
      // gathers for at most the gap (a fraction of a request's time), so a
      // commit carries many rows instead of one or two.
      if (!blocked && !stopping_) {
        cv_.wait_until(lock, last_commit_at + kCommitGap, [&] { return stopping_; });
      }
      for (Sent& s : sent_) sent.push_back(std::move(s));
      sent_.clear();
      for (Settlement& s : pending_) owed.push_back(std::move(s));
      pending_.clear();
      deltas.insert(deltas.end(), pending_deltas_.begin(), pending_deltas_.end());
      pending_deltas_.clear();
      for (auto& fn : calls_) calls.push_back(std::move(fn));
      calls_.clear();
      stopping = stopping_;
    }

    if (gave_up) {
      // Nothing more is committed by this run: answers go to the file, new
      // attempts are refused, calls run (and report their own errors).
      save_unsaved(owed, deltas, saved);
      owed.clear();
      deltas.clear();
      saved = 0;
      for (Sent& s : sent) s.done(Error{"the database is not writable; not sending"});
      sent.clear();
    } else if (!sent.empty() || !owed.empty()) {
      if (blocked && Clock::now() < next_try) {
        save_unsaved(owed, deltas, saved);  // what arrived meanwhile
        saved = owed.size();
      } else {
        RunCounts counts;
        for (const RunCounts& d : deltas) add(counts, d);
        last_commit_at = Clock::now();
        Result<std::int64_t> ignored = commit(sent, owed, counts);
        if (ignored) {
          if (*ignored > 0) {
            spdlog::warn("{} of {} results were not stored: their lease was no longer held by {}",
                         *ignored, owed.size(), options_.owner);
          }
          {
            std::lock_guard lock(mu_);
            committed_ += static_cast<std::int64_t>(owed.size());
            ignored_ += *ignored;
          }
          owed.clear();
          deltas.clear();
          if (saved > 0) {
            // Everything the file holds is committed now; the file goes
            // once the commit would survive a power loss too.
            if (syncer_) syncer_->wait_synced(last_commit_);
            std::error_code ec;
            std::filesystem::remove(options_.unsaved_path, ec);
            saved = 0;
          }
          failures = 0;
          if (blocked) {
            blocked = false;
            if (options_.on_unblocked) options_.on_unblocked();
          }
        } else {
          save_unsaved(owed, deltas, saved);
          saved = owed.size();
          ++failures;
          store_.reconnect_if_lost();  // a PostgreSQL server restarted, a network cut
          const auto now = Clock::now();
          next_try = now + retry_delay(failures);
          if (!blocked) {
            blocked = true;
            blocked_since = now;
            if (options_.on_blocked) options_.on_blocked(ignored.error());
          }
          if (now - blocked_since >= options_.patience) {
            gave_up = true;
            for (Sent& s : sent) s.done(ignored.error());
            sent.clear();
            owed.clear();
            deltas.clear();
            std::string message = "the database stayed unwritable for " +
                                  std::to_string(options_.patience.count() / 1000) +
                                  " s: " + ignored.error().message;
            if (saved > 0) {
              message += "; " + std::to_string(saved) + " answers are saved in " +
                         options_.unsaved_path +
                         " and the next `lfbatch run` (or `lfbatch init`) stores them";
            }
            {
              std::lock_guard lock(mu_);
              failure_ = Error{message};
            }
            if (options_.on_fatal) options_.on_fatal(Error{message});
            saved = 0;
          }
        }
      }
    }

    // Calls run once what was queued before them is committed (or never
    // will be).
    if (!blocked || gave_up) {
      for (auto& fn : calls) fn(queue_, log_);
      calls.clear();
    }
    if (!blocked && Clock::now() >= next_renewal) {
      Status s = queue_.renew_leases(options_.owner, options_.now(), options_.lease_millis);
      if (s && options_.run_id > 0) s = log_.heartbeat(options_.run_id, options_.lease_millis);
      if (s && store_.shared()) {
        // Any live runner puts back what dead ones left (SQLite: only this
        // run exists; it recovered everything at its start).
        Result<std::int64_t> recovered = queue_.recover_expired_leases(options_.now());
        if (!recovered) {
          s = recovered.error();
        } else if (*recovered > 0) {
          spdlog::warn("recovered {} jobs whose leases expired (their runners stopped renewing "
                       "them)", *recovered);
        }
      }
      if (!s) {
        // A missed renewal costs nothing while the lease has time left (and
        // on SQLite only this run may recover leases: it holds the runner
        // lock).
        store_.reconnect_if_lost();
        spdlog::warn("renewing the leases of {}: {}; retrying", options_.owner, s.message());
        next_renewal = Clock::now() + std::min(renew_every, milliseconds(1000));
      } else {
        next_renewal = Clock::now() + renew_every;
      }
    }
    if (stopping) {
      std::lock_guard lock(mu_);
      if (sent.empty() && owed.empty() && calls.empty() && sent_.empty() && pending_.empty() &&
          calls_.empty()) {
        return;
      }
    }
  }
}

}  // namespace lf
