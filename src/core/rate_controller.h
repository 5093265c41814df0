// Client-side rate control shared by every request of a run: a token bucket
// whose rate follows the AWS SDKs' "adaptive" retry mode (token bucket +
// CUBIC). Told nothing, it sends freely until the first RATE_LIMIT_EXCEEDED,
// then cuts the rate to beta * the measured send rate and grows it back
// along W(t) = C*(t-K)^3 + Wmax, K = cbrt(Wmax*(1-beta)/C), so it converges
// on the server's limit. Told the limit (`ceiling_rps`, --rate), it starts
// there, never exceeds it, and still backs off on throttles.
//
// Pure: time is passed in (steady_clock time points), nothing sleeps. Not
// thread-safe: one owner (the runner's pacer) calls it.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/token_bucket.h"

namespace lf {

struct RateControllerOptions {
  double ceiling_rps = 0;   // the account's known limit (--rate); 0 = unknown
  double burst = 0;         // bucket size (--burst); 0 = max(2, current rate / 10): small, so
                            // that a pause never ends in a burst the server would throttle
  double beta = 0.7;        // multiplicative decrease on a throttle
  double scale = 0.4;       // CUBIC's C, in (requests/s) per s^3
  double min_rate = 0.5;    // the rate never drops below this (requests/s)
  double smoothing = 0.8;   // weight of the newest window in the measured rate
  std::chrono::milliseconds measure_window{500};
};

class RateController {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  RateController(RateControllerOptions options, TimePoint now);

  // Zero when one request may be sent at `now` (its token is then taken);
  // otherwise how long to wait before asking again (nothing is taken).
  Duration acquire(TimePoint now);

  // The answer to a request sent at `sent_at` arrived at `now`; `throttled`
  // when it was RATE_LIMIT_EXCEEDED. Throttles of requests sent before the
  // last decrease do not decrease again (one decrease per round trip, so a
  // burst of throttled in-flight requests does not collapse the rate).
  void on_response(TimePoint sent_at, TimePoint now, bool throttled);

  // The server asked for a pause (Retry-After): nothing is sent before `until`.
  void pause_until(TimePoint until);

  bool limiting() const { return limiting_; }      // the bucket is in force
  double rate() const;                             // allowed requests/s; 0 = unlimited
  double measured_rate() const { return measured_; }  // smoothed answers/s
  double last_max_rate() const { return last_max_; }
  std::int64_t throttles() const { return throttles_; }
  std::int64_t decreases() const { return decreases_; }

 private:
  void measure(TimePoint now);
  void set_rate(double rps, TimePoint now);
  double clamp_rate(double rps) const;
  double burst_for(double rps) const;

  RateControllerOptions options_;
  TokenBucket bucket_;
  bool limiting_ = false;
  bool recovering_ = false;      // a throttle was seen: rate follows the CUBIC curve
  double last_max_ = 0;          // Wmax: the rate at the last throttle
  double k_seconds_ = 0;         // K: time for the curve to climb back to Wmax
  TimePoint last_decrease_{};
  TimePoint paused_until_{};
  double measured_ = 0;
  std::int64_t window_count_ = 0;
  TimePoint window_start_;
  std::int64_t throttles_ = 0;
  std::int64_t decreases_ = 0;
};

}  // namespace lf
