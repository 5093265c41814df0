// The runs table in PostgreSQL.
#include "store/pg_run_log.h"

namespace lf {
namespace {

constexpr const char* kRunColumns =
    "SELECT id, started_at, finished_at, host, pid, settings, ended_how, ended_detail,"
    " requests, done, failed, retried, throttled, decided_locally, reused, sent_by_image_id"
    " FROM runs";

RunRecord read_run(const SqlRow& row) {
  RunRecord run;
  run.id = row.integer(0);
  run.started_at = row.integer(1);
  run.finished_at = row.optional_integer(2);
  run.host = row.string(3);
  run.pid = row.integer(4);
  run.settings = row.string(5);
  run.ended_how = row.string(6);
  run.ended_detail = row.string(7);
  run.counts = {row.integer(8),  row.integer(9),  row.integer(10), row.integer(11),
                row.integer(12), row.integer(13), row.integer(14), row.integer(15)};
  return run;
}

SqlParam text_or_null(std::string_view s) {
  if (s.empty()) return std::monostate{};
  return std::string(s);
}

Status one_run_changed(Result<std::int64_t> changed, RunId run_id, const SqlSession& session) {
  if (!changed) return changed.error();
  if (*changed == 0) return Error{"no run " + std::to_string(run_id) + " in " + session.name()};
  return Status::Ok();
}

}  // namespace

Result<RunId> PgRunLog::start_run(const std::string& settings_json, const std::string& host,
                                  std::int64_t pid, UnixMillis now) {
  std::optional<RunId> id;
  Result<std::int64_t> rows = session_.query(
      "INSERT INTO runs (started_at, host, pid, settings, alive_at, lease_millis)"
      " VALUES (?1, ?2, ?3, ?4, lfbatch_now_ms(), 120000) RETURNING id",
      {std::int64_t{now}, text_or_null(host), std::int64_t{pid}, text_or_null(settings_json)},
      [&](const SqlRow& row) {
        id = row.integer(0);
        return Status::Ok();
      });
  if (!rows) return rows.error();
  if (!id) return Error{"recording the start of a run in " + session_.name() + ": no id came back"};
  return *id;
}

Status PgRunLog::add_counts(RunId run_id, const RunCounts& delta) {
  return one_run_changed(
      session_.run("UPDATE runs SET requests = requests + ?2, done = done + ?3,"
                   " failed = failed + ?4, retried = retried + ?5, throttled = throttled + ?6,"
                   " decided_locally = decided_locally + ?7, reused = reused + ?8,"
                   " sent_by_image_id = sent_by_image_id + ?9 WHERE id = ?1",
                   {std::int64_t{run_id}, delta.requests, delta.done, delta.failed,
                    delta.retried, delta.throttled, delta.decided_locally, delta.reused,
                    delta.sent_by_image_id}),
      run_id, session_);
}

Status PgRunLog::heartbeat(RunId run_id, std::int64_t lease_millis) {
  // A run already marked crashed (cut off longer than its lease) stays so:
  // its jobs went to others, and the settlements it still sends are
  // ignored, since it no longer holds their leases.
  Result<std::int64_t> changed =
      session_.run("UPDATE runs SET alive_at = lfbatch_now_ms(), lease_millis = ?2"
                   " WHERE id = ?1 AND finished_at IS NULL",
                   {std::int64_t{run_id}, std::int64_t{lease_millis}});
  if (!changed) return changed.error();
  if (*changed == 0) {
    return Error{"run " + std::to_string(run_id) + " was taken for dead by another runner (its "
                 "heartbeat stopped for longer than its lease time) and its jobs were recovered; "
                 "if the database or the network stalls this long, give a longer --lease"};
  }
  return Status::Ok();
}

Status PgRunLog::finish_run(RunId run_id, std::string_view ended_how, std::string_view detail,
                            UnixMillis now) {
  return one_run_changed(
      session_.run("UPDATE runs SET finished_at = ?2, ended_how = ?3, ended_detail = ?4"
                   " WHERE id = ?1",
                   {std::int64_t{run_id}, std::int64_t{now}, std::string(ended_how),
                    text_or_null(detail)}),
      run_id, session_);
}

Result<std::int64_t> PgRunLog::mark_crashed_runs() {
  return session_.run(
      "UPDATE runs SET ended_how = 'crashed',"
      " finished_at = coalesce((SELECT max(coalesce(finished_at, started_at)) FROM attempts"
      "                         WHERE run_id = runs.id), alive_at, started_at),"
      " ended_detail = 'pid ' || coalesce(pid::text, '?') || ' on ' || coalesce(host, '?') ||"
      "   ' stopped renewing its leases (killed, crashed or cut off)'"
      " WHERE finished_at IS NULL"
      " AND coalesce(alive_at, started_at) + coalesce(lease_millis, 120000) < lfbatch_now_ms()");
}

Result<std::optional<RunRecord>> PgRunLog::run(RunId run_id) {
  std::optional<RunRecord> found;
  Result<std::int64_t> rows =
      session_.query(std::string(kRunColumns) + " WHERE id = ?1", {std::int64_t{run_id}},
                     [&](const SqlRow& row) {
                       found = read_run(row);
                       return Status::Ok();
                     });
  if (!rows) return rows.error();
  return found;
}

Result<std::vector<RunRecord>> PgRunLog::recent_runs(int limit) {
  std::vector<RunRecord> runs;
  Result<std::int64_t> rows =
      session_.query(std::string(kRunColumns) + " ORDER BY id DESC LIMIT ?1",
                     {std::int64_t{limit}}, [&](const SqlRow& row) {
                       runs.push_back(read_run(row));
                       return Status::Ok();
                     });
  if (!rows) return rows.error();
  return runs;
}

}  // namespace lf
