// The adaptive rate controller's arithmetic (see rate_controller.h).
#include "core/rate_controller.h"

#include <algorithm>
#include <cmath>

namespace lf {

namespace {

double seconds_between(RateController::TimePoint from, RateController::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

RateController::RateController(RateControllerOptions options, TimePoint now)
    : options_(options),
      bucket_(options.ceiling_rps > 0 ? options.ceiling_rps : 1.0,
              burst_for(options.ceiling_rps), now),
      limiting_(options.ceiling_rps > 0),
      window_start_(now) {}

double RateController::rate() const { return limiting_ ? bucket_.rate() : 0.0; }

double RateController::burst_for(double rps) const {
  return options_.burst > 0 ? options_.burst : std::max(2.0, rps / 10);
}

double RateController::clamp_rate(double rps) const {
  if (options_.ceiling_rps > 0) rps = std::min(rps, options_.ceiling_rps);
  return std::max(rps, options_.min_rate);
}

void RateController::set_rate(double rps, TimePoint now) {
  rps = clamp_rate(rps);
  bucket_.set_rate(rps, now);
  bucket_.set_burst(burst_for(rps), now);
}

RateController::Duration RateController::acquire(TimePoint now) {
  if (now < paused_until_) return paused_until_ - now;
  if (!limiting_) return Duration::zero();
  if (bucket_.try_take(now)) return Duration::zero();
  Duration wait = bucket_.wait_time(now);
  return std::max(wait, Duration(std::chrono::microseconds(100)));
}

void RateController::pause_until(TimePoint until) {
  paused_until_ = std::max(paused_until_, until);
}

void RateController::measure(TimePoint now) {
  ++window_count_;
  double elapsed = seconds_between(window_start_, now);
  double window = std::chrono::duration<double>(options_.measure_window).count();
  if (elapsed >= window) {
    double current = static_cast<double>(window_count_) / elapsed;
    measured_ = measured_ == 0 ? current
                               : options_.smoothing * current + (1 - options_.smoothing) * measured_;
    window_count_ = 0;
    window_start_ = now;
  }
}

void RateController::on_response(TimePoint sent_at, TimePoint now, bool throttled) {
  measure(now);
  if (throttled) {
    ++throttles_;
    if (decreases_ > 0 && sent_at < last_decrease_) return;  // already reacted to this round trip
    // The rate we were really achieving: the measured rate, or while the first
    // window is still open, the rate of the answers in it.
    double measured = measured_;
    if (measured <= 0) {
      double elapsed = seconds_between(window_start_, now);
      measured = elapsed > 0 ? static_cast<double>(window_count_) / elapsed : options_.min_rate;
    }
    double rate_to_use = limiting_ ? std::min(measured, bucket_.rate()) : measured;
    rate_to_use = std::max(rate_to_use, options_.min_rate);
    last_max_ = rate_to_use;
    k_seconds_ = std::cbrt(last_max_ * (1 - options_.beta) / options_.scale);
    last_decrease_ = now;
    ++decreases_;
    recovering_ = true;
    limiting_ = true;
    set_rate(rate_to_use * options_.beta, now);
    return;
  }
  if (!recovering_) return;  // told the limit and never throttled: stay at the ceiling
  double t = seconds_between(last_decrease_, now) - k_seconds_;
  double cubic = options_.scale * t * t * t + last_max_;
  // Never more than twice what we actually send: a rate that is not used
  // tells nothing about the server's limit.
  double next = measured_ > 0 ? std::min(cubic, 2 * measured_) : cubic;
  set_rate(next, now);
}

}  // namespace lf
