// Parsing the runner's limits as users write them: durations ("90s",
// "15m", "1h30m", "500ms"), --until HH:MM (the next such local time) and
// --on-quota (stop | wait=DURATION). Pure; errors name the value and the
// accepted forms.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/job.h"
#include "core/result.h"

namespace lf {

// "1h30m", "90s", "250ms", "2d", "45" (seconds); at least one unit-number
// pair, units d h m s ms. Zero and negative durations are errors.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The first moment after `now` whose local wall-clock time is `hh_mm`
// ("06:00", "23:59"): today if still ahead, else tomorrow. Uses the
// process's time zone (TZ).
Result<UnixMillis> next_local_time(std::string_view hh_mm, UnixMillis now);

// --on-quota: "stop" (nullopt: end the run, exit 75) or "wait=DURATION"
// (probe again after DURATION).
Result<std::optional<std::chrono::milliseconds>> parse_on_quota(std::string_view text);

}  // namespace lf
