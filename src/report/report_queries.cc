// SQL for reports, retry and jobs, on the raw SQLite handle of a Database.
#include "report/report_queries.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "core/api_status.h"
#include "report/iso_time.h"

namespace lf {

void JobCursor::Finalize::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

namespace {

using StmtPtr = std::unique_ptr<sqlite3_stmt, JobCursor::Finalize>;



constexpr std::string_view kStates[] = {"pending", "leased", "done", "failed"};

Error db_error(sqlite3* db, std::string_view what) {
  return Error{std::string(what) + ": " + sqlite3_errmsg(db) + " (database " +
               (sqlite3_db_filename(db, "main") ? sqlite3_db_filename(db, "main") : "?") + ")"};
}

Result<StmtPtr> prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return db_error(db, "preparing a report query");
  }
  return StmtPtr(stmt);
}

void bind_all(sqlite3_stmt* stmt, const std::vector<SqlValue>& params, int first = 1) {
  int index = first;
  for (const SqlValue& v : params) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      sqlite3_bind_int64(stmt, index, *i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      sqlite3_bind_double(stmt, index, *d);
    } else {
      const std::string& s = std::get<std::string>(v);
      sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    ++index;
  }
}

std::string_view column_view(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (!text) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))};
}

std::string column_string(sqlite3_stmt* stmt, int column) { return std::string(column_view(stmt, column)); }

std::optional<std::int64_t> column_optional_int(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, column);
}

std::optional<double> column_optional_double(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(stmt, column);
}

// Steps through every row of `stmt`, calling `on_row` for each.
template <typename F>
Status for_each_row(sqlite3* db, sqlite3_stmt* stmt, F&& on_row) {
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return db_error(db, "reading the database for a report");
    on_row(stmt);
  }
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

std::string placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ",?";
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

std::string SqlConditions::where() const {
  if (conditions.empty()) return "";
  return " WHERE " + join(conditions, " AND ");
}

SqlConditions filter_conditions(const JobFilter& f) {
  SqlConditions c;
  if (!f.states.empty()) {
    c.conditions.push_back("j.state IN (" + placeholders(f.states.size()) + ")");
    for (const std::string& s : f.states) c.params.emplace_back(s);
  }
  if (!f.statuses.empty()) {
    c.conditions.push_back("j.api_status IN (" + placeholders(f.statuses.size()) + ")");
    for (const std::string& s : f.statuses) c.params.emplace_back(s);
  }
  if (f.tag) {
    c.conditions.push_back("j.tag = ?");
    c.params.emplace_back(*f.tag);
  }
  const std::string field = f.time_field == JobFilter::TimeField::kFinished ? "j.finished_at" : "j.created_at";
  if (f.since) {
    c.conditions.push_back(field + " >= ?");
    c.params.emplace_back(std::int64_t{*f.since});
  }
  if (f.until) {
    c.conditions.push_back(field + " < ?");
    c.params.emplace_back(std::int64_t{*f.until});
  }
  if (f.run_id) {
    c.conditions.push_back("j.id IN (SELECT a.job_id FROM attempts a WHERE a.run_id = ?)");
    c.params.emplace_back(std::int64_t{*f.run_id});
  }
  if (f.min_score) {
    c.conditions.push_back("j.verify_score >= ?");
    c.params.emplace_back(*f.min_score);
  }
  if (f.max_score) {
    c.conditions.push_back("j.verify_score <= ?");
    c.params.emplace_back(*f.max_score);
  }
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

// ---- the cursor

Result<JobCursor> JobCursor::open(Database& db, const JobFilter& filter, bool with_attempt_times,
                                  std::optional<std::int64_t> limit) {
  const SqlConditions c = filter_conditions(filter);
  std::string sql =
      "SELECT j.id, j.source, j.source_kind, j.state, j.verify_score, j.image_id, j.request_id, "
      "j.api_status, j.reason, j.http_status, j.attempts, j.tag, j.created_at, j.finished_at, "
      "j.decided_by, j.reused_from, j.content_hash";
  if (with_attempt_times) {
    // One index lookup per job on attempts(job_id); measured against a
    // GROUP BY join it was as fast, and it streams (see scripts/bench_report.sh).
    sql += ", (SELECT MIN(a.started_at) FROM attempts a WHERE a.job_id = j.id)"
           ", (SELECT MAX(a.started_at) FROM attempts a WHERE a.job_id = j.id)";
  }
  sql += " FROM jobs j" + c.where() + " ORDER BY j.id";
  if (limit) sql += " LIMIT " + std::to_string(std::max<std::int64_t>(0, *limit));
  sqlite3* handle = db.handle();
  Result<StmtPtr> stmt = prepare(handle, sql);
  if (!stmt) return stmt.error();
  bind_all(stmt->get(), c.params);
  JobCursor cursor(handle, stmt->release(), with_attempt_times);
  return cursor;
}

Result<bool> JobCursor::next() {
  sqlite3_stmt* s = stmt_.get();
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return db_error(db_, "reading jobs");
  row_.id = sqlite3_column_int64(s, 0);
  row_.source = column_view(s, 1);
  row_.source_kind = column_view(s, 2);
  row_.state = column_view(s, 3);
  row_.verify_score = column_optional_double(s, 4);
  row_.image_id = column_view(s, 5);
  row_.request_id = column_view(s, 6);
  row_.api_status = column_view(s, 7);
  row_.reason = column_view(s, 8);
  row_.http_status = column_optional_int(s, 9);
  row_.attempts = sqlite3_column_int64(s, 10);
  row_.tag = column_view(s, 11);
  row_.created_at = sqlite3_column_int64(s, 12);
  row_.finished_at = column_optional_int(s, 13);
  row_.decided_by = column_view(s, 14);
  row_.reused_from = column_optional_int(s, 15);
  row_.content_hash = column_view(s, 16);
  if (with_attempt_times_) {
    row_.first_attempt_at = column_optional_int(s, 17);
    row_.last_attempt_at = column_optional_int(s, 18);
  }
  return true;
}

// ---- the summary

Result<ReportSummary> summarize(Database& db, const JobFilter& filter, double threshold, UnixMillis now,
                                int failure_limit) {
  sqlite3* h = db.handle();
  ReportSummary s;
  s.database = db.path();
  s.generated_at = now;
  s.filter = filter.describe();
  s.threshold = threshold;

  // One read transaction: every figure comes from the same snapshot.
  if (sqlite3_exec(h, "BEGIN DEFERRED", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(h, "starting a read for the summary");
  }
  struct EndRead {
    sqlite3* h;
    ~EndRead() { sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr); }
  } end_read{h};

  const SqlConditions c = filter_conditions(filter);
  auto with = [&](const std::string& extra) {
    SqlConditions more = c;
    more.conditions.push_back(extra);
    return more.where();
  };

  {  // jobs by state and, for done/failed ones, by who decided: one scan.
    // Sums rather than a second GROUP BY key: at 1M jobs the two-key
    // grouping took 1.4 s where this takes 0.9 s (state alone: 0.7 s).
    Result<StmtPtr> st = prepare(h,
                                 "SELECT j.state, count(*), sum(j.decided_by = 'preflight'), "
                                 "sum(j.decided_by = 'reused') FROM jobs j" + c.where() + " GROUP BY j.state");
    if (!st) return st.error();
    bind_all(st->get(), c.params);
    struct Group {
      std::string state;
      std::int64_t count, preflight, reused;
    };
    std::vector<Group> found;
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          found.push_back({column_string(r, 0), sqlite3_column_int64(r, 1), sqlite3_column_int64(r, 2),
                           sqlite3_column_int64(r, 3)});
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
    Result<StmtPtr> st = prepare(h, "SELECT j.api_status, count(*) FROM jobs j" +
                                        with("j.state IN ('done','failed')") +
                                        " GROUP BY j.api_status ORDER BY 2 DESC, 1");
    if (!st) return st.error();
    bind_all(st->get(), c.params);
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          s.by_status.push_back({column_string(r, 0), sqlite3_column_int64(r, 1)});
        });
        !ok) {
      return ok.error();
    }
  }
  {  // failure reasons
    Result<StmtPtr> st = prepare(h, "SELECT j.api_status, j.reason, count(*) FROM jobs j" +
                                        with("j.state = 'failed'") +
                                        " GROUP BY j.api_status, j.reason ORDER BY 3 DESC, 1, 2 LIMIT 50");
    if (!st) return st.error();
    bind_all(st->get(), c.params);
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          std::string name = column_string(r, 0);
          const std::string reason = column_string(r, 1);
          if (!reason.empty()) name += ": " + reason;
          s.failure_reasons.push_back({name, sqlite3_column_int64(r, 2)});
        });
        !ok) {
      return ok.error();
    }
  }
  {  // scores, streamed into fixed memory
    Result<StmtPtr> st =
        prepare(h, "SELECT j.verify_score FROM jobs j" + with("j.verify_score IS NOT NULL"));
    if (!st) return st.error();
    bind_all(st->get(), c.params);
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          const double v = sqlite3_column_double(r, 0);
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
    Result<StmtPtr> st = prepare(h, "SELECT j.id, j.source, j.api_status, j.reason, j.attempts, j.finished_at, j.tag "
                                    "FROM jobs j" + with("j.state = 'failed'") + " ORDER BY j.id LIMIT ?");
    if (!st) return st.error();
    bind_all(st->get(), c.params);
    sqlite3_bind_int(st->get(), static_cast<int>(c.params.size()) + 1, std::max(0, failure_limit));
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          s.failures.push_back(FailureRow{sqlite3_column_int64(r, 0), column_string(r, 1), column_string(r, 2),
                                          column_string(r, 3), sqlite3_column_int64(r, 4),
                                          column_optional_int(r, 5), column_string(r, 6)});
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
        "    sum(api_status = 'RATE_LIMIT_EXCEEDED') AS throttled, "
        "    sum(api_status IN (" + wire + ") AND api_status NOT IN ('RATE_LIMIT_EXCEEDED','OUT_OF_QUOTA')) AS quota_used, "
        "    sum(finished_at IS NOT NULL AND (api_status IS NULL OR api_status NOT IN (" + wire +
        "))) AS transport, "
        "    sum(finished_at IS NULL AND disposition = 'in_doubt') AS in_doubt, "
        "    sum(disposition = 'done') AS done, "
        "    sum(disposition = 'permanent_failure') AS failed, "
        "    sum(disposition = 'image_id_expired') AS image_ids_expired, "
        "    max(finished_at) AS last_at "
        "  FROM attempts GROUP BY run_id) a ON a.run_id = r.id";
    if (filter.run_id) sql += " WHERE r.id = ?";
    sql += " ORDER BY r.started_at, r.id";
    Result<StmtPtr> st = prepare(h, sql);
    if (!st) return st.error();
    if (filter.run_id) sqlite3_bind_int64(st->get(), 1, *filter.run_id);
    if (Status ok = for_each_row(h, st->get(), [&](sqlite3_stmt* r) {
          RunSummary run;
          run.id = sqlite3_column_int64(r, 0);
          run.started_at = sqlite3_column_int64(r, 1);
          run.finished_at = column_optional_int(r, 2);
          run.host = column_string(r, 3);
          run.ended_how = column_string(r, 4);
          run.ended_detail = column_string(r, 5);
          run.requests = sqlite3_column_int64(r, 6);
          run.throttled = sqlite3_column_int64(r, 7);
          run.quota_used = sqlite3_column_int64(r, 8);
          run.transport_failures = sqlite3_column_int64(r, 9);
          run.done = sqlite3_column_int64(r, 10);
          run.failed = sqlite3_column_int64(r, 11);
          run.last_attempt_at = column_optional_int(r, 12);
          run.in_doubt = sqlite3_column_int64(r, 13);
          run.decided_locally = sqlite3_column_int64(r, 14);
          run.reused = sqlite3_column_int64(r, 15);
          run.sent_by_image_id = sqlite3_column_int64(r, 16);
          run.image_ids_expired = sqlite3_column_int64(r, 17);
          s.in_doubt += run.in_doubt;
          s.runs.push_back(std::move(run));
        });
        !ok) {
      return ok.error();
    }
  }
  return s;
}

// ---- acting on results

Result<std::int64_t> count_jobs(Database& db, const JobFilter& filter) {
  sqlite3* h = db.handle();
  const SqlConditions c = filter_conditions(filter);
  Result<StmtPtr> st = prepare(h, "SELECT count(*) FROM jobs j" + c.where());
  if (!st) return st.error();
  bind_all(st->get(), c.params);
  if (sqlite3_step(st->get()) != SQLITE_ROW) return db_error(h, "counting jobs");
  return sqlite3_column_int64(st->get(), 0);
}

namespace {

// Ids per re-queue transaction: each holds the write lock for a few ms (a
// chunk of finished jobs: ~10 ms on the bench machine), so a running runner
// that leases or settles meanwhile waits no longer than that.
constexpr std::int64_t kRequeueChunkIds = 4'096;
// Long enough for a writer polling the lock every millisecond to take it.
constexpr std::chrono::milliseconds kPauseBetweenChunks{2};

}  // namespace

Result<std::int64_t> requeue(Database& db, const JobFilter& filter, UnixMillis now) {
  sqlite3* h = db.handle();
  // The run filter as a lookup per job on attempts(job_id): the IN list of
  // filter_conditions() would be rebuilt from every attempt of the run for
  // each chunk.
  JobFilter without_run = filter;
  without_run.run_id.reset();
  SqlConditions c = filter_conditions(without_run);
  c.conditions.insert(c.conditions.begin(), "j.id >= ?2 AND j.id < ?3");
  c.conditions.push_back("j.state IN ('done','failed')");
  if (filter.run_id) {
    c.conditions.push_back("EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = j.id AND a.run_id = ?)");
    c.params.emplace_back(std::int64_t{*filter.run_id});
  }
  const std::string sql =
      "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = ?1, lease_owner = NULL, "
      "lease_expires_at = NULL, verify_score = NULL, image_id = NULL, request_id = NULL, api_status = NULL, "
      "reason = NULL, http_status = NULL, finished_at = NULL, decided_by = NULL, reused_from = NULL, "
      "updated_at = ?1 "
      "WHERE id IN (SELECT j.id FROM jobs j" + c.where() + ")";

  // Jobs added after this are pending: no re-queue concerns them.
  std::int64_t first_id = 0, last_id = -1;
  {
    Result<StmtPtr> range = prepare(h, "SELECT (SELECT min(id) FROM jobs), (SELECT max(id) FROM jobs)");
    if (!range) return range.error();
    if (sqlite3_step(range->get()) != SQLITE_ROW) return db_error(h, "reading the range of job ids");
    if (sqlite3_column_type(range->get(), 0) != SQLITE_NULL) {
      first_id = sqlite3_column_int64(range->get(), 0);
      last_id = sqlite3_column_int64(range->get(), 1);
    }
  }
  Result<StmtPtr> st = prepare(h, sql);
  if (!st) return st.error();
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
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return partial(db_error(h, "starting to re-queue jobs (is another lfbatch writing? it waits up to the busy timeout)"));
    }
    sqlite3_reset(st->get());
    sqlite3_bind_int64(st->get(), 1, now);
    sqlite3_bind_int64(st->get(), 2, begin);
    sqlite3_bind_int64(st->get(), 3, begin + kRequeueChunkIds);
    bind_all(st->get(), c.params, 4);
    if (sqlite3_step(st->get()) != SQLITE_DONE) {
      Error e = db_error(h, "re-queueing jobs");
      sqlite3_reset(st->get());
      sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
      return partial(e);
    }
    const std::int64_t chunk_changed = sqlite3_changes64(h);
    sqlite3_reset(st->get());
    if (sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = db_error(h, "committing the re-queue");
      sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
      return partial(e);
    }
    changed += chunk_changed;
  }
  return changed;
}

Result<std::optional<JobDetail>> job_detail(Database& db, JobId id) {
  sqlite3* h = db.handle();
  Result<StmtPtr> st = prepare(
      h,
      "SELECT id, source_kind, source, auto_rotate, tag, state, attempts, next_attempt_at, lease_owner, "
      "lease_expires_at, verify_score, image_id, request_id, api_status, reason, http_status, content_hash, "
      "created_at, updated_at, finished_at, decided_by, reused_from FROM jobs WHERE id = ?");
  if (!st) return st.error();
  sqlite3_bind_int64(st->get(), 1, id);
  const int rc = sqlite3_step(st->get());
  if (rc == SQLITE_DONE) return std::optional<JobDetail>();
  if (rc != SQLITE_ROW) return db_error(h, "reading job " + std::to_string(id));
  sqlite3_stmt* r = st->get();
  JobDetail d;
  d.id = sqlite3_column_int64(r, 0);
  d.source_kind = column_string(r, 1);
  d.source = column_string(r, 2);
  d.auto_rotate = sqlite3_column_int64(r, 3) != 0;
  d.tag = column_string(r, 4);
  d.state = column_string(r, 5);
  d.attempts = sqlite3_column_int64(r, 6);
  d.next_attempt_at = sqlite3_column_int64(r, 7);
  d.lease_owner = column_string(r, 8);
  d.lease_expires_at = column_optional_int(r, 9);
  d.verify_score = column_optional_double(r, 10);
  d.image_id = column_string(r, 11);
  d.request_id = column_string(r, 12);
  d.api_status = column_string(r, 13);
  d.reason = column_string(r, 14);
  d.http_status = column_optional_int(r, 15);
  d.content_hash = column_string(r, 16);
  d.created_at = sqlite3_column_int64(r, 17);
  d.updated_at = sqlite3_column_int64(r, 18);
  d.finished_at = column_optional_int(r, 19);
  d.decided_by = column_string(r, 20);
  d.reused_from = column_optional_int(r, 21);
  st->reset();

  Result<StmtPtr> at = prepare(h,
                               "SELECT id, run_id, started_at, finished_at, http_status, api_status, reason, "
                               "request_id, verify_score, image_id, latency_ms, disposition, sent_image_id "
                               "FROM attempts WHERE job_id = ? ORDER BY started_at, id");
  if (!at) return at.error();
  sqlite3_bind_int64(at->get(), 1, id);
  if (Status ok = for_each_row(h, at->get(), [&](sqlite3_stmt* a) {
        AttemptRow row;
        row.id = sqlite3_column_int64(a, 0);
        row.run_id = column_optional_int(a, 1);
        row.started_at = sqlite3_column_int64(a, 2);
        row.finished_at = sqlite3_column_int64(a, 3);
        row.http_status = column_optional_int(a, 4);
        row.api_status = column_string(a, 5);
        row.reason = column_string(a, 6);
        row.request_id = column_string(a, 7);
        row.verify_score = column_optional_double(a, 8);
        row.image_id = column_string(a, 9);
        row.latency_ms = column_optional_double(a, 10);
        row.disposition = column_string(a, 11);
        row.sent_image_id = column_string(a, 12);
        d.attempt_rows.push_back(std::move(row));
      });
      !ok) {
    return ok.error();
  }
  return std::optional<JobDetail>(std::move(d));
}

}  // namespace lf
