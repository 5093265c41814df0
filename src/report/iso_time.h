// ISO 8601 times for reports and filters: UnixMillis <-> "2026-11-25T03:45:55.123Z".
// Pure (no time zone database, no locale): UTC only, offsets like +08:00
// are understood on input.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/result.h"

namespace lf {

// Formats `t` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (always 24 characters for
// years 0000..9999). Appends to `out` (no allocation when it has room).
void append_iso8601_utc(UnixMillis t, std::string& out);
std::string format_iso8601_utc(UnixMillis t);

// Which end of a range a bare date names.
enum class DateEnd {
  kStartOfDay,  // "2026-11-25" -> 2026-11-25T00:00:00Z
  kEndOfDay,    // "2026-11-25" -> 2026-11-26T00:00:00Z (an exclusive upper bound)
};

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" (a space may replace
// the T) followed by nothing (UTC), "Z", or "+HH:MM" / "-HH:MM" / "+HHMM".
// The error names `text` and shows the accepted forms.
Result<UnixMillis> parse_iso8601(std::string_view text, DateEnd bare_date = DateEnd::kStartOfDay);

}  // namespace lf
