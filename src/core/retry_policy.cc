// Backoff arithmetic: full jitter over a capped exponential.
#include "core/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace lf {

using std::chrono::milliseconds;

RetryPolicy::RetryPolicy(RetryPolicyOptions options) : options_(options) {
  options_.max_attempts = std::max(1, options_.max_attempts);
  options_.base_delay = std::max(options_.base_delay, milliseconds(0));
  options_.max_delay = std::max(options_.max_delay, options_.base_delay);
  options_.throttle_min = std::max(options_.throttle_min, milliseconds(0));
  options_.throttle_max = std::max(options_.throttle_max, options_.throttle_min);
  options_.download_attempts = std::max(1, options_.download_attempts);
  options_.download_delay = std::max(options_.download_delay, milliseconds(0));
}

bool RetryPolicy::may_retry(int attempts_made) const {
  return attempts_made < options_.max_attempts;
}

std::optional<milliseconds> RetryPolicy::retry_after(std::optional<double> seconds) const {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return std::nullopt;
  double ms = std::min(*seconds * 1000.0, static_cast<double>(options_.max_retry_after.count()));
  return milliseconds(static_cast<std::int64_t>(std::ceil(ms)));
}

milliseconds RetryPolicy::backoff(int attempts_made, const Uniform01& uniform,
                                  std::optional<double> retry_after_seconds) const {
  // base * 2^(n-1), computed in double and capped before any overflow.
  int exponent = std::clamp(attempts_made - 1, 0, 62);
  double cap = std::min(static_cast<double>(options_.max_delay.count()),
                        static_cast<double>(options_.base_delay.count()) * std::ldexp(1.0, exponent));
  double u = std::clamp(uniform(), 0.0, 1.0);
  milliseconds jittered(static_cast<std::int64_t>(u * cap));
  if (auto server = retry_after(retry_after_seconds)) return std::max(jittered, *server);
  return jittered;
}

bool RetryPolicy::may_retry_download(int attempts_made) const {
  return attempts_made < options_.download_attempts;
}

milliseconds RetryPolicy::download_backoff(int attempts_made, const Uniform01& uniform,
                                           std::optional<double> retry_after_seconds) const {
  int exponent = std::clamp(attempts_made - 1, 0, 20);
  double full = static_cast<double>(options_.download_delay.count()) * std::ldexp(1.0, exponent);
  full = std::min(full, static_cast<double>(std::max(options_.max_delay, options_.download_delay).count()) *
                            4);
  double u = std::clamp(uniform(), 0.0, 1.0);
  milliseconds jittered(static_cast<std::int64_t>(full / 2 + u * full / 2));
  if (auto server = retry_after(retry_after_seconds)) return std::max(jittered, *server);
  return jittered;
}

milliseconds RetryPolicy::throttle_delay(const Uniform01& uniform,
                                         std::optional<double> retry_after_seconds) const {
  double span = static_cast<double>((options_.throttle_max - options_.throttle_min).count());
  double u = std::clamp(uniform(), 0.0, 1.0);
  milliseconds jittered = options_.throttle_min + milliseconds(static_cast<std::int64_t>(u * span));
  if (auto server = retry_after(retry_after_seconds)) return std::max(jittered, *server);
  return jittered;
}

}  // namespace lf
