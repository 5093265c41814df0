// A token bucket with injected time: admits `rate` events per second on
// average and up to `burst` at once. Pure (no clock reads, no locks); the
// owner serialises calls. Used by lfemu's per-account limit and the runner.
#pragma once

#include <chrono>

namespace lf {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full (burst tokens). rate_per_sec <= 0 means unlimited.
  // burst < 1 is treated as 1 so that a single event can ever pass.
  TokenBucket(double rate_per_sec, double burst, Clock::time_point now);

  // Takes n tokens if available at `now`; n above the burst is taken as the
  // whole burst (it could never be available otherwise). Time going
  // backwards is ignored.
  bool try_take(Clock::time_point now, double n = 1);

  // How long from `now` until n tokens are available (zero if they are now,
  // or when unlimited). n above the burst is waited for as if n == burst.
  Clock::duration wait_time(Clock::time_point now, double n = 1) const;

  // Change the limits; tokens earned so far at the old rate are kept, capped
  // at the (new) burst. Leaving unlimited (rate from <= 0 to > 0) starts
  // full: to leave it with a new burst, set the burst first.
  void set_rate(double rate_per_sec, Clock::time_point now);
  void set_burst(double burst, Clock::time_point now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }
  bool unlimited() const { return rate_ <= 0; }

  // Tokens available at `now` (for tests and admin counters).
  double available(Clock::time_point now) const;

 private:
  void refill(Clock::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace lf
