// Duration, clock-time and --on-quota parsing.
#include "runner/run_limits.h"

#include <cctype>
#include <ctime>
#include <string>

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
