// Parsing the runner's limits as users write them: durations ("90s",
// "15m", "1h30m", "500ms"), --until HH:MM (the next such local time) and
// --on-quota (stop | wait=DURATION). Pure; errors name the value and the
// accepted forms.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/result.h"

namespace lf {

// "1h30m", "90s", "250ms", "2d", "45" (seconds); at least one unit-number
// pair, units d h m s ms. Zero and negative durations are errors.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// A duration as parse_duration reads it, largest units first: "30m",
// "1h30m", "2s", "1s500ms", "0s".
std::string duration_text(std::chrono::milliseconds duration);

// The first moment after `now` whose local wall-clock time is `hh_mm`
// ("06:00", "23:59"): today if still ahead, else tomorrow. Uses the
// process's time zone (TZ).
Result<UnixMillis> next_local_time(std::string_view hh_mm, UnixMillis now);

// The starts of the calendar day containing `now` and of the `days` days
// after it (days + 1 instants, ascending, UTC ms) in time zone `zone`:
// "" or "local" (the process's TZ, as --until), "UTC", a fixed offset
// "+08:00" / "-05:30", or an IANA name from the system's zoneinfo
// ("Asia/Shanghai", with its DST rules). Errors name the zone and the forms.
// REQUIRES: for an IANA name, no other thread is running (TZ is set for the
// duration of the call and restored).
Result<std::vector<UnixMillis>> day_starts(std::string_view zone, UnixMillis now, int days);

// "2026-12-02 00:00 +08:00": an instant as local time in `zone` (as
// day_starts reads it), for messages. Same REQUIRES as day_starts.
std::string format_in_zone(std::string_view zone, UnixMillis at);

// --on-quota: "stop" (nullopt: end the run, exit 75) or "wait=DURATION"
// (probe again after DURATION).
Result<std::optional<std::chrono::milliseconds>> parse_on_quota(std::string_view text);

}  // namespace lf
