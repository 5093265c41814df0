// When to try a job again: capped exponential backoff with full jitter for
// transient failures (counting attempts up to a maximum), a short jittered
// requeue for throttled calls (not counting), and Retry-After honoured.
// Pure: randomness is injected, no clock reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace lf {

// Returns a number uniformly distributed in [0, 1). Injected so tests can
// pin the jitter; the runner passes a seeded std::mt19937_64.
using Uniform01 = std::function<double()>;

struct RetryPolicyOptions {
  int max_attempts = 5;                            // requests per job, throttled ones excluded
  std::chrono::milliseconds base_delay{500};       // backoff cap of the first retry
  std::chrono::milliseconds max_delay{60'000};     // cap of every backoff
  std::chrono::milliseconds throttle_min{100};     // requeue delay after RATE_LIMIT_EXCEEDED:
  std::chrono::milliseconds throttle_max{600};     //   uniform in [throttle_min, throttle_max)
  std::chrono::milliseconds max_retry_after{300'000};  // a larger Retry-After is capped here
  // DOWNLOAD_ERROR / DOWNLOAD_TIMEOUT of a file_url job: the far host's
  // trouble lasts minutes, not milliseconds, so few retries, far apart.
  int download_attempts = 3;                       // requests per job that meet one
  std::chrono::milliseconds download_delay{30'000};  // before the first retry; doubles
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryPolicyOptions options);

  // True when a job that has now been sent `attempts_made` times (this
  // request included) may be sent again after a transient failure.
  bool may_retry(int attempts_made) const;

  // The delay before the next request of a job whose request number
  // `attempts_made` (1 for the first) failed transiently:
  // uniform(0, min(max_delay, base_delay * 2^(attempts_made-1))), or the
  // server's Retry-After when that is longer.
  std::chrono::milliseconds backoff(int attempts_made, const Uniform01& uniform,
                                    std::optional<double> retry_after_seconds = {}) const;

  // The delay before a throttled job may be leased again: short and
  // jittered so that throttled jobs do not come back in lockstep, or the
  // server's Retry-After when that is longer.
  std::chrono::milliseconds throttle_delay(const Uniform01& uniform,
                                           std::optional<double> retry_after_seconds = {}) const;

  // True when a file_url job whose request number `attempts_made` met a
  // download failure may be sent again.
  bool may_retry_download(int attempts_made) const;

  // The delay before that retry: download_delay * 2^(attempts_made-1),
  // jittered in [1/2, 1] of it, or the server's Retry-After when longer.
  std::chrono::milliseconds download_backoff(int attempts_made, const Uniform01& uniform,
                                             std::optional<double> retry_after_seconds = {}) const;

  // A Retry-After value as a delay, capped at max_retry_after; nullopt for
  // an absent, negative or non-finite value.
  std::optional<std::chrono::milliseconds> retry_after(std::optional<double> seconds) const;

  const RetryPolicyOptions& options() const { return options_; }

 private:
  RetryPolicyOptions options_;
};

}  // namespace lf
