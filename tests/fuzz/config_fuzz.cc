// Fuzz target: lfbatch's config file (load_config), read from a scratch file
// with no LFBATCH_* variable set; what it accepts must hold the ranges
// config.h and the example config promise. The same bytes as a secrets file
// (load_credentials).
#include <cmath>
#include <cstdlib>

#include "cli/config.h"
#include "cli/logging.h"
#include "fuzz_targets.h"

namespace lf::fuzz {

int config(const std::uint8_t* data, std::size_t size) {
  static const bool kEnvironmentCleared = [] {
    for (const char* name : {"LFBATCH_CONFIG", "LFBATCH_ENDPOINT", "LFBATCH_DB",
                             "LFBATCH_CONCURRENCY", "LFBATCH_RATE", "LINKFACE_API_ID",
                             "LINKFACE_API_SECRET"}) {
      ::unsetenv(name);
    }
    return true;
  }();
  (void)kEnvironmentCleared;
  const std::string& path =
      write_scratch_file(std::string_view(reinterpret_cast<const char*>(data), size));
  Config secrets;
  secrets.secrets_file = path;  // mode 0600, as load_credentials requires
  auto credentials = load_credentials(secrets);
  if (credentials.ok()) {
    fuzz_check(!credentials->api_id.empty() && !credentials->api_secret.empty(),
               "credentials without id or secret");
  }
  clear_registered_secrets();

  auto config = load_config(path);
  if (!config.ok()) {
    fuzz_check(!config.error().message.empty(), "an Error without a message");
    return 0;
  }
  const Config& c = *config;
  fuzz_check(c.concurrency >= 1, "concurrency below 1 accepted");
  fuzz_check(c.retry.max_attempts >= 1, "retry.max_attempts below 1 accepted");
  fuzz_check(c.retry.base_delay_ms >= 0 && c.retry.base_delay_ms <= c.retry.max_delay_ms,
             "retry delays out of order accepted");
  fuzz_check(c.timeouts.connect_ms >= 1 && c.timeouts.request_ms >= 1, "a timeout below 1 ms accepted");
  fuzz_check(std::isfinite(c.rate) && c.rate >= 0, "a rate not finite or negative accepted");
  fuzz_check(std::isfinite(c.burst) && c.burst >= 0, "a burst not finite or negative accepted");
  fuzz_check(c.threshold >= 0 && c.threshold <= 1, "a threshold outside [0, 1] accepted");
  fuzz_check(c.lease_seconds >= 1, "lease_seconds below 1 accepted");
  fuzz_check(c.max_requests_per_day >= 0, "a negative daily budget accepted");
  return 0;
}

}  // namespace lf::fuzz
