// The runs table: one row per `lfbatch run`, with its settings (never the
// secret), running counts and how it ended.
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
#include "store/database.h"

namespace lf {

class Statement;

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
  // `db` must outlive the log.
  explicit RunLog(Database& db);
  ~RunLog();

  // Records the start of a run. `settings_json` must not contain the secret.
  Result<RunId> start_run(const std::string& settings_json, const std::string& host,
                          std::int64_t pid, UnixMillis now);

  // Adds deltas to the run's counts. Cheap: one UPDATE by primary key (its
  // own transaction, or part of the caller's).
  Status add_counts(RunId run_id, std::int64_t requests, std::int64_t done, std::int64_t failed,
                    std::int64_t retried, std::int64_t throttled);
  Status add_counts(RunId run_id, const RunCounts& delta);

  // Records how the run ended: completed, out_of_quota, interrupted,
  // deadline, budget, aborted_credentials, aborted_configuration (crashed is
  // written by mark_crashed_runs). Fails for an unknown run.
  Status finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                    UnixMillis now);

  // Marks every unfinished run as ended_how = 'crashed', finished at the end
  // of its last attempt (or at its start); returns how many.
  // REQUIRES: the caller holds the RunnerLock of this database, which proves
  // that no unfinished run is still working.
  Result<std::int64_t> mark_crashed_runs();

  Result<std::optional<RunRecord>> run(RunId run_id);
  // The newest `limit` runs, newest first.
  Result<std::vector<RunRecord>> recent_runs(int limit);

 private:
  Database& db_;
  std::unique_ptr<Statement> add_counts_;  // prepared on first use
};

}  // namespace lf
