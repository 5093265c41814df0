// Fuzz target: lfemu's config file (parse_lfemu_config); what it accepts
// must resolve, for every account, to knobs in the ranges
// emulator_settings.h describes.
#include <cmath>

#include "emulator/emulator_settings.h"
#include "fuzz_targets.h"

namespace lf::fuzz {
namespace {

bool is_fraction(double d) { return d >= 0 && d <= 1; }

void check_knobs(const EffectiveKnobs& k) {
  fuzz_check(std::isfinite(k.rps) && k.rps >= 0, "rps not finite or negative");
  fuzz_check(std::isfinite(k.burst) && k.burst >= 1, "a resolved burst below 1");
  fuzz_check(is_fraction(k.fail_rate) && is_fraction(k.reset_rate) && is_fraction(k.stall_rate) &&
                 is_fraction(k.truncate_rate) && is_fraction(k.bad_json_rate),
             "a fault rate outside [0, 1]");
  fuzz_check(k.max_concurrent >= 0 && k.quota >= 0 && k.quota_reset_seconds >= 0 &&
                 k.latency_ms >= 0 && k.latency_jitter_ms >= 0 && k.stall_ms >= 0,
             "a negative count or duration");
}

}  // namespace

int lfemu_config(const std::uint8_t* data, std::size_t size) {
  const ExactBytes text(std::string_view(reinterpret_cast<const char*>(data), size));
  auto config = parse_lfemu_config(text.view());
  if (!config.ok()) {
    fuzz_check(!config.error().message.empty(), "an Error without a message");
    return 0;
  }
  const EmulatorSettings& e = config->emulator;
  fuzz_check(config->server.threads >= 1, "fewer than 1 server thread accepted");
  check_knobs(resolve_knobs(e.defaults));
  for (const AccountSpec& account : e.accounts) {
    fuzz_check(!account.api_id.empty() && !account.api_secret.empty(), "an account without id or secret");
    check_knobs(resolve_knobs(merge_knobs(e.defaults, account.knobs)));
  }
  return 0;
}

}  // namespace lf::fuzz
