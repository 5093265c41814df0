// The runs table: one row per `lfbatch run`, with its settings (never the
// secret), running counts and how it ended. An interface, like JobQueue:
// SqliteRunLog (sqlite_run_log.h) and PgRunLog (pg_run_log.h).
//
// Not thread-safe: one RunLog per connection, like JobQueue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/result.h"

namespace lf {

struct RunCounts {
  std::int64_t requests = 0;   // requests sent
  std::int64_t done = 0;       // jobs settled done
  std::int64_t failed = 0;     // jobs settled failed
  std::int64_t retried = 0;    // settlements retry-later
  std::int64_t throttled = 0;  // settlements throttled
  // What the run saved (schema/004_content.sql): jobs settled without a
  // request by pre-flight, jobs that took another job's answer for the same
  // content, requests that sent an earlier upload's image_id, not the bytes.
  std::int64_t decided_locally = 0;
  std::int64_t reused = 0;
  std::int64_t sent_by_image_id = 0;
};

struct RunRecord {
  RunId id = 0;
  UnixMillis started_at = 0;
  std::optional<UnixMillis> finished_at;  // absent while running (or crashed, unmarked)
  std::string host;
  std::int64_t pid = 0;
  std::string settings;      // JSON
  std::string ended_how;     // "" while running; see finish_run
  std::string ended_detail;
  RunCounts counts;
};

class RunLog {
 public:
  virtual ~RunLog() = default;

  // Records the start of a run. `settings_json` must not contain the secret.
  virtual Result<RunId> start_run(const std::string& settings_json, const std::string& host,
                                  std::int64_t pid, UnixMillis now) = 0;

  // Adds deltas to the run's counts. Cheap: one UPDATE by primary key (its
  // own transaction, or part of the caller's).
  virtual Status add_counts(RunId run_id, const RunCounts& delta) = 0;
  Status add_counts(RunId run_id, std::int64_t requests, std::int64_t done, std::int64_t failed,
                    std::int64_t retried, std::int64_t throttled) {
    RunCounts delta;
    delta.requests = requests;
    delta.done = done;
    delta.failed = failed;
    delta.retried = retried;
    delta.throttled = throttled;
    return add_counts(run_id, delta);
  }

  // Says that run `run_id` is alive and may be taken for dead once
  // `lease_millis` pass without another heartbeat (the runner renews it
  // with its leases). PostgreSQL records it in runs.alive_at on the server's
  // clock; SQLite has nothing to record (the RunnerLock proves a run alive).
  virtual Status heartbeat(RunId run_id, std::int64_t lease_millis) = 0;

  // Records how the run ended: completed, out_of_quota, interrupted,
  // deadline, budget, aborted_credentials, aborted_configuration (crashed is
  // written by mark_crashed_runs). Fails for an unknown run.
  virtual Status finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                            UnixMillis now) = 0;

  // Marks every unfinished run as ended_how = 'crashed', finished at the end
  // of its last attempt (or at its start); returns how many.
  // REQUIRES: no unfinished run is still working (SQLite: the caller holds
  // the RunnerLock of the database).
  virtual Result<std::int64_t> mark_crashed_runs() = 0;

  virtual Result<std::optional<RunRecord>> run(RunId run_id) = 0;
  // The newest `limit` runs, newest first.
  virtual Result<std::vector<RunRecord>> recent_runs(int limit) = 0;
};

}  // namespace lf
