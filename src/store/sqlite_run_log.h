// The runs table in SQLite (the embedded default).
#pragma once

#include <memory>

#include "store/database.h"
#include "store/run_log.h"

namespace lf {

class Statement;

class SqliteRunLog final : public RunLog {
 public:
  // `db` must outlive the log.
  explicit SqliteRunLog(Database& db);
  ~SqliteRunLog() override;

  Result<RunId> start_run(const std::string& settings_json, const std::string& host,
                          std::int64_t pid, UnixMillis now) override;
  using RunLog::add_counts;
  Status add_counts(RunId run_id, const RunCounts& delta) override;
  Status heartbeat(RunId, std::int64_t) override { return Status::Ok(); }
  Status finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                    UnixMillis now) override;
  Result<std::int64_t> mark_crashed_runs() override;
  Result<std::optional<RunRecord>> run(RunId run_id) override;
  Result<std::vector<RunRecord>> recent_runs(int limit) override;

 private:
  Database& db_;
  std::unique_ptr<Statement> add_counts_;  // prepared on first use
};

}  // namespace lf
