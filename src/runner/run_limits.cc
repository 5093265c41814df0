// Duration, clock-time, calendar-day and --on-quota parsing.
#include "runner/run_limits.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace lf {

using std::chrono::milliseconds;

namespace {

Error duration_error(std::string_view text) {
  return Error{"'" + std::string(text) +
               "' is not a duration: write a number with units d, h, m, s or ms, "
               "e.g. 90s, 15m, 1h30m, 500ms"};
}

}  // namespace

Result<milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return duration_error(text);
  // A bare number is seconds.
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (text.size() > 9) return duration_error(text);
    auto seconds = std::stoll(std::string(text));
    if (seconds <= 0) return duration_error(text);
    return milliseconds(seconds * 1000);
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 9) return duration_error(text);
    std::int64_t n = std::stoll(std::string(text.substr(start, i - start)));
    std::int64_t unit_ms = 0;
    if (text.substr(i, 2) == "ms") {
      unit_ms = 1;
      i += 2;
    } else if (i < text.size()) {
      switch (text[i]) {
        case 'd': unit_ms = 86'400'000; break;
        case 'h': unit_ms = 3'600'000; break;
        case 'm': unit_ms = 60'000; break;
        case 's': unit_ms = 1000; break;
        default: return duration_error(text);
      }
      ++i;
    } else {
      return duration_error(text);  // "1h30": a number without a unit after units
    }
    total += n * unit_ms;
  }
  if (total <= 0) return duration_error(text);
  return milliseconds(total);
}

std::string duration_text(std::chrono::milliseconds duration) {
  std::int64_t ms = std::max<std::int64_t>(0, duration.count());
  if (ms == 0) return "0s";
  std::string out;
  constexpr std::pair<std::int64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
  for (const auto& [size, unit] : kUnits) {
    if (ms >= size) {
      out += std::to_string(ms / size) + unit;
      ms %= size;
    }
  }
  return out;
}

Result<UnixMillis> next_local_time(std::string_view hh_mm, UnixMillis now) {
  Error error{"'" + std::string(hh_mm) +
              "' is not a time of day: write HH:MM in 24-hour local time, e.g. 06:30"};
  if (hh_mm.size() != 5 || hh_mm[2] != ':') return error;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (!std::isdigit(static_cast<unsigned char>(hh_mm[i]))) return error;
  }
  int hour = (hh_mm[0] - '0') * 10 + (hh_mm[1] - '0');
  int minute = (hh_mm[3] - '0') * 10 + (hh_mm[4] - '0');
  if (hour > 23 || minute > 59) return error;

  std::time_t now_s = static_cast<std::time_t>(now / 1000);
  std::tm local{};
  localtime_r(&now_s, &local);
  for (int day = 0; day < 3; ++day) {
    std::tm target = local;
    target.tm_mday += day;
    target.tm_hour = hour;
    target.tm_min = minute;
    target.tm_sec = 0;
    target.tm_isdst = -1;  // let mktime decide across DST changes
    std::time_t t = std::mktime(&target);
    if (t == static_cast<std::time_t>(-1)) return error;
    UnixMillis at = static_cast<UnixMillis>(t) * 1000;
    if (at > now) return at;
  }
  return error;
}

namespace {

// A fixed offset "+HH:MM" / "-HH:MM" in seconds east of UTC.
std::optional<long> parse_offset(std::string_view zone) {
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
  for (std::size_t i : {1u, 2u, 4u, 5u}) {
    if (!std::isdigit(static_cast<unsigned char>(zone[i]))) return std::nullopt;
  }
  const long hours = (zone[1] - '0') * 10 + (zone[2] - '0');
  const long minutes = (zone[4] - '0') * 10 + (zone[5] - '0');
  if (hours > 14 || minutes > 59) return std::nullopt;
  const long seconds = hours * 3600 + minutes * 60;
  return zone[0] == '-' ? -seconds : seconds;
}

// Sets TZ to `name` for its lifetime (empty: leaves it), restoring it after.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const std::string& name) : active_(!name.empty()) {
    if (!active_) return;
    if (const char* old = std::getenv("TZ")) saved_ = std::string(old);
    ::setenv("TZ", name.c_str(), 1);
    ::tzset();
  }
  ~ScopedTimeZone() {
    if (!active_) return;
    if (saved_) ::setenv("TZ", saved_->c_str(), 1); else ::unsetenv("TZ");
    ::tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  bool active_;
  std::optional<std::string> saved_;
};

// The TZ value for `zone`, or an Error; "" means the process's own.
Result<std::string> tz_value(std::string_view zone) {
  if (zone.empty() || zone == "local") return std::string();
  if (zone == "UTC" || zone == "utc") return std::string("UTC0");
  const bool plausible =
      zone.find("..") == std::string_view::npos && zone.front() != '/' &&
      std::all_of(zone.begin(), zone.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
               c == '+';
      });
  const std::string file = "/usr/share/zoneinfo/" + std::string(zone);
  if (!plausible || ::access(file.c_str(), R_OK) != 0) {
    return Error{"time zone '" + std::string(zone) +
                 "' is not known: write local, UTC, an offset such as +08:00, or a name from "
                 "/usr/share/zoneinfo such as Asia/Shanghai (Debian package tzdata)"};
  }
  return ":" + std::string(zone);
}

}  // namespace

Result<std::vector<UnixMillis>> day_starts(std::string_view zone, UnixMillis now, int days) {
  std::vector<UnixMillis> starts;
  if (std::optional<long> offset = parse_offset(zone)) {
    constexpr UnixMillis kDay = 24LL * 3600 * 1000;
    const UnixMillis shifted = now + *offset * 1000;
    UnixMillis start = (shifted >= 0 ? shifted / kDay : (shifted - kDay + 1) / kDay) * kDay -
                       *offset * 1000;
    for (int d = 0; d <= days; ++d) starts.push_back(start + d * kDay);
    return starts;
  }
  Result<std::string> tz = tz_value(zone);
  if (!tz) return tz.error();
  ScopedTimeZone scoped(*tz);
  std::time_t now_s = static_cast<std::time_t>(now / 1000);
  std::tm local{};
  localtime_r(&now_s, &local);
  for (int d = 0; d <= days; ++d) {
    std::tm midnight{};
    midnight.tm_year = local.tm_year;
    midnight.tm_mon = local.tm_mon;
    midnight.tm_mday = local.tm_mday + d;
    midnight.tm_isdst = -1;  // mktime decides across DST changes
    std::time_t t = std::mktime(&midnight);
    if (t == static_cast<std::time_t>(-1)) {
      return Error{"cannot compute the days of time zone '" + std::string(zone) + "'"};
    }
    starts.push_back(static_cast<UnixMillis>(t) * 1000);
  }
  return starts;
}

std::string format_in_zone(std::string_view zone, UnixMillis at) {
  std::time_t t = static_cast<std::time_t>(at / 1000);
  std::tm tm{};
  long offset = 0;
  if (std::optional<long> fixed = parse_offset(zone)) {
    offset = *fixed;
    std::time_t shifted = t + offset;
    gmtime_r(&shifted, &tm);
  } else {
    Result<std::string> tz = tz_value(zone);
    ScopedTimeZone scoped(tz ? *tz : std::string());
    localtime_r(&t, &tm);
    offset = tm.tm_gmtoff;
  }
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
  const long minutes = (offset < 0 ? -offset : offset) / 60;
  return fmt::format("{} {}{:02}:{:02}", text, offset < 0 ? '-' : '+', minutes / 60,
                     minutes % 60);
}

Result<std::optional<milliseconds>> parse_on_quota(std::string_view text) {
  if (text == "stop") return std::optional<milliseconds>();
  constexpr std::string_view kWait = "wait=";
  if (text.substr(0, kWait.size()) == kWait) {
    auto d = parse_duration(text.substr(kWait.size()));
    if (!d) return Error{"--on-quota " + std::string(text) + ": " + d.error().message};
    return std::optional<milliseconds>(*d);
  }
  return Error{"--on-quota '" + std::string(text) +
               "' is not understood: write 'stop' (end the run, exit 75) or "
               "'wait=DURATION' (e.g. wait=15m: probe again after 15 minutes)"};
}

}  // namespace lf
