// lfemu's configuration: server options, service options, the per-account
// limits and faults ("knobs") with their global defaults, and the accounts;
// read from the JSON config file and changed at run time through
// POST /_admin/config. Pure data and parsing, no I/O but load_lfemu_config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.h"

namespace lf {

// Limits and faults. In the global defaults every field is set; in an
// account an unset field falls back to the default.
struct Knobs {
  std::optional<double> rps;                      // admitted requests/s; 0 = unlimited
  std::optional<double> burst;                    // bucket size; 0 = rps/10, at least 1
  std::optional<std::int64_t> max_concurrent;     // requests in flight; 0 = unlimited
  std::optional<std::int64_t> quota;              // requests per period; 0 = unlimited
  std::optional<std::int64_t> quota_reset_seconds;// quota period; 0 = never resets
  std::optional<bool> retry_after;                // send Retry-After on 403 throttling
  std::optional<double> fail_rate;                // fraction answered 500 INTERNAL_ERROR
  std::optional<std::int64_t> latency_ms;         // added before every answer
  std::optional<std::int64_t> latency_jitter_ms;  // plus uniform [0, jitter]
  std::optional<double> reset_rate;               // fraction closed with RST, no answer
  std::optional<double> stall_rate;               // fraction: headers sent, then silence
  std::optional<std::int64_t> stall_ms;           // how long a stall lasts before close
  std::optional<double> truncate_rate;            // fraction: body cut short, then close
  std::optional<double> bad_json_rate;            // fraction answered 200 with non-JSON
  // A gateway in front of the API: 0 = none; 502, 503 or 504 = every request
  // is answered that status with the gateway's HTML page (never reaching the
  // API: nothing billed), with Retry-After when outage_retry_after_s > 0.
  std::optional<std::int64_t> outage_status;
  std::optional<std::int64_t> outage_retry_after_s;
  // The HTTP status of a throttle: 403 (the spec's RATE_LIMIT_EXCEEDED JSON)
  // or 429 (a gateway's "429 Too Many Requests" HTML page).
  std::optional<std::int64_t> throttle_http_status;
};

// The knobs when nothing is configured: no limits, no faults.
Knobs default_knobs();

// `over` where set, else `base`.
Knobs merge_knobs(const Knobs& base, const Knobs& over);

// Knobs with every field resolved (from merge_knobs(defaults, account)).
struct EffectiveKnobs {
  double rps = 0;
  double burst = 1;  // resolved: never 0
  std::int64_t max_concurrent = 0;
  std::int64_t quota = 0;
  std::int64_t quota_reset_seconds = 0;
  bool retry_after = false;
  double fail_rate = 0;
  std::int64_t latency_ms = 0;
  std::int64_t latency_jitter_ms = 0;
  double reset_rate = 0;
  double stall_rate = 0;
  std::int64_t stall_ms = 0;
  double truncate_rate = 0;
  double bad_json_rate = 0;
  std::int64_t outage_status = 0;
  std::int64_t outage_retry_after_s = 0;
  std::int64_t throttle_http_status = 403;
};

// REQUIRES: every field of `knobs` is set.
EffectiveKnobs resolve_knobs(const Knobs& knobs);

struct AccountSpec {
  std::string api_id;
  std::string api_secret;
  std::optional<std::chrono::system_clock::time_point> expires_at;  // KEY_EXPIRED after
  bool permission = true;  // false: NO_PERMISSION
  Knobs knobs;             // overrides of the defaults
};

struct ServiceOptions {
  std::uint64_t seed = 1;                                // faults, ids
  std::uint64_t image_store_bytes = 256ull * 1024 * 1024; // LRU cap of kept uploads
  std::int64_t download_timeout_ms = 5000;               // file_url: whole download
  bool allow_remote_downloads = false;                   // false: loopback hosts only
  std::uint64_t call_log_entries = 0;  // API calls kept for GET /_admin/calls; 0 = off
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port
  int threads = 1;
  std::int64_t header_timeout_ms = 15'000;  // idle keep-alive + request headers
  std::int64_t body_timeout_ms = 60'000;    // whole request body
  std::int64_t write_timeout_ms = 30'000;   // whole response
  std::uint64_t body_limit_bytes = 6ull * 1024 * 1024;  // 5 MB image + form overhead
};

// One phase of a schedule of knobs (knob_schedule.h): `knobs` in force
// from `after_seconds` after the schedule was set until the next phase.
struct SchedulePhase {
  double after_seconds = 0;
  Knobs knobs;  // over the defaults, under an account's own knobs
};

struct EmulatorSettings {
  ServiceOptions service;
  Knobs defaults = default_knobs();
  std::vector<SchedulePhase> schedule;  // from lfemu's start; empty: the defaults alone
  std::vector<AccountSpec> accounts;
};

struct LfemuConfig {
  ServerOptions server;
  EmulatorSettings emulator;
};

// Parses a config document (see config/lfemu.example.json). Keys starting
// with "_" are comments; any other unknown key is an Error naming it.
Result<LfemuConfig> parse_lfemu_config(std::string_view json_text);

// Reads and parses `path`; Errors name the file.
Result<LfemuConfig> load_lfemu_config(const std::string& path);

// Applies the knob fields of JSON object `j` onto `knobs`; a null value
// unsets the field (only meaningful for accounts). `where` names the object
// in errors, e.g. "accounts[demo]".
Status apply_knobs_json(const nlohmann::json& j, std::string_view where, Knobs& knobs,
                        bool allow_unset);

// Applies the account fields of `j` (api_secret, expires_at, permission,
// knobs) onto `account`.
Status apply_account_json(const nlohmann::json& j, std::string_view where, AccountSpec& account);

// "ID:SECRET" (the --account flag) as an account with default knobs.
Result<AccountSpec> parse_account_flag(std::string_view text);

// "2030-01-01T00:00:00Z" (UTC, seconds; fraction and offset +hh:mm allowed);
// nullopt when malformed or beyond what system_clock holds (1678 to 2261).
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text);
std::string format_iso8601_utc(std::chrono::system_clock::time_point t);

nlohmann::json knobs_to_json(const Knobs& knobs);

}  // namespace lf
