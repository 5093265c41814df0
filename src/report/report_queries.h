// What reports, `lfbatch retry` and `lfbatch jobs` read from and do to the
// queue's database: a job filter turned into SQL with bound parameters, job
// rows streamed to a callback (with first and last attempt times), the
// summary aggregates, re-queueing by filter, and one job with its attempts.
//
// Written against SqlSession, so the same code reads either store: the SQL
// is what SQLite and PostgreSQL 15 both run (numbered ?N parameters,
// count(*) FILTER rather than sums of booleans, coalesce, ||). Where the two
// must differ, report_queries.cc says so at the one place it branches on
// the session's dialect.
//
// Lives in src/report rather than src/store because it fills the report's
// data (ReportSummary, ScoreStats); the store does not depend on reports.
//
// Definitions:
//  - first/last attempt time: MIN/MAX(attempts.started_at) of the job (when
//    its first and last requests were sent, throttled ones included);
//  - quota used by a run: its requests that got an API answer, other than
//    RATE_LIMIT_EXCEEDED and OUT_OF_QUOTA (which the server refused before
//    counting); transport failures never reached the server's count;
//  - in doubt: requests recorded as sent by a run that died before storing
//    their answer; the server may or may not have counted them;
//  - decided by: of a done or failed job, jobs.decided_by, NULL read as
//    "api"; a job pre-flight failed at enqueue belongs to no run, so only
//    the job counts (by_decider) include it, never a run's decided_locally;
//  - image_ids expired in a run: its attempts with disposition
//    'image_id_expired' (already counted in its sent_by_image_id, and in
//    its quota used: the server answered them);
//  - a filter's `since` is inclusive and `until` exclusive.
//
// Not thread-safe: use from the thread that owns the session.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/job.h"
#include "core/result.h"
#include "report/report_summary.h"
#include "store/sql_session.h"

namespace lf {

struct JobFilter {
  enum class TimeField { kFinished, kCreated };

  std::vector<std::string> states;    // any of; validated names (parse_states)
  std::vector<std::string> statuses;  // last api_status any of (parse_statuses)
  std::optional<std::string> tag;     // exact
  TimeField time_field = TimeField::kFinished;  // what since/until compare
  std::optional<UnixMillis> since;    // inclusive
  std::optional<UnixMillis> until;    // exclusive
  std::optional<RunId> run_id;        // jobs with at least one attempt in this run
  std::optional<double> min_score;    // inclusive; jobs without a score never match
  std::optional<double> max_score;    // inclusive

  bool empty() const;
  // "state in (failed), status in (FACE_DETECTION_FAILED), tag = 'x'", or "all jobs".
  std::string describe() const;
};

// "done,failed" -> {"done", "failed"}; an unknown state is an error that
// lists the valid ones.
Result<std::vector<std::string>> parse_states(std::string_view list);
// "FACE_DETECTION_FAILED,CORRUPT_IMAGE" -> the codes; an unknown code is an
// error that lists the valid ones (the API's statuses and the transport
// failure codes). Case-insensitive.
Result<std::vector<std::string>> parse_statuses(std::string_view list);
// The API's 17 statuses then the transport failure codes.
std::vector<std::string> known_status_codes();

// A filter as SQL conditions on `jobs j`: "j.state IN (?1,?2)", ... with
// the values to bind, params[i] being ?(first_param + i). Values never enter
// the SQL text.
struct SqlConditions {
  std::vector<std::string> conditions;
  std::vector<SqlParam> params;
  int first_param = 1;

  // Adds `value` to params and returns its placeholder, "?N".
  std::string bind(SqlParam value);
  // " WHERE c1 AND c2" (or "" when there are none).
  std::string where() const;
};
// `first_param`: the number of the filter's first parameter, for a
// statement whose own parameters come first (?1..?first_param-1).
SqlConditions filter_conditions(const JobFilter& filter, int first_param = 1);

// The columns of the CSV export and `jobs list`.
enum class ReportColumn {
  kId,
  kSource,
  kSourceKind,
  kState,
  kVerifyScore,
  kDecision,
  kImageId,
  kRequestId,
  kApiStatus,
  kReason,
  kHttpStatus,
  kAttempts,
  kFirstAttemptAt,
  kLastAttemptAt,
  kTag,
  kCreatedAt,
  kFinishedAt,
  kDecidedBy,
  kReusedFrom,
  kContentHash,
};

struct ReportColumnSpec {
  ReportColumn column;
  std::string_view name;
  std::string_view meaning;
};

std::vector<ReportColumnSpec> report_columns();   // every column, in the order above
std::vector<ReportColumn> default_report_columns();
std::string_view column_name(ReportColumn column);
// "source,verify_score" -> columns; an unknown name is an error that lists
// the valid ones.
Result<std::vector<ReportColumn>> parse_report_columns(std::string_view list);

// One job as for_each_job hands it over. The views are valid only inside
// the callback that received the row.
struct JobRowView {
  JobId id = 0;
  std::string_view source;  // the bytes given at enqueue, on either store
  std::string_view source_kind;
  std::string_view state;
  std::optional<double> verify_score;
  std::string_view image_id;
  std::string_view request_id;
  std::string_view api_status;
  std::string_view reason;
  std::optional<std::int64_t> http_status;
  std::int64_t attempts = 0;
  std::optional<UnixMillis> first_attempt_at;
  std::optional<UnixMillis> last_attempt_at;
  std::string_view tag;
  UnixMillis created_at = 0;
  std::optional<UnixMillis> finished_at;
  std::string_view decided_by;  // NULL in the database: the API (schema/004_content.sql)
  std::optional<JobId> reused_from;
  std::string_view content_hash;
};

struct JobScanOptions {
  // Fill first/last_attempt_at (costs one index lookup per job).
  bool with_attempt_times = false;
  // At most this many rows.
  std::optional<std::int64_t> limit;
};

// Called for each job row in turn; a failed Status stops the scan and is
// returned by for_each_job.
using JobRowCallback = std::function<Status(const JobRowView&)>;

// Hands the job rows matching `filter` to `on_job` in id order, one at a
// time as they are read: memory does not grow with the number of rows.
// Reads one consistent snapshot (a single SELECT). Returns the number of
// rows handed over.
Result<std::int64_t> for_each_job(SqlSession& session, const JobFilter& filter, const JobRowCallback& on_job,
                                  const JobScanOptions& options = {});

// The summary of the jobs matching `filter`, at `threshold`. Runs are all
// runs, or only `filter.run_id` when set. At most `failure_limit` failed
// jobs are listed (failures_total counts them all).
// summary.database is session.name().
Result<ReportSummary> summarize(SqlSession& session, const JobFilter& filter, double threshold,
                                UnixMillis now, int failure_limit = 500);

// How many jobs match `filter`.
Result<std::int64_t> count_jobs(SqlSession& session, const JobFilter& filter);

// Puts the done and failed jobs matching `filter` back to pending, due at
// `now`, with attempts = 0 and the last result cleared; their attempts rows
// (the history) stay. Returns how many jobs were re-queued. One transaction
// per range of a few thousand ids, with a pause between them, so a runner
// never waits long for the write lock; on an error (or a kill) the ranges
// before stay re-queued, and the same call again re-queues the rest.
// REQUIRES: no transaction open on `session` (each range is its own).
Result<std::int64_t> requeue(SqlSession& session, const JobFilter& filter, UnixMillis now);

struct AttemptRow {
  std::int64_t id = 0;
  std::optional<RunId> run_id;
  UnixMillis started_at = 0;
  UnixMillis finished_at = 0;
  std::optional<std::int64_t> http_status;
  std::string api_status;
  std::string reason;
  std::string request_id;
  std::optional<double> verify_score;
  std::string image_id;
  std::optional<double> latency_ms;
  std::string disposition;
  std::string sent_image_id;  // the image_id sent in place of the bytes, if any
};

struct JobDetail {
  JobId id = 0;
  std::string source_kind;
  std::string source;  // the bytes given at enqueue, on either store
  bool auto_rotate = false;
  std::string tag;
  std::string state;
  std::int64_t attempts = 0;
  UnixMillis next_attempt_at = 0;
  std::string lease_owner;
  std::optional<UnixMillis> lease_expires_at;
  std::optional<double> verify_score;
  std::string image_id;
  std::string request_id;
  std::string api_status;
  std::string reason;
  std::optional<std::int64_t> http_status;
  std::string content_hash;
  std::string decided_by;                // "" (the API), "preflight" or "reused"
  std::optional<JobId> reused_from;
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  std::optional<UnixMillis> finished_at;
  std::vector<AttemptRow> attempt_rows;  // oldest first
};

// The job `id` with all its attempts; nullopt when there is no such job.
Result<std::optional<JobDetail>> job_detail(SqlSession& session, JobId id);

}  // namespace lf
