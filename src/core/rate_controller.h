// Client-side rate control shared by every request of a run: a token bucket
// whose rate finds the server's limit without knocking on it, follows it
// when it moves, and leaves a share of it to others.
//
//  - Told nothing, it starts at `initial_rps` and doubles the rate every
//    `slow_start_step` in which it was used (slow start), instead of opening
//    the floodgates at once; once answers come back, never past twice the
//    rate the server admitted in that step (so a round trip longer than a
//    step does not send a round trip's worth at an untested rate).
//  - On RATE_LIMIT_EXCEEDED (once per round trip) it takes as the limit what
//    the server *admitted*: the rate of non-throttled answers over the last
//    `admitted_window` (a throttled answer says nothing about the limit), and
//    never more than the rate it was sending at. It cuts to beta times that
//    and grows back along CUBIC's W(t) = C*(t-K)^3 + Wmax with
//    K = cbrt(Wmax*(1-beta)/C): flat near the old limit, probing beyond it
//    ever faster, so a drop is followed within round trips and a rise is
//    found within seconds. It never runs at more than twice what the server
//    admits (a rate that is not used tells nothing about the limit).
//  - `share` < 1 runs at that share of the limit once one is known (the
//    rest is left to the account's other users); every
//    `share_probe_interval` without a throttle it probes above the last
//    limit once, to find a rise, then goes back to its share.
//  - Told the limit (`ceiling_rps`, --rate), it starts at share x ceiling,
//    never exceeds it, and still backs off on throttles.
//  - Resumed (RateControllerResume: a controller that ran elsewhere, e.g.
//    the account's previous leader in shared_rate_leader.h), it starts at
//    that rate on the CUBIC curve through it, with that last limit, without
//    a slow start; never throttled there, it goes on with the slow start
//    from that rate.
//
// Pure: time is passed in (steady_clock time points), nothing sleeps. Not
// thread-safe: one owner (the runner's pacer) calls it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "core/token_bucket.h"

namespace lf {

struct RateControllerOptions {
  double ceiling_rps = 0;   // the account's known limit (--rate); 0 = unknown
  double burst = 0;         // bucket size (--burst); 0 = max(2, current rate / 10): small, so
                            // that a pause never ends in a burst the server would throttle
  double share = 1;         // of the limit (found or told) to use, in (0, 1] (--share)
  double beta = 0.9;        // decrease to beta x the admitted rate on a throttle
  double scale = 0.4;       // CUBIC's C, in (requests/s) per s^3
  double min_rate = 0.5;    // the rate never drops below this (requests/s)
  bool slow_start = true;   // told nothing: ramp from initial_rps, else unlimited until a throttle
  double initial_rps = 20;
  std::chrono::milliseconds slow_start_step{50};
  std::chrono::milliseconds admitted_window{1000};
  std::chrono::milliseconds share_probe_interval{60'000};
};

// Where a controller that ran before left off: what a successor needs to
// go on from there instead of starting over.
struct RateControllerResume {
  double rate = 0;      // requests/s it allowed; <= 0: nothing to resume (a fresh start)
  double last_max = 0;  // the limit it last found (Wmax); 0: it was never throttled
};

class RateController {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  RateController(RateControllerOptions options, TimePoint now);
  // Goes on from `resume` (see the file comment); a resume without a rate is
  // the constructor above. Told the limit and never throttled, it starts at
  // share x ceiling as above. The rate is clamped as any rate is.
  RateController(RateControllerOptions options, TimePoint now, RateControllerResume resume);

  // Zero when one request may be sent at `now` (its token is then taken);
  // otherwise how long to wait before asking again (nothing is taken).
  Duration acquire(TimePoint now);

  // The answer to a request sent at `sent_at` arrived at `now`; `throttled`
  // when it was RATE_LIMIT_EXCEEDED (put down to the rate, not to the count
  // in flight: see ConcurrencyLimit). Throttles of requests sent before the
  // last decrease do not decrease again (one decrease per round trip, so a
  // burst of throttled in-flight requests does not collapse the rate).
  void on_response(TimePoint sent_at, TimePoint now, bool throttled);

  // The server asked for a pause (Retry-After): nothing is sent before `until`.
  void pause_until(TimePoint until);

  bool limiting() const { return limiting_; }       // the bucket is in force
  bool slow_starting() const { return slow_start_; }
  double rate() const;                              // allowed requests/s; 0 = unlimited
  double admitted_rate(TimePoint now) const;        // non-throttled answers/s, recently
  double last_max_rate() const { return last_max_; }  // the limit as last found (Wmax)
  std::int64_t throttles() const { return throttles_; }
  std::int64_t decreases() const { return decreases_; }

 private:
  static constexpr int kSlots = 20;  // admitted_window in slots

  void count_admitted(TimePoint now);
  void set_rate(double rps, TimePoint now);
  double clamp_rate(double rps) const;
  double burst_for(double rps) const;
  std::int64_t slot_of(TimePoint t) const;
  // Slow start: the rate in force at `t` (the step `t` fell in).
  double ramp_rate_at(TimePoint t) const;
  void note_ramp_step(TimePoint now);

  RateControllerOptions options_;
  TokenBucket bucket_;
  TimePoint start_;
  bool limiting_ = false;
  bool slow_start_ = false;      // doubling each step until the first throttle
  TimePoint step_start_;
  std::int64_t step_sent_ = 0;
  std::int64_t step_admitted_ = 0;  // answers admitted in this step: the ramp's recent rate
  // Slow start's last steps: when each began and its rate, oldest first in
  // ring order (ramp_count_ of them, at most kRampSteps).
  static constexpr int kRampSteps = 8;
  std::array<std::pair<TimePoint, double>, kRampSteps> ramp_{};
  int ramp_count_ = 0;
  bool recovering_ = false;      // a throttle was seen: rate follows the CUBIC curve
  bool share_probing_ = false;   // share < 1: climbing past the last limit to find a rise
  double last_max_ = 0;          // Wmax: the admitted rate at the last throttle
  double k_seconds_ = 0;         // K: time for the curve to climb back to Wmax
  TimePoint curve_origin_{};     // where the curve's t = 0 is
  TimePoint last_decrease_{};
  TimePoint paused_until_{};
  // Admitted answers per slot of admitted_window / kSlots, a ring indexed by
  // slot number modulo kSlots; slot_numbers_ says which slot each holds.
  std::array<std::int64_t, kSlots> admitted_{};
  std::array<std::int64_t, kSlots> slot_numbers_{};
  std::int64_t throttles_ = 0;
  std::int64_t decreases_ = 0;
};

}  // namespace lf
