// What a report says about a database, as plain data: counts by state, by
// status and by who decided, the score distribution, the pass rate at a
// threshold, the runs (with what each saved), and the failures. Filled by report_queries (from either store) or by tests;
// rendered by summary_format (text, JSON) and html_report (HTML).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "report/score_stats.h"

namespace lf {

struct NamedCount {
  std::string name;
  std::int64_t count = 0;
};

// One `lfbatch run`, with figures computed from its attempts.
struct RunSummary {
  RunId id = 0;
  UnixMillis started_at = 0;
  std::optional<UnixMillis> finished_at;       // none: still running, or it crashed
  std::optional<UnixMillis> last_attempt_at;   // the last attempt's finished_at
  std::string host;
  std::string ended_how;                       // completed, out_of_quota, ... ("" while running)
  std::string ended_detail;
  std::int64_t requests = 0;     // attempts rows: every request sent
  std::int64_t throttled = 0;    // answered RATE_LIMIT_EXCEEDED
  std::int64_t quota_used = 0;   // answers the server counts: see report_queries.h
  std::int64_t transport_failures = 0;  // no API answer (timeouts, resets, ...)
  std::int64_t in_doubt = 0;     // sent, but the run died before storing the answer
                                 // (maybe billed: not in quota_used)
  std::int64_t done = 0;         // attempts that finished their job as done
  std::int64_t failed = 0;       // attempts that failed their job for good
  // What the run did not pay for (the runs table's counters, schema/004):
  std::int64_t decided_locally = 0;   // jobs it failed by pre-flight: no request
  std::int64_t reused = 0;            // jobs it gave the answer for identical content: no request
  std::int64_t sent_by_image_id = 0;  // requests that sent an earlier upload's image_id, not the bytes
  std::int64_t image_ids_expired = 0; // of those, answered IMAGE_ID_NOT_EXIST (attempts
                                      // 'image_id_expired'): the bytes were then uploaded

  // finished_at - started_at; while unfinished, up to the last attempt.
  double duration_seconds() const;
  // requests / duration; 0 when the duration is 0.
  double requests_per_second() const;
};

// A job that failed for good, for the failures table.
struct FailureRow {
  JobId id = 0;
  std::string source;
  std::string api_status;
  std::string reason;
  std::int64_t attempts = 0;
  std::optional<UnixMillis> finished_at;
  std::string tag;
};

struct ReportSummary {
  std::string database;          // where the report was made from: SqlSession::name()
  UnixMillis generated_at = 0;
  std::string filter;            // human-readable filter ("all jobs" when none)
  double threshold = 0.7;

  std::int64_t jobs = 0;
  std::vector<NamedCount> by_state;   // pending, leased, done, failed (all four, in that order)
  std::vector<NamedCount> by_status;  // last api_status of done/failed jobs, most frequent first
  std::vector<NamedCount> failure_reasons;  // "STATUS: reason" of failed jobs, most frequent first
  // Done/failed jobs by who decided their result: api, preflight, reused
  // (all three, in that order; see schema/004_content.sql). Counts jobs,
  // not runs: a job pre-flight failed at enqueue belongs to no run.
  std::vector<NamedCount> by_decider;

  ScoreStats scores;                 // verify_score of jobs that have one
  std::int64_t passed = 0;           // scored jobs with verify_score >= threshold
  std::int64_t below_threshold = 0;  // scored jobs below it

  std::vector<RunSummary> runs;      // oldest first
  std::int64_t in_doubt = 0;         // attempts in doubt over all runs (maybe billed)

  std::vector<FailureRow> failures;  // the first failed jobs (by id), at most a limit
  std::int64_t failures_total = 0;   // all failed jobs matching the filter

  std::int64_t scored() const { return passed + below_threshold; }
  // by_decider's count for `name` (0 when absent).
  std::int64_t decided_by(std::string_view name) const;
  // Final jobs that cost no request: decided by pre-flight or reused.
  std::int64_t calls_saved() const { return decided_by("preflight") + decided_by("reused"); }
  // Over the runs listed: requests that sent an image_id, and those whose id had expired.
  std::int64_t sent_by_image_id() const;
  std::int64_t image_ids_expired() const;
  // passed / scored; nullopt when nothing was scored.
  std::optional<double> pass_rate() const;
};

}  // namespace lf
