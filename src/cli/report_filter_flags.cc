// Parsing and validating the job filter flags.
#include "cli/report_filter_flags.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "report/iso_time.h"

namespace lf {

void add_filter_flags(CLI::App& cmd, FilterFlags& f) {
  const std::string group = "Filters (combined with AND)";
  cmd.add_option("--state", f.states, "Job state(s), comma-separated: pending, leased, done, failed")
      ->group(group);
  cmd.add_option("--status", f.statuses,
                 "Last status code(s), comma-separated, e.g. FACE_DETECTION_FAILED or TIMEOUT")
      ->group(group);
  cmd.add_option("--tag", f.tag, "Jobs enqueued with this tag (exact)")->group(group);
  cmd.add_option("--since", f.since,
                 "Jobs finished at or after this time, ISO 8601 (UTC unless an offset is given), "
                 "e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00")
      ->group(group);
  cmd.add_option("--until", f.until,
                 "Jobs finished before this time; a bare date includes that whole day")
      ->group(group);
  cmd.add_option("--time", f.time_field,
                 "What --since/--until compare: finished (finished_at, default) or created (enqueue time)")
      ->group(group);
  cmd.add_option("--run", f.run_id, "Jobs with at least one request in run ID (see lfbatch report --format summary)")
      ->group(group);
  cmd.add_option("--min-score", f.min_score, "verify_score at least X (0..1)")->group(group);
  cmd.add_option("--max-score", f.max_score, "verify_score at most X (0..1)")->group(group);
}

Result<JobFilter> to_filter(const FilterFlags& f) {
  JobFilter filter;
  if (!f.states.empty()) {
    Result<std::vector<std::string>> states = parse_states(f.states);
    if (!states) return Error{"--state: " + states.error().message};
    filter.states = *states;
  }
  if (!f.statuses.empty()) {
    Result<std::vector<std::string>> statuses = parse_statuses(f.statuses);
    if (!statuses) return Error{"--status: " + statuses.error().message};
    filter.statuses = *statuses;
  }
  filter.tag = f.tag;
  if (f.time_field == "finished") {
    filter.time_field = JobFilter::TimeField::kFinished;
  } else if (f.time_field == "created") {
    filter.time_field = JobFilter::TimeField::kCreated;
  } else {
    return Error{"--time: '" + f.time_field + "' is not finished or created"};
  }
  if (!f.since.empty()) {
    Result<UnixMillis> t = parse_iso8601(f.since, DateEnd::kStartOfDay);
    if (!t) return Error{"--since: " + t.error().message};
    filter.since = *t;
  }
  if (!f.until.empty()) {
    Result<UnixMillis> t = parse_iso8601(f.until, DateEnd::kEndOfDay);
    if (!t) return Error{"--until: " + t.error().message};
    filter.until = *t;
  }
  if (filter.since && filter.until && *filter.since >= *filter.until) {
    return Error{fmt::format("--since {} is not before --until {}; nothing could match", f.since, f.until)};
  }
  if (f.run_id && *f.run_id <= 0) {
    return Error{fmt::format("--run: {} is not a run id; run ids are positive (see the runs in "
                             "`lfbatch report --format summary`)", *f.run_id)};
  }
  filter.run_id = f.run_id;
  for (const auto& [name, value] : {std::pair{"--min-score", f.min_score}, std::pair{"--max-score", f.max_score}}) {
    if (value && !(*value >= 0 && *value <= 1)) {
      return Error{fmt::format("{}: {} is outside 0..1, the range of verify_score", name, *value)};
    }
  }
  if (f.min_score && f.max_score && *f.min_score > *f.max_score) {
    return Error{fmt::format("--min-score {} is above --max-score {}; nothing could match", *f.min_score,
                             *f.max_score)};
  }
  filter.min_score = f.min_score;
  filter.max_score = f.max_score;
  return filter;
}

}  // namespace lf
