// The runs table in PostgreSQL: as SQLite's, plus each run's heartbeat
// (alive_at, on the server's clock, and the lease time it promises), by
// which the other runners tell a dead run from a live one.
#pragma once

#include "store/run_log.h"
#include "store/sql_session.h"

namespace lf {

class PgRunLog final : public RunLog {
 public:
  // `session` (a PostgreSQL one) must outlive the log.
  explicit PgRunLog(SqlSession& session) : session_(session) {}

  // The run starts alive for the default lease time (120 s); the runner's
  // first heartbeat sets its own.
  Result<RunId> start_run(const std::string& settings_json, const std::string& host,
                          std::int64_t pid, UnixMillis now) override;
  using RunLog::add_counts;
  Status add_counts(RunId run_id, const RunCounts& delta) override;
  Status heartbeat(RunId run_id, std::int64_t lease_millis) override;
  Status finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                    UnixMillis now) override;
  // Only the unfinished runs whose heartbeat stopped: the others may be
  // working on other hosts. (PgJobQueue::recover_expired_leases does this
  // too, with their attempts and leases.)
  Result<std::int64_t> mark_crashed_runs() override;
  Result<std::optional<RunRecord>> run(RunId run_id) override;
  Result<std::vector<RunRecord>> recent_runs(int limit) override;

 private:
  SqlSession& session_;
};

}  // namespace lf
