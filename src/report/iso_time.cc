// Civil-date arithmetic after Howard Hinnant's days_from_civil / civil_from_days.
#include "report/iso_time.h"

#include <cstdint>

namespace lf {
namespace {

constexpr std::int64_t kMillisPerDay = 86'400'000;

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

void put_digits(std::string& out, std::int64_t v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// Reads exactly `n` digits at `pos`; advances `pos`.
bool read_digits(std::string_view s, std::size_t& pos, int n, int& value) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  value = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  return true;
}

Error bad_time(std::string_view text, std::string_view why) {
  return Error{"'" + std::string(text) + "' is not a time I understand (" + std::string(why) +
               "); write an ISO 8601 date or time in UTC, e.g. 2026-11-25, 2026-11-25T14:30:00Z "
               "or 2026-11-25T22:30:00+08:00"};
}

}  // namespace

void append_iso8601_utc(UnixMillis t, std::string& out) {
  std::int64_t days = t / kMillisPerDay;
  std::int64_t ms = t % kMillisPerDay;
  if (ms < 0) {
    ms += kMillisPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  put_digits(out, c.y, 4);
  out.push_back('-');
  put_digits(out, c.m, 2);
  out.push_back('-');
  put_digits(out, c.d, 2);
  out.push_back('T');
  put_digits(out, ms / 3'600'000, 2);
  out.push_back(':');
  put_digits(out, ms / 60'000 % 60, 2);
  out.push_back(':');
  put_digits(out, ms / 1000 % 60, 2);
  out.push_back('.');
  put_digits(out, ms % 1000, 3);
  out.push_back('Z');
}

std::string format_iso8601_utc(UnixMillis t) {
  std::string s;
  s.reserve(24);
  append_iso8601_utc(t, s);
  return s;
}

Result<UnixMillis> parse_iso8601(std::string_view text, DateEnd bare_date) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !read_digits(text, pos, 2, day)) {
    return bad_time(text, "it does not start with YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad_time(text, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return bad_time(text, "day out of range");
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (pos == text.size()) {
    return (days + (bare_date == DateEnd::kEndOfDay ? 1 : 0)) * kMillisPerDay;
  }
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
    return bad_time(text, "expected T between the date and the time");
  }
  ++pos;
  int hour = 0, minute = 0, second = 0, millis = 0;
  if (!read_digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !read_digits(text, pos, 2, minute)) {
    return bad_time(text, "expected HH:MM after the date");
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!read_digits(text, pos, 2, second)) return bad_time(text, "expected two digits of seconds");
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      int scale = 100;
      std::size_t digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        millis += (text[pos] - '0') * scale;  // digits past milliseconds are dropped
        scale /= 10;
        ++pos;
        ++digits;
      }
      if (digits == 0) return bad_time(text, "expected digits after the decimal point");
    }
  }
  if (hour > 23 || minute > 59 || second > 60) return bad_time(text, "time of day out of range");
  std::int64_t offset_minutes = 0;
  if (pos < text.size()) {
    const char c = text[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == text.size()) {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(text, pos, 2, oh)) return bad_time(text, "expected a UTC offset like +08:00");
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (pos < text.size() && !read_digits(text, pos, 2, om)) {
        return bad_time(text, "expected a UTC offset like +08:00");
      }
      if (oh > 23 || om > 59) return bad_time(text, "UTC offset out of range");
      offset_minutes = (oh * 60 + om) * (c == '+' ? 1 : -1);
    }
    if (pos != text.size()) return bad_time(text, "unexpected characters after the time");
  }
  const std::int64_t seconds = days * 86'400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace lf
