// SQL for reports, retry and jobs, over a SqlSession (SQLite or PostgreSQL).
#include "report/report_queries.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/api_status.h"
#include "report/iso_time.h"
#include "store/source_text.h"

namespace lf {
namespace {

constexpr std::string_view kStates[] = {"pending", "leased", "done", "failed"};

// An ascending ORDER BY term for a text column, the same on either store:
// bytes, NULL first (SQLite's own order).
//  - The one place the SQL differs by dialect: SQLite compares text as
//    bytes (BINARY); PostgreSQL by the database's collation (under ICU or
//    en_US, "OUT_OF_QUOTA" sorts before "OUTAGE"), unless told "C", which
//    is byte order.
//  - NULLS FIRST for both: PostgreSQL puts NULL last in an ascending order.
// With it, ties in the summary's lists come out in the same order on
// either store.
std::string text_order(const SqlSession& session, std::string_view column) {
  std::string out(column);
  if (session.dialect() == SqlDialect::kPostgresql) out += " COLLATE \"C\"";
  out += " NULLS FIRST";
  return out;
}

// A source as the job was given it. PostgreSQL text holds only UTF-8, so
// the PostgreSQL store keeps other sources as "\x" + hex
// (store/source_text.h); SQLite keeps the bytes. Only text starting "\x"
// can decode to something else, so other sources are not copied.
std::string_view stored_source(const SqlSession& session, std::string_view stored, std::string& scratch) {
  if (session.dialect() != SqlDialect::kPostgresql || !stored.starts_with("\\x")) return stored;
  scratch = decode_stored_source(stored);
  return scratch;
}

// `what` failed: the session's message after it.
Error failed(std::string_view what, const Error& error) {
  return Error{std::string(what) + ": " + error.message};
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// The API's wire statuses as an SQL list of literals: our own constants
// (upper-case names), never user input.
std::string wire_status_sql_list() {
  std::string out;
  for (ApiStatus s : kAllApiStatuses) {
    if (!out.empty()) out += ",";
    out += "'" + std::string(to_string(s)) + "'";
  }
  return out;
}

std::string format_score(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

bool JobFilter::empty() const {
  return states.empty() && statuses.empty() && !tag && !since && !until && !run_id && !min_score &&
         !max_score;
}

std::string JobFilter::describe() const {
  std::vector<std::string> parts;
  if (!states.empty()) parts.push_back("state in (" + join(states, ", ") + ")");
  if (!statuses.empty()) parts.push_back("status in (" + join(statuses, ", ") + ")");
  if (tag) parts.push_back("tag = '" + *tag + "'");
  const char* field = time_field == TimeField::kFinished ? "finished_at" : "created_at";
  if (since) parts.push_back(std::string(field) + " >= " + format_iso8601_utc(*since));
  if (until) parts.push_back(std::string(field) + " < " + format_iso8601_utc(*until));
  if (run_id) parts.push_back("attempted in run #" + std::to_string(*run_id));
  if (min_score) parts.push_back("verify_score >= " + format_score(*min_score));
  if (max_score) parts.push_back("verify_score <= " + format_score(*max_score));
  return parts.empty() ? "all jobs" : join(parts, ", ");
}

Result<std::vector<std::string>> parse_states(std::string_view list) {
  std::vector<std::string> out;
  for (std::string item : split_list(list)) {
    std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::tolower(c); });
    if (std::find(std::begin(kStates), std::end(kStates), item) == std::end(kStates)) {
      return Error{"unknown job state '" + item + "'; use one or more of pending, leased, done, failed "
                   "(comma-separated)"};
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) return Error{"--state needs a value: pending, leased, done or failed"};
  return out;
}

std::vector<std::string> known_status_codes() {
  std::vector<std::string> out;
  for (ApiStatus s : kAllApiStatuses) out.emplace_back(to_string(s));
  for (TransportFailure f : kAllTransportFailures) out.emplace_back(to_string(f));
  return out;
}

Result<std::vector<std::string>> parse_statuses(std::string_view list) {
  const std::vector<std::string> known = known_status_codes();
  std::vector<std::string> out;
  for (std::string item : split_list(list)) {
    std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::toupper(c); });
    if (std::find(known.begin(), known.end(), item) == known.end()) {
      return Error{"unknown status code '" + item + "'; valid codes are " + join(known, ", ")};
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) return Error{"--status needs a code, e.g. FACE_DETECTION_FAILED; valid codes are " + join(known, ", ")};
  return out;
}

std::string SqlConditions::bind(SqlParam value) {
  params.push_back(std::move(value));
  return "?" + std::to_string(first_param + static_cast<int>(params.size()) - 1);
}

std::string SqlConditions::where() const {
  if (conditions.empty()) return "";
  return " WHERE " + join(conditions, " AND ");
}

SqlConditions filter_conditions(const JobFilter& f, int first_param) {
  SqlConditions c;
  c.first_param = first_param;
  // "?3,?4" for a list: numbered, as the PostgreSQL session needs.
  auto bind_list = [&c](const std::vector<std::string>& values) {
    std::vector<std::string> marks;
    for (const std::string& v : values) marks.push_back(c.bind(v));
    return join(marks, ",");
  };
  if (!f.states.empty()) c.conditions.push_back("j.state IN (" + bind_list(f.states) + ")");
  if (!f.statuses.empty()) c.conditions.push_back("j.api_status IN (" + bind_list(f.statuses) + ")");
  if (f.tag) c.conditions.push_back("j.tag = " + c.bind(*f.tag));
  const std::string field = f.time_field == JobFilter::TimeField::kFinished ? "j.finished_at" : "j.created_at";
  if (f.since) c.conditions.push_back(field + " >= " + c.bind(std::int64_t{*f.since}));
  if (f.until) c.conditions.push_back(field + " < " + c.bind(std::int64_t{*f.until}));
  if (f.run_id) {
    c.conditions.push_back("j.id IN (SELECT a.job_id FROM attempts a WHERE a.run_id = " +
                           c.bind(std::int64_t{*f.run_id}) + ")");
  }
  if (f.min_score) c.conditions.push_back("j.verify_score >= " + c.bind(*f.min_score));
  if (f.max_score) c.conditions.push_back("j.verify_score <= " + c.bind(*f.max_score));
  return c;
}

// ---- columns

namespace {

constexpr ReportColumnSpec kColumns[] = {
    {ReportColumn::kId, "id", "the job's id (lfbatch jobs show ID)"},
    {ReportColumn::kSource, "source", "the photo: absolute path, URL or image_id"},
    {ReportColumn::kSourceKind, "source_kind", "path, url or file_id"},
    {ReportColumn::kState, "state", "pending, leased, done or failed"},
    {ReportColumn::kVerifyScore, "verify_score", "the API's score, 0..1 (done jobs)"},
    {ReportColumn::kDecision, "decision", "pass or fail at the threshold; empty without a score"},
    {ReportColumn::kImageId, "image_id", "the API's id of the uploaded image"},
    {ReportColumn::kRequestId, "request_id", "the API's id of the last request"},
    {ReportColumn::kApiStatus, "api_status", "the last status: an API code or a transport failure"},
    {ReportColumn::kReason, "reason", "the API's reason or the failure's detail"},
    {ReportColumn::kHttpStatus, "http_status", "the last HTTP status"},
    {ReportColumn::kAttempts, "attempts", "requests sent, throttled ones excluded"},
    {ReportColumn::kFirstAttemptAt, "first_attempt_at", "when the first request was sent (ISO 8601, UTC)"},
    {ReportColumn::kLastAttemptAt, "last_attempt_at", "when the last request was sent (ISO 8601, UTC)"},
    {ReportColumn::kTag, "tag", "the tag given at enqueue"},
    {ReportColumn::kCreatedAt, "created_at", "when the job was queued (ISO 8601, UTC)"},
    {ReportColumn::kFinishedAt, "finished_at", "when the job was done or failed (ISO 8601, UTC)"},
    {ReportColumn::kDecidedBy, "decided_by",
     "who decided a final result: api, preflight (the image rules, checked locally: nothing sent) "
     "or reused (the answer of job reused_from for identical content: nothing sent)"},
    {ReportColumn::kReusedFrom, "reused_from", "the job whose answer a reused job took"},
    {ReportColumn::kContentHash, "content_hash", "SHA-256 of the file's bytes as sent or judged"},
};

}  // namespace

std::vector<ReportColumnSpec> report_columns() { return {std::begin(kColumns), std::end(kColumns)}; }

std::vector<ReportColumn> default_report_columns() {
  using C = ReportColumn;
  return {C::kId,         C::kSource,   C::kState,          C::kVerifyScore,   C::kDecision,
          C::kImageId,    C::kRequestId, C::kApiStatus,     C::kReason,        C::kAttempts,
          C::kFirstAttemptAt, C::kLastAttemptAt, C::kTag, C::kDecidedBy};
}

std::string_view column_name(ReportColumn column) { return kColumns[static_cast<int>(column)].name; }

Result<std::vector<ReportColumn>> parse_report_columns(std::string_view list) {
  std::vector<ReportColumn> out;
  for (const std::string& item : split_list(list)) {
    auto it = std::find_if(std::begin(kColumns), std::end(kColumns),
                           [&](const ReportColumnSpec& c) { return c.name == item; });
    if (it == std::end(kColumns)) {
      std::vector<std::string> names;
      for (const ReportColumnSpec& c : kColumns) names.emplace_back(c.name);
      return Error{"unknown column '" + item + "'; --columns takes a comma-separated list of " + join(names, ", ")};
    }
    out.push_back(it->column);
  }
  if (out.empty()) return Error{"--columns needs at least one column name, e.g. --columns source,verify_score"};
  return out;
}

// ---- job rows

Result<std::int64_t> for_each_job(SqlSession& session, const JobFilter& filter, const JobRowCallback& on_job,
                                  const JobScanOptions& options) {
  const SqlConditions c = filter_conditions(filter);
  std::string sql =
      "SELECT j.id, j.source, j.source_kind, j.state, j.verify_score, j.image_id, j.request_id, "
      "j.api_status, j.reason, j.http_status, j.attempts, j.tag, j.created_at, j.finished_at, "
      "j.decided_by, j.reused_from, j.content_hash";
  if (options.with_attempt_times) {
    // One index lookup per job on attempts(job_id); measured against a
    // GROUP BY join it was as fast, and it streams (see scripts/bench_report.sh).
    sql += ", (SELECT MIN(a.started_at) FROM attempts a WHERE a.job_id = j.id)"
           ", (SELECT MAX(a.started_at) FROM attempts a WHERE a.job_id = j.id)";
  }
  sql += " FROM jobs j" + c.where() + " ORDER BY j.id";
  if (options.limit) sql += " LIMIT " + std::to_string(std::max<std::int64_t>(0, *options.limit));

  JobRowView view;
  std::string source;  // a decoded source, when the stored one was encoded
  Result<std::int64_t> rows = session.query(sql, c.params, [&](const SqlRow& r) {
    view.id = r.integer(0);
    view.source = stored_source(session, r.text(1), source);
    view.source_kind = r.text(2);
    view.state = r.text(3);
    view.verify_score = r.optional_real(4);
    view.image_id = r.text(5);
    view.request_id = r.text(6);
    view.api_status = r.text(7);
    view.reason = r.text(8);
    view.http_status = r.optional_integer(9);
    view.attempts = r.integer(10);
    view.tag = r.text(11);
    view.created_at = r.integer(12);
    view.finished_at = r.optional_integer(13);
    view.decided_by = r.text(14);
    view.reused_from = r.optional_integer(15);
    view.content_hash = r.text(16);
    if (options.with_attempt_times) {
      view.first_attempt_at = r.optional_integer(17);
      view.last_attempt_at = r.optional_integer(18);
    }
    return on_job(view);
  });
  return rows;
}

// ---- the summary

Result<ReportSummary> summarize(SqlSession& session, const JobFilter& filter, double threshold,
                                UnixMillis now, int failure_limit) {
  ReportSummary s;
  s.database = session.name();
  s.generated_at = now;
  s.filter = filter.describe();
  s.threshold = threshold;

  // One read transaction: every figure comes from the same snapshot.
  Result<SqlTransaction> read = SqlTransaction::begin(session, SqlTransaction::Mode::kRead);
  if (!read) return failed("starting a read for the summary", read.error());

  const SqlConditions c = filter_conditions(filter);
  auto with = [&](const std::string& extra) {
    SqlConditions more = c;
    more.conditions.push_back(extra);
    return more.where();
  };
  auto read_rows = [&](const std::string& sql, const std::vector<SqlParam>& params,
                 const std::function<void(const SqlRow&)>& on_row) -> Status {
    Result<std::int64_t> rows = session.query(sql, params, [&](const SqlRow& r) {
      on_row(r);
      return Status::Ok();
    });
    if (!rows) return failed("reading the database for a report", rows.error());
    return Status::Ok();
  };

  {  // jobs by state and, for done/failed ones, by who decided: one scan.
    // Counts rather than a second GROUP BY key: at 1M jobs the two-key
    // grouping took 1.4 s where this takes 0.9 s (state alone: 0.7 s).
    struct Group {
      std::string state;
      std::int64_t count, preflight, reused;
    };
    std::vector<Group> found;
    if (Status ok = read_rows("SELECT j.state, count(*), count(*) FILTER (WHERE j.decided_by = 'preflight'), "
                        "count(*) FILTER (WHERE j.decided_by = 'reused') FROM jobs j" + c.where() +
                            " GROUP BY j.state",
                        c.params,
                        [&](const SqlRow& r) {
                          found.push_back({r.string(0), r.integer(1), r.integer(2), r.integer(3)});
                        });
        !ok) {
      return ok.error();
    }
    for (std::string_view state : kStates) {
      NamedCount nc{std::string(state), 0};
      for (const Group& g : found) {
        if (g.state == state) nc.count = g.count;
      }
      s.jobs += nc.count;
      s.by_state.push_back(nc);
    }
    // A re-queued job may keep its old decided_by until it is settled
    // again: only final jobs count.
    std::int64_t api = 0, preflight = 0, reused = 0;
    for (const Group& g : found) {
      if (g.state != "done" && g.state != "failed") continue;
      api += g.count - g.preflight - g.reused;
      preflight += g.preflight;
      reused += g.reused;
    }
    s.by_decider = {{"api", api}, {"preflight", preflight}, {"reused", reused}};
  }
  {  // done/failed jobs by last status
    if (Status ok = read_rows("SELECT j.api_status, count(*) FROM jobs j" + with("j.state IN ('done','failed')") +
                            " GROUP BY j.api_status ORDER BY count(*) DESC, " + text_order(session, "j.api_status"),
                        c.params,
                        [&](const SqlRow& r) { s.by_status.push_back({r.string(0), r.integer(1)}); });
        !ok) {
      return ok.error();
    }
  }
  {  // failure reasons
    if (Status ok = read_rows("SELECT j.api_status, j.reason, count(*) FROM jobs j" + with("j.state = 'failed'") +
                            " GROUP BY j.api_status, j.reason ORDER BY count(*) DESC, " +
                            text_order(session, "j.api_status") + ", " + text_order(session, "j.reason") +
                            " LIMIT 50",
                        c.params,
                        [&](const SqlRow& r) {
                          std::string name = r.string(0);
                          const std::string_view reason = r.text(1);
                          if (!reason.empty()) name += ": " + std::string(reason);
                          s.failure_reasons.push_back({name, r.integer(2)});
                        });
        !ok) {
      return ok.error();
    }
  }
  {  // scores, streamed into fixed memory
    if (Status ok = read_rows("SELECT j.verify_score FROM jobs j" + with("j.verify_score IS NOT NULL"), c.params,
                        [&](const SqlRow& r) {
                          const double v = r.real(0);
                          s.scores.add(v);
                          (v >= threshold ? s.passed : s.below_threshold)++;
                        });
        !ok) {
      return ok.error();
    }
  }
  {  // failures
    for (const NamedCount& st : s.by_state) {
      if (st.name == "failed") s.failures_total = st.count;
    }
    SqlConditions failures = c;
    failures.conditions.push_back("j.state = 'failed'");
    const std::string limit = failures.bind(std::int64_t{std::max(0, failure_limit)});
    std::string source;
    if (Status ok = read_rows("SELECT j.id, j.source, j.api_status, j.reason, j.attempts, j.finished_at, j.tag "
                        "FROM jobs j" + failures.where() + " ORDER BY j.id LIMIT " + limit,
                        failures.params,
                        [&](const SqlRow& r) {
                          s.failures.push_back(FailureRow{r.integer(0),
                                                          std::string(stored_source(session, r.text(1), source)),
                                                          r.string(2), r.string(3), r.integer(4),
                                                          r.optional_integer(5), r.string(6)});
                        });
        !ok) {
      return ok.error();
    }
  }
  {  // runs, with figures from their attempts
    const std::string wire = wire_status_sql_list();
    std::string sql =
        "SELECT r.id, r.started_at, r.finished_at, r.host, r.ended_how, r.ended_detail, "
        "  coalesce(a.requests, 0), coalesce(a.throttled, 0), coalesce(a.quota_used, 0), "
        "  coalesce(a.transport, 0), coalesce(a.done, 0), coalesce(a.failed, 0), a.last_at, "
        "  coalesce(a.in_doubt, 0), r.decided_locally, r.reused, r.sent_by_image_id, "
        "  coalesce(a.image_ids_expired, 0) "
        "FROM runs r LEFT JOIN ("
        "  SELECT run_id, count(*) AS requests, "
        "    count(*) FILTER (WHERE api_status = 'RATE_LIMIT_EXCEEDED') AS throttled, "
        "    count(*) FILTER (WHERE api_status IN (" + wire + ") "
        "      AND api_status NOT IN ('RATE_LIMIT_EXCEEDED','OUT_OF_QUOTA')) AS quota_used, "
        "    count(*) FILTER (WHERE finished_at IS NOT NULL "
        "      AND (api_status IS NULL OR api_status NOT IN (" + wire + "))) AS transport, "
        "    count(*) FILTER (WHERE finished_at IS NULL AND disposition = 'in_doubt') AS in_doubt, "
        "    count(*) FILTER (WHERE disposition = 'done') AS done, "
        "    count(*) FILTER (WHERE disposition = 'permanent_failure') AS failed, "
        "    count(*) FILTER (WHERE disposition = 'image_id_expired') AS image_ids_expired, "
        "    max(finished_at) AS last_at "
        "  FROM attempts GROUP BY run_id) a ON a.run_id = r.id";
    std::vector<SqlParam> params;
    if (filter.run_id) {
      sql += " WHERE r.id = ?1";
      params.emplace_back(std::int64_t{*filter.run_id});
    }
    sql += " ORDER BY r.started_at, r.id";
    if (Status ok = read_rows(sql, params,
                        [&](const SqlRow& r) {
                          RunSummary run;
                          run.id = r.integer(0);
                          run.started_at = r.integer(1);
                          run.finished_at = r.optional_integer(2);
                          run.host = r.string(3);
                          run.ended_how = r.string(4);
                          run.ended_detail = r.string(5);
                          run.requests = r.integer(6);
                          run.throttled = r.integer(7);
                          run.quota_used = r.integer(8);
                          run.transport_failures = r.integer(9);
                          run.done = r.integer(10);
                          run.failed = r.integer(11);
                          run.last_attempt_at = r.optional_integer(12);
                          run.in_doubt = r.integer(13);
                          run.decided_locally = r.integer(14);
                          run.reused = r.integer(15);
                          run.sent_by_image_id = r.integer(16);
                          run.image_ids_expired = r.integer(17);
                          s.in_doubt += run.in_doubt;
                          s.runs.push_back(std::move(run));
                        });
        !ok) {
      return ok.error();
    }
  }
  if (Status ok = read->commit(); !ok) return failed("ending the read for the summary", ok.error());
  return s;
}

// ---- acting on results

Result<std::int64_t> count_jobs(SqlSession& session, const JobFilter& filter) {
  const SqlConditions c = filter_conditions(filter);
  std::int64_t count = 0;
  Result<std::int64_t> rows = session.query("SELECT count(*) FROM jobs j" + c.where(), c.params,
                                            [&](const SqlRow& r) {
                                              count = r.integer(0);
                                              return Status::Ok();
                                            });
  if (!rows) return failed("counting jobs", rows.error());
  return count;
}

namespace {

// Ids per re-queue transaction: each holds the write lock for a few ms (a
// chunk of finished jobs: ~10 ms on the bench machine), so a running runner
// that leases or settles meanwhile waits no longer than that.
constexpr std::int64_t kRequeueChunkIds = 4'096;
// Long enough for a writer polling the lock every millisecond to take it.
constexpr std::chrono::milliseconds kPauseBetweenChunks{2};

}  // namespace

Result<std::int64_t> requeue(SqlSession& session, const JobFilter& filter, UnixMillis now) {
  // ?1 now, ?2 and ?3 the range of ids, then the filter's. The run filter
  // as a lookup per job on attempts(job_id): the IN list of
  // filter_conditions() would be rebuilt from every attempt of the run for
  // each chunk.
  JobFilter without_run = filter;
  without_run.run_id.reset();
  SqlConditions c = filter_conditions(without_run, 4);
  c.conditions.insert(c.conditions.begin(), "j.id >= ?2 AND j.id < ?3");
  c.conditions.push_back("j.state IN ('done','failed')");
  if (filter.run_id) {
    c.conditions.push_back("EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = j.id AND a.run_id = " +
                           c.bind(std::int64_t{*filter.run_id}) + ")");
  }
  // The conditions on the updated row itself (not an IN of a subquery):
  // PostgreSQL re-checks them on a row another session changed meanwhile.
  const std::string sql =
      "UPDATE jobs AS j SET state = 'pending', attempts = 0, next_attempt_at = ?1, lease_owner = NULL, "
      "lease_expires_at = NULL, verify_score = NULL, image_id = NULL, request_id = NULL, api_status = NULL, "
      "reason = NULL, http_status = NULL, finished_at = NULL, decided_by = NULL, reused_from = NULL, "
      "updated_at = ?1" + c.where();

  // Jobs added after this are pending: no re-queue concerns them.
  std::int64_t first_id = 0, last_id = -1;
  // Two subqueries: SQLite reads a lone min() or max() from the index, but
  // scans the table for min(id), max(id) together.
  Result<std::int64_t> range = session.query(
      "SELECT (SELECT min(id) FROM jobs), (SELECT max(id) FROM jobs)", {}, [&](const SqlRow& r) {
    if (!r.is_null(0)) {
      first_id = r.integer(0);
      last_id = r.integer(1);
    }
    return Status::Ok();
  });
  if (!range) return failed("reading the range of job ids", range.error());

  std::vector<SqlParam> params(3);
  params.insert(params.end(), c.params.begin(), c.params.end());
  params[0] = std::int64_t{now};
  std::int64_t changed = 0;
  // An error after some ranges: they stay re-queued; say so, and how to go on.
  auto partial = [&](Error e) {
    if (changed > 0) {
      e.message += "; " + std::to_string(changed) +
                   " jobs were re-queued before it: the same command re-queues the rest";
    }
    return e;
  };
  for (std::int64_t begin = first_id; begin <= last_id; begin += kRequeueChunkIds) {
    if (begin > first_id) std::this_thread::sleep_for(kPauseBetweenChunks);
    Result<SqlTransaction> write = SqlTransaction::begin(session, SqlTransaction::Mode::kWrite);
    if (!write) {
      return partial(failed("starting to re-queue jobs (is another lfbatch writing? it waits up to the busy "
                            "timeout)",
                            write.error()));
    }
    params[1] = begin;
    params[2] = begin + kRequeueChunkIds;
    Result<std::int64_t> chunk_changed = session.run(sql, params);
    if (!chunk_changed) return partial(failed("re-queueing jobs", chunk_changed.error()));
    if (Status ok = write->commit(); !ok) return partial(failed("committing the re-queue", ok.error()));
    changed += *chunk_changed;
  }
  return changed;
}

Result<std::optional<JobDetail>> job_detail(SqlSession& session, JobId id) {
  std::optional<JobDetail> found;
  std::string source;
  Result<std::int64_t> jobs = session.query(
      "SELECT id, source_kind, source, auto_rotate, tag, state, attempts, next_attempt_at, lease_owner, "
      "lease_expires_at, verify_score, image_id, request_id, api_status, reason, http_status, content_hash, "
      "created_at, updated_at, finished_at, decided_by, reused_from FROM jobs WHERE id = ?1",
      {std::int64_t{id}}, [&](const SqlRow& r) {
        JobDetail& d = found.emplace();
        d.id = r.integer(0);
        d.source_kind = r.string(1);
        d.source = std::string(stored_source(session, r.text(2), source));
        d.auto_rotate = r.integer(3) != 0;
        d.tag = r.string(4);
        d.state = r.string(5);
        d.attempts = r.integer(6);
        d.next_attempt_at = r.integer(7);
        d.lease_owner = r.string(8);
        d.lease_expires_at = r.optional_integer(9);
        d.verify_score = r.optional_real(10);
        d.image_id = r.string(11);
        d.request_id = r.string(12);
        d.api_status = r.string(13);
        d.reason = r.string(14);
        d.http_status = r.optional_integer(15);
        d.content_hash = r.string(16);
        d.created_at = r.integer(17);
        d.updated_at = r.integer(18);
        d.finished_at = r.optional_integer(19);
        d.decided_by = r.string(20);
        d.reused_from = r.optional_integer(21);
        return Status::Ok();
      });
  if (!jobs) return failed("reading job " + std::to_string(id), jobs.error());
  if (!found) return found;

  Result<std::int64_t> attempts = session.query(
      "SELECT id, run_id, started_at, finished_at, http_status, api_status, reason, "
      "request_id, verify_score, image_id, latency_ms, disposition, sent_image_id "
      "FROM attempts WHERE job_id = ?1 ORDER BY started_at, id",
      {std::int64_t{id}}, [&](const SqlRow& a) {
        AttemptRow row;
        row.id = a.integer(0);
        row.run_id = a.optional_integer(1);
        row.started_at = a.integer(2);
        row.finished_at = a.integer(3);
        row.http_status = a.optional_integer(4);
        row.api_status = a.string(5);
        row.reason = a.string(6);
        row.request_id = a.string(7);
        row.verify_score = a.optional_real(8);
        row.image_id = a.string(9);
        row.latency_ms = a.optional_real(10);
        row.disposition = a.string(11);
        row.sent_image_id = a.string(12);
        found->attempt_rows.push_back(std::move(row));
        return Status::Ok();
      });
  if (!attempts) return failed("reading the attempts of job " + std::to_string(id), attempts.error());
  return found;
}

}  // namespace lf
