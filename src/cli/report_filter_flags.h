// The job filter flags shared by `lfbatch report`, `retry` and `jobs list`
// (--state, --status, --tag, --since, --until, --time, --run, --min-score,
// --max-score), and turning them into a JobFilter with clear errors.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "report/report_queries.h"

namespace CLI {
class App;
}

namespace lf {

// What CLI11 fills; validated by to_filter().
struct FilterFlags {
  std::string states;
  std::string statuses;
  std::optional<std::string> tag;
  std::string since;
  std::string until;
  std::string time_field = "finished";
  std::optional<std::int64_t> run_id;
  std::optional<double> min_score;
  std::optional<double> max_score;
};

// Adds the filter options to `cmd`, writing into `flags` (which must
// outlive parsing and the callback).
void add_filter_flags(CLI::App& cmd, FilterFlags& flags);

// The filter the flags describe; errors name the flag, the bad value and
// the valid values.
Result<JobFilter> to_filter(const FilterFlags& flags);

}  // namespace lf
