// The runs table in SQLite.
#include "store/sqlite_run_log.h"

#include <sqlite3.h>

#include "store/statement.h"

namespace lf {
namespace {

constexpr const char* kRunColumns =
    "SELECT id, started_at, finished_at, host, pid, settings, ended_how, ended_detail,"
    " requests, done, failed, retried, throttled, decided_locally, reused, sent_by_image_id"
    " FROM runs";

RunRecord read_run(const Statement& s) {
  RunRecord run;
  run.id = s.column_int64(0);
  run.started_at = s.column_int64(1);
  run.finished_at = s.column_optional_int64(2);
  run.host = s.column_text(3);
  run.pid = s.column_int64(4);
  run.settings = s.column_text(5);
  run.ended_how = s.column_text(6);
  run.ended_detail = s.column_text(7);
  run.counts = {s.column_int64(8),  s.column_int64(9),  s.column_int64(10), s.column_int64(11),
                s.column_int64(12), s.column_int64(13), s.column_int64(14), s.column_int64(15)};
  return run;
}

}  // namespace

SqliteRunLog::SqliteRunLog(Database& db) : db_(db) {}

SqliteRunLog::~SqliteRunLog() = default;

Result<RunId> SqliteRunLog::start_run(const std::string& settings_json, const std::string& host,
                                std::int64_t pid, UnixMillis now) {
  Result<Statement> insert = Statement::prepare(
      db_.handle(), "INSERT INTO runs (started_at, host, pid, settings) VALUES (?1, ?2, ?3, ?4)");
  if (!insert) return insert.error();
  insert->bind_int64(1, now).bind_text_or_null(2, host).bind_int64(3, pid).bind_text_or_null(
      4, settings_json);
  if (Status status = insert->run(); !status) return status.error();
  return RunId{sqlite3_last_insert_rowid(db_.handle())};
}

Status SqliteRunLog::add_counts(RunId run_id, const RunCounts& delta) {
  if (!add_counts_) {
    Result<Statement> update = Statement::prepare(
        db_.handle(),
        "UPDATE runs SET requests = requests + ?2, done = done + ?3, failed = failed + ?4,"
        " retried = retried + ?5, throttled = throttled + ?6,"
        " decided_locally = decided_locally + ?7, reused = reused + ?8,"
        " sent_by_image_id = sent_by_image_id + ?9 WHERE id = ?1");
    if (!update) return update.error();
    add_counts_ = std::make_unique<Statement>(std::move(update).value());
  }
  Statement& update = *add_counts_;
  StatementReset reset(update);
  update.bind_int64(1, run_id)
      .bind_int64(2, delta.requests)
      .bind_int64(3, delta.done)
      .bind_int64(4, delta.failed)
      .bind_int64(5, delta.retried)
      .bind_int64(6, delta.throttled)
      .bind_int64(7, delta.decided_locally)
      .bind_int64(8, delta.reused)
      .bind_int64(9, delta.sent_by_image_id);
  if (Status status = update.run(); !status) return status;
  if (sqlite3_changes(db_.handle()) == 0) {
    return Error{"no run " + std::to_string(run_id) + " in " + db_.path()};
  }
  return Status::Ok();
}

Status SqliteRunLog::finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                          UnixMillis now) {
  Result<Statement> update = Statement::prepare(
      db_.handle(),
      "UPDATE runs SET finished_at = ?2, ended_how = ?3, ended_detail = ?4 WHERE id = ?1");
  if (!update) return update.error();
  update->bind_int64(1, run_id).bind_int64(2, now).bind_text(3, ended_how).bind_text_or_null(
      4, detail);
  if (Status status = update->run(); !status) return status;
  if (sqlite3_changes(db_.handle()) == 0) {
    return Error{"no run " + std::to_string(run_id) + " in " + db_.path()};
  }
  return Status::Ok();
}

Result<std::int64_t> SqliteRunLog::mark_crashed_runs() {
  Result<Statement> update = Statement::prepare(
      db_.handle(),
      "UPDATE runs SET ended_how = 'crashed',"
      " finished_at = coalesce((SELECT max(coalesce(finished_at, started_at)) FROM attempts"
      "                         WHERE run_id = runs.id),"
      "                        started_at),"
      " ended_detail = 'pid ' || coalesce(pid, '?') || ' on ' || coalesce(host, '?') ||"
      "   ' stopped without recording how the run ended (killed or crashed)'"
      " WHERE finished_at IS NULL");
  if (!update) return update.error();
  if (Status status = update->run(); !status) return status.error();
  return std::int64_t{sqlite3_changes64(db_.handle())};
}

Result<std::optional<RunRecord>> SqliteRunLog::run(RunId run_id) {
  Result<Statement> select =
      Statement::prepare(db_.handle(), std::string(kRunColumns) + " WHERE id = ?1");
  if (!select) return select.error();
  select->bind_int64(1, run_id);
  Result<bool> row = select->step();
  if (!row) return row.error();
  if (!*row) return std::optional<RunRecord>();
  return std::optional<RunRecord>(read_run(*select));
}

Result<std::vector<RunRecord>> SqliteRunLog::recent_runs(int limit) {
  Result<Statement> select =
      Statement::prepare(db_.handle(), std::string(kRunColumns) + " ORDER BY id DESC LIMIT ?1");
  if (!select) return select.error();
  select->bind_int64(1, limit);
  std::vector<RunRecord> runs;
  for (;;) {
    Result<bool> row = select->step();
    if (!row) return row.error();
    if (!*row) break;
    runs.push_back(read_run(*select));
  }
  return runs;
}

}  // namespace lf
