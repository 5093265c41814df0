// lfbatch's settings and where they come from. Precedence, highest first:
// command-line flags > environment (LFBATCH_*) > the config file > defaults.
// Credentials come from LINKFACE_API_ID / LINKFACE_API_SECRET or from the
// secrets file the config names, never from a flag (ps would show it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace lf {

inline constexpr const char* kDefaultEndpoint =
    "https://cloudapi.linkface.cn/identity/handhold_idcard_verification";

struct RetrySettings {
  int max_attempts = 5;             // requests per job before it fails for good
  std::int64_t base_delay_ms = 500; // first backoff cap; doubles per attempt
  std::int64_t max_delay_ms = 60'000;
  int download_attempts = 3;                // file_url jobs meeting DOWNLOAD_ERROR/_TIMEOUT
  std::int64_t download_delay_ms = 30'000;  // before the first such retry; doubles
};

struct TimeoutSettings {
  std::int64_t connect_ms = 10'000;
  std::int64_t request_ms = 60'000; // from sending the request to the last byte of the answer
};

struct Config {
  std::string endpoint = kDefaultEndpoint;  // full URL of the API path
  std::string database = "lfbatch.db";
  std::string secrets_file;                 // JSON {"api_id","api_secret"}; must not be readable by others
  int concurrency = 16;                     // requests in flight
  double rate = 0;                          // requests/s; 0 = not known, found adaptively
  double burst = 0;                         // token bucket size; 0 = max(1, rate)
  double share = 1;                         // use at most this share of the limit found (0, 1]
  std::string outage_limit = "30m";         // give up on an outage after this; "0": never
  int invalid_argument_streak = 20;         // stop after this many INVALID_ARGUMENT in a row; 0: never
  RetrySettings retry;
  TimeoutSettings timeouts;
  bool auto_rotate = false;                 // default for enqueue
  double threshold = 0.7;                   // pass/fail in reports
  std::int64_t lease_seconds = 120;
  bool insecure = false;                    // skip TLS verification (warns)
  std::string ca_file;                      // extra CA bundle, e.g. a corporate proxy's
  // Requests per calendar day across runs (0: no budget), the day's time zone
  // ("local", "UTC", "+08:00", "Asia/Shanghai").
  std::int64_t max_requests_per_day = 0;
  std::string budget_time_zone = "local";
  // How long an upload's image_id is sent (file_id) instead of the same bytes
  // again: a duration ("7d", "12h"), or "0" for never.
  std::string image_id_max_age = "7d";
  bool send_file_names = false;             // the multipart filename: local base name, else "image.jpg"
  std::string metrics_file;                 // run: Prometheus text file written at the end; empty: none
};

// The API account. The secret is held only in memory and never logged.
struct Credentials {
  std::string api_id;
  std::string api_secret;
};

// Reads `config_path` (empty: $LFBATCH_CONFIG if set, else no file, defaults
// only) and overlays LFBATCH_ENDPOINT, LFBATCH_DB, LFBATCH_CONCURRENCY and
// LFBATCH_RATE. Relative paths in the file (database, secrets_file, ca_file)
// are relative to the file's directory. Unknown keys and values of the wrong
// type are errors; every error names the file or variable, the key and the fix.
Result<Config> load_config(const std::string& config_path);

// Credentials from the environment, else from `config.secrets_file`.
// Refuses a secrets file that group or others can read, saying how to fix
// it (chmod 600). Errors say which variables to set and never contain the
// secret. The secret is registered with the log redactor (logging.h).
Result<Credentials> load_credentials(const Config& config);

}  // namespace lf
