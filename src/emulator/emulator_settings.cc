// Parsing of lfemu's JSON configuration and of the admin endpoint's changes.
#include "emulator/emulator_settings.h"

#include "emulator/knob_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace lf {
namespace {

using nlohmann::json;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool is_comment_key(const std::string& key) { return !key.empty() && key.front() == '_'; }

Result<double> get_number(const json& v, std::string_view where, std::string_view key,
                          double min, double max) {
  if (!v.is_number()) {
    return Error{std::string(where) + "." + std::string(key) + " must be a number"};
  }
  double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    return Error{std::string(where) + "." + std::string(key) + " must be between " +
                 json(min).dump() + " and " + json(max).dump() + ", got " + v.dump()};
  }
  return d;
}

Result<std::int64_t> get_int(const json& v, std::string_view where, std::string_view key,
                             std::int64_t min, std::int64_t max) {
  if (!v.is_number_integer()) {
    return Error{std::string(where) + "." + std::string(key) + " must be an integer, got " +
                 v.dump()};
  }
  auto d = v.get<std::int64_t>();
  if (d < min || d > max) {
    return Error{std::string(where) + "." + std::string(key) + " must be between " +
                 std::to_string(min) + " and " + std::to_string(max) + ", got " + v.dump()};
  }
  return d;
}

Result<bool> get_bool(const json& v, std::string_view where, std::string_view key) {
  if (!v.is_boolean()) {
    return Error{std::string(where) + "." + std::string(key) + " must be true or false"};
  }
  return v.get<bool>();
}

Result<std::string> get_string(const json& v, std::string_view where, std::string_view key) {
  if (!v.is_string()) {
    return Error{std::string(where) + "." + std::string(key) + " must be a string"};
  }
  return v.get<std::string>();
}

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;

// system_clock counts nanoseconds in an int64 (libstdc++): about 292 years
// either side of 1970. Beyond, converting milliseconds to it overflows.
constexpr std::int64_t kMaxUnixMillis =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::duration::max())
        .count() - 1;

std::optional<std::chrono::system_clock::time_point> time_from_unix_millis(std::int64_t ms) {
  if (ms > kMaxUnixMillis || ms < -kMaxUnixMillis) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// Sets or unsets one knob from `v`; false when `key` is not a knob.
Result<bool> apply_knob(Knobs& k, const std::string& key, const json& v, std::string_view where,
                        bool allow_unset) {
  auto set_double = [&](std::optional<double>& field, double lo, double hi) -> Result<bool> {
    if (v.is_null() && allow_unset) { field.reset(); return true; }
    auto d = get_number(v, where, key, lo, hi);
    if (!d) return d.error();
    field = *d;
    return true;
  };
  auto set_int = [&](std::optional<std::int64_t>& field, std::int64_t lo,
                     std::int64_t hi) -> Result<bool> {
    if (v.is_null() && allow_unset) { field.reset(); return true; }
    auto d = get_int(v, where, key, lo, hi);
    if (!d) return d.error();
    field = *d;
    return true;
  };
  if (key == "rps") return set_double(k.rps, 0, 1e9);
  if (key == "burst") return set_double(k.burst, 0, 1e9);
  if (key == "max_concurrent") return set_int(k.max_concurrent, 0, 1'000'000);
  if (key == "quota") return set_int(k.quota, 0, INT64_MAX / 2);
  if (key == "quota_reset_seconds") return set_int(k.quota_reset_seconds, 0, 366LL * 24 * 3600);
  if (key == "fail_rate") return set_double(k.fail_rate, 0, 1);
  if (key == "latency_ms") return set_int(k.latency_ms, 0, kMaxMs);
  if (key == "latency_jitter_ms") return set_int(k.latency_jitter_ms, 0, kMaxMs);
  if (key == "reset_rate") return set_double(k.reset_rate, 0, 1);
  if (key == "stall_rate") return set_double(k.stall_rate, 0, 1);
  if (key == "stall_ms") return set_int(k.stall_ms, 0, kMaxMs);
  if (key == "truncate_rate") return set_double(k.truncate_rate, 0, 1);
  if (key == "bad_json_rate") return set_double(k.bad_json_rate, 0, 1);
  if (key == "outage_status") {
    if (v.is_number_integer()) {
      const auto code = v.get<std::int64_t>();
      if (code != 0 && code != 502 && code != 503 && code != 504) {
        return Error{std::string(where) + ".outage_status must be 0 (none), 502, 503 or 504, got " +
                     v.dump()};
      }
    }
    return set_int(k.outage_status, 0, 504);
  }
  if (key == "outage_retry_after_s") return set_int(k.outage_retry_after_s, 0, 86'400);
  if (key == "throttle_http_status") {
    if (v.is_number_integer() && v.get<std::int64_t>() != 403 && v.get<std::int64_t>() != 429) {
      return Error{std::string(where) + ".throttle_http_status must be 403 or 429, got " + v.dump()};
    }
    return set_int(k.throttle_http_status, 403, 429);
  }
  if (key == "retry_after") {
    if (v.is_null() && allow_unset) { k.retry_after.reset(); return true; }
    auto b = get_bool(v, where, key);
    if (!b) return b.error();
    k.retry_after = *b;
    return true;
  }
  return false;
}

Status apply_server_json(const json& j, ServerOptions& s) {
  if (!j.is_object()) return Error{"server must be an object"};
  for (const auto& [key, v] : j.items()) {
    if (is_comment_key(key)) continue;
    if (key == "host") {
      auto r = get_string(v, "server", key);
      if (!r) return r.error();
      s.host = *r;
    } else if (key == "port") {
      auto r = get_int(v, "server", key, 0, 65535);
      if (!r) return r.error();
      s.port = static_cast<std::uint16_t>(*r);
    } else if (key == "threads") {
      auto r = get_int(v, "server", key, 1, 256);
      if (!r) return r.error();
      s.threads = static_cast<int>(*r);
    } else if (key == "header_timeout_ms") {
      auto r = get_int(v, "server", key, 1, kMaxMs);
      if (!r) return r.error();
      s.header_timeout_ms = *r;
    } else if (key == "body_timeout_ms") {
      auto r = get_int(v, "server", key, 1, kMaxMs);
      if (!r) return r.error();
      s.body_timeout_ms = *r;
    } else if (key == "write_timeout_ms") {
      auto r = get_int(v, "server", key, 1, kMaxMs);
      if (!r) return r.error();
      s.write_timeout_ms = *r;
    } else if (key == "body_limit_bytes") {
      auto r = get_int(v, "server", key, 1024, 1LL << 30);
      if (!r) return r.error();
      s.body_limit_bytes = static_cast<std::uint64_t>(*r);
    } else {
      return Error{"unknown key server." + key + " (see config/lfemu.example.json)"};
    }
  }
  return {};
}

Status apply_service_json(const json& j, ServiceOptions& s) {
  if (!j.is_object()) return Error{"service must be an object"};
  for (const auto& [key, v] : j.items()) {
    if (is_comment_key(key)) continue;
    if (key == "seed") {
      auto r = get_int(v, "service", key, 0, INT64_MAX);
      if (!r) return r.error();
      s.seed = static_cast<std::uint64_t>(*r);
    } else if (key == "image_store_bytes") {
      auto r = get_int(v, "service", key, 0, 1LL << 40);
      if (!r) return r.error();
      s.image_store_bytes = static_cast<std::uint64_t>(*r);
    } else if (key == "download_timeout_ms") {
      auto r = get_int(v, "service", key, 1, kMaxMs);
      if (!r) return r.error();
      s.download_timeout_ms = *r;
    } else if (key == "allow_remote_downloads") {
      auto r = get_bool(v, "service", key);
      if (!r) return r.error();
      s.allow_remote_downloads = *r;
    } else if (key == "call_log_entries") {
      auto r = get_int(v, "service", key, 0, 1LL << 32);
      if (!r) return r.error();
      s.call_log_entries = static_cast<std::uint64_t>(*r);
    } else {
      return Error{"unknown key service." + key + " (see config/lfemu.example.json)"};
    }
  }
  return {};
}

}  // namespace

Knobs default_knobs() {
  Knobs k;
  k.rps = 0;
  k.burst = 0;
  k.max_concurrent = 0;
  k.quota = 0;
  k.quota_reset_seconds = 0;
  k.retry_after = false;
  k.fail_rate = 0;
  k.latency_ms = 0;
  k.latency_jitter_ms = 0;
  k.reset_rate = 0;
  k.stall_rate = 0;
  k.stall_ms = 30'000;
  k.truncate_rate = 0;
  k.bad_json_rate = 0;
  k.outage_status = 0;
  k.outage_retry_after_s = 0;
  k.throttle_http_status = 403;
  return k;
}

Knobs merge_knobs(const Knobs& base, const Knobs& over) {
  Knobs k = base;
  auto pick = [](auto& field, const auto& o) { if (o) field = o; };
  pick(k.rps, over.rps);
  pick(k.burst, over.burst);
  pick(k.max_concurrent, over.max_concurrent);
  pick(k.quota, over.quota);
  pick(k.quota_reset_seconds, over.quota_reset_seconds);
  pick(k.retry_after, over.retry_after);
  pick(k.fail_rate, over.fail_rate);
  pick(k.latency_ms, over.latency_ms);
  pick(k.latency_jitter_ms, over.latency_jitter_ms);
  pick(k.reset_rate, over.reset_rate);
  pick(k.stall_rate, over.stall_rate);
  pick(k.stall_ms, over.stall_ms);
  pick(k.truncate_rate, over.truncate_rate);
  pick(k.bad_json_rate, over.bad_json_rate);
  pick(k.outage_status, over.outage_status);
  pick(k.outage_retry_after_s, over.outage_retry_after_s);
  pick(k.throttle_http_status, over.throttle_http_status);
  return k;
}

EffectiveKnobs resolve_knobs(const Knobs& k) {
  EffectiveKnobs e;
  e.rps = k.rps.value_or(0);
  double burst = k.burst.value_or(0);
  e.burst = burst > 0 ? burst : std::max(1.0, e.rps / 10);
  e.max_concurrent = k.max_concurrent.value_or(0);
  e.quota = k.quota.value_or(0);
  e.quota_reset_seconds = k.quota_reset_seconds.value_or(0);
  e.retry_after = k.retry_after.value_or(false);
  e.fail_rate = k.fail_rate.value_or(0);
  e.latency_ms = k.latency_ms.value_or(0);
  e.latency_jitter_ms = k.latency_jitter_ms.value_or(0);
  e.reset_rate = k.reset_rate.value_or(0);
  e.stall_rate = k.stall_rate.value_or(0);
  e.stall_ms = k.stall_ms.value_or(30'000);
  e.truncate_rate = k.truncate_rate.value_or(0);
  e.bad_json_rate = k.bad_json_rate.value_or(0);
  e.outage_status = k.outage_status.value_or(0);
  e.outage_retry_after_s = k.outage_retry_after_s.value_or(0);
  e.throttle_http_status = k.throttle_http_status.value_or(403);
  return e;
}

Status apply_knobs_json(const json& j, std::string_view where, Knobs& knobs, bool allow_unset) {
  if (!j.is_object()) return Error{std::string(where) + " must be a JSON object"};
  for (const auto& [key, v] : j.items()) {
    if (is_comment_key(key)) continue;
    auto r = apply_knob(knobs, key, v, where, allow_unset);
    if (!r) return r.error();
    if (!*r) {
      return Error{"unknown key " + std::string(where) + "." + key +
                   " (knobs: rps, burst, max_concurrent, quota, quota_reset_seconds, "
                   "retry_after, fail_rate, latency_ms, latency_jitter_ms, reset_rate, "
                   "stall_rate, stall_ms, truncate_rate, bad_json_rate, outage_status, "
                   "outage_retry_after_s, throttle_http_status)"};
    }
  }
  return {};
}

Status apply_account_json(const json& j, std::string_view where, AccountSpec& account) {
  if (!j.is_object()) return Error{std::string(where) + " must be a JSON object"};
  for (const auto& [key, v] : j.items()) {
    if (is_comment_key(key)) continue;
    if (key == "api_id") {
      auto r = get_string(v, where, key);
      if (!r) return r.error();
      if (r->empty()) return Error{std::string(where) + ".api_id must not be empty"};
      account.api_id = *r;
    } else if (key == "api_secret") {
      auto r = get_string(v, where, key);
      if (!r) return r.error();
      if (r->empty()) return Error{std::string(where) + ".api_secret must not be empty"};
      account.api_secret = *r;
    } else if (key == "permission") {
      auto r = get_bool(v, where, key);
      if (!r) return r.error();
      account.permission = *r;
    } else if (key == "expires_at") {
      if (v.is_null()) {
        account.expires_at.reset();
      } else if (v.is_number_integer()) {
        auto t = v.is_number_unsigned() && v.get<std::uint64_t>() > kMaxUnixMillis
                     ? std::nullopt
                     : time_from_unix_millis(v.get<std::int64_t>());
        if (!t) {
          return Error{std::string(where) + ".expires_at " + v.dump() +
                       " is out of range: give unix milliseconds of a year from 1678 to 2261"};
        }
        account.expires_at = *t;
      } else if (v.is_string()) {
        auto t = parse_iso8601_utc(v.get<std::string>());
        if (!t) {
          return Error{std::string(where) + ".expires_at " + v.dump() +
                       " is not a time: use \"2030-01-01T00:00:00Z\" or unix milliseconds"};
        }
        account.expires_at = *t;
      } else {
        return Error{std::string(where) +
                     ".expires_at must be \"YYYY-MM-DDTHH:MM:SSZ\", unix milliseconds or null"};
      }
    } else {
      auto r = apply_knob(account.knobs, key, v, where, /*allow_unset=*/true);
      if (!r) return r.error();
      if (!*r) {
        return Error{"unknown key " + std::string(where) + "." + key +
                     " (see config/lfemu.example.json)"};
      }
    }
  }
  return {};
}

Result<LfemuConfig> parse_lfemu_config(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    // Not only parse_error: a number beyond a double (1e999) is out_of_range.
    return Error{std::string("not valid JSON: ") + e.what()};
  }
  if (!doc.is_object()) return Error{"the config must be a JSON object"};
  LfemuConfig config;
  for (const auto& [key, v] : doc.items()) {
    if (is_comment_key(key)) continue;
    if (key == "server") {
      if (auto s = apply_server_json(v, config.server); !s) return s.error();
    } else if (key == "service") {
      if (auto s = apply_service_json(v, config.emulator.service); !s) return s.error();
    } else if (key == "schedule") {
      auto phases = parse_schedule(v, "schedule");
      if (!phases) return phases.error();
      config.emulator.schedule = std::move(*phases);
    } else if (key == "defaults") {
      if (auto s = apply_knobs_json(v, "defaults", config.emulator.defaults, false); !s) {
        return s.error();
      }
    } else if (key == "accounts") {
      if (!v.is_array()) return Error{"accounts must be an array of objects"};
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::string where = "accounts[" + std::to_string(i) + "]";
        AccountSpec account;
        if (auto s = apply_account_json(v[i], where, account); !s) return s.error();
        if (account.api_id.empty() || account.api_secret.empty()) {
          return Error{where + " needs api_id and api_secret"};
        }
        for (const auto& other : config.emulator.accounts) {
          if (other.api_id == account.api_id) {
            return Error{where + ": api_id " + in_quotes(account.api_id) + " appears twice"};
          }
        }
        config.emulator.accounts.push_back(std::move(account));
      }
    } else {
      return Error{"unknown top-level key " + in_quotes(key) +
                   " (expected server, service, defaults, schedule, accounts)"};
    }
  }
  return config;
}

Result<LfemuConfig> load_lfemu_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read config file " + path + ": check the path (--config)"};
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_lfemu_config(text.str());
  if (!config) return Error{"config file " + path + ": " + config.error().message};
  return config;
}

Result<AccountSpec> parse_account_flag(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Error{"--account expects ID:SECRET (both non-empty)"};
  }
  AccountSpec account;
  account.api_id = std::string(text.substr(0, colon));
  account.api_secret = std::string(text.substr(colon + 1));
  return account;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text) {
  std::string s(text);
  int y, mo, d, h, mi, sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) != 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
  std::int64_t millis = 0;
  if (!rest.empty() && rest.front() == '.') {
    std::size_t i = 1;
    int digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (digits < 3) millis = millis * 10 + (rest[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) millis *= 10;
    rest.remove_prefix(i);
  }
  std::int64_t offset_s = 0;
  if (rest == "Z" || rest == "z") {
    offset_s = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  // Years up to 9999: the milliseconds fit an int64, the time_point may not.
  return time_from_unix_millis((static_cast<std::int64_t>(t) - offset_s) * 1000 + millis);
}

std::string format_iso8601_utc(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json knobs_to_json(const Knobs& k) {
  json j = json::object();
  auto put = [&](const char* name, const auto& field) {
    if (field) j[name] = *field;
  };
  put("rps", k.rps);
  put("burst", k.burst);
  put("max_concurrent", k.max_concurrent);
  put("quota", k.quota);
  put("quota_reset_seconds", k.quota_reset_seconds);
  put("retry_after", k.retry_after);
  put("fail_rate", k.fail_rate);
  put("latency_ms", k.latency_ms);
  put("latency_jitter_ms", k.latency_jitter_ms);
  put("reset_rate", k.reset_rate);
  put("stall_rate", k.stall_rate);
  put("stall_ms", k.stall_ms);
  put("truncate_rate", k.truncate_rate);
  put("bad_json_rate", k.bad_json_rate);
  put("outage_status", k.outage_status);
  put("outage_retry_after_s", k.outage_retry_after_s);
  put("throttle_http_status", k.throttle_http_status);
  return j;
}

}  // namespace lf
