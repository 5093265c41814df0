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
      bucket_(1.0, 2.0, now),
      start_(now),
      step_start_(now) {
  options_.share = std::clamp(options_.share, 0.01, 1.0);
  slot_numbers_.fill(-1);
  double start_rate = 0;
  if (options_.ceiling_rps > 0) {
    start_rate = options_.ceiling_rps * options_.share;
  } else if (options_.slow_start) {
    start_rate = std::max(options_.initial_rps, options_.min_rate);
    slow_start_ = true;
  }
  if (start_rate > 0) {
    limiting_ = true;
    bucket_ = TokenBucket(start_rate, burst_for(start_rate), now);
  }
  if (slow_start_) note_ramp_step(now);
}

void RateController::note_ramp_step(TimePoint now) {
  ramp_[static_cast<std::size_t>(ramp_count_ % kRampSteps)] = {now, bucket_.rate()};
  ++ramp_count_;
}

double RateController::ramp_rate_at(TimePoint t) const {
  double rate = bucket_.rate();
  // Newest first: the latest step that began at or before t.
  for (int i = ramp_count_ - 1; i >= 0 && i >= ramp_count_ - kRampSteps; --i) {
    const auto& [began, step_rate] = ramp_[static_cast<std::size_t>(i % kRampSteps)];
    rate = step_rate;
    if (began <= t) break;
  }
  return rate;
}

RateController::RateController(RateControllerOptions options, TimePoint now,
                               RateControllerResume resume)
    : RateController(options, now) {
  if (resume.rate <= 0) return;
  if (resume.last_max <= 0) {
    if (options_.ceiling_rps > 0) return;  // already at share x ceiling
    limiting_ = true;
    slow_start_ = options_.slow_start;
    set_rate(resume.rate, now);
    return;
  }
  slow_start_ = false;
  limiting_ = true;
  recovering_ = true;
  last_max_ = std::max(resume.last_max, options_.min_rate);
  k_seconds_ = std::cbrt(last_max_ * (1 - options_.beta) / options_.scale);
  last_decrease_ = now;  // with share < 1: the next probe for a rise one interval from now
  const double rate = clamp_rate(resume.rate);
  // Above its share of the limit, the predecessor was probing for a rise.
  share_probing_ = options_.share < 1 && rate > last_max_ * options_.share * 1.001;
  // The curve's origin such that W(now) = rate: t - K = cbrt((rate - Wmax) / C).
  const double t = k_seconds_ + std::cbrt((rate - last_max_) / options_.scale);
  curve_origin_ = now - std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t));
  set_rate(rate, now);
}

double RateController::rate() const { return limiting_ ? bucket_.rate() : 0.0; }

double RateController::burst_for(double rps) const {
  return options_.burst > 0 ? options_.burst : std::max(2.0, rps / 10);
}

double RateController::clamp_rate(double rps) const {
  if (options_.ceiling_rps > 0) rps = std::min(rps, options_.ceiling_rps * options_.share);
  return std::max(rps, options_.min_rate);
}

void RateController::set_rate(double rps, TimePoint now) {
  rps = clamp_rate(rps);
  bucket_.set_rate(rps, now);
  bucket_.set_burst(burst_for(rps), now);
}

std::int64_t RateController::slot_of(TimePoint t) const {
  const auto slot = options_.admitted_window / kSlots;
  const auto width = std::max<Duration>(slot, std::chrono::milliseconds(1));
  return (t - start_) / width;
}

void RateController::count_admitted(TimePoint now) {
  const std::int64_t slot = slot_of(now);
  const auto i = static_cast<std::size_t>(slot % kSlots);
  if (slot_numbers_[i] != slot) {
    slot_numbers_[i] = slot;
    admitted_[i] = 0;
  }
  ++admitted_[i];
}

double RateController::admitted_rate(TimePoint now) const {
  const std::int64_t current = slot_of(now);
  std::int64_t count = 0;
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (slot_numbers_[i] > current - kSlots && slot_numbers_[i] <= current) count += admitted_[i];
  }
  // Over the window, or over the run's age while it is younger (but at
  // least 50 ms, so that the first answers do not read as a huge rate).
  const double window = std::chrono::duration<double>(options_.admitted_window).count();
  const double span = std::clamp(seconds_between(start_, now), 0.05, window);
  return static_cast<double>(count) / span;
}

RateController::Duration RateController::acquire(TimePoint now) {
  if (now < paused_until_) return paused_until_ - now;
  if (slow_start_ && now - step_start_ >= options_.slow_start_step) {
    // Double only a rate that was used: a step held back by the requests in
    // flight (or by too few jobs) says nothing about the limit.
    const double allowed = bucket_.rate() * seconds_between(step_start_, now);
    if (allowed > 0 && static_cast<double>(step_sent_) >= 0.5 * allowed) {
      // Doubling, but once answers come back never past twice what the
      // server admits (as on the curve): a round trip longer than a step
      // would otherwise send at twice an untested rate until the first
      // throttle returns.
      double next = bucket_.rate() * 2;
      if (step_admitted_ > 0) {
        const double admitted =
            static_cast<double>(step_admitted_) / seconds_between(step_start_, now);
        next = std::min(next, std::max(bucket_.rate(), 2 * admitted));
      }
      if (next > bucket_.rate()) {
        set_rate(next, now);
        note_ramp_step(now);
      }
    }
    step_start_ = now;
    step_sent_ = 0;
    step_admitted_ = 0;
  }
  if (!limiting_) return Duration::zero();
  if (bucket_.try_take(now)) {
    ++step_sent_;
    return Duration::zero();
  }
  Duration wait = bucket_.wait_time(now);
  return std::max(wait, Duration(std::chrono::microseconds(100)));
}

void RateController::pause_until(TimePoint until) {
  paused_until_ = std::max(paused_until_, until);
}

void RateController::on_response(TimePoint sent_at, TimePoint now, bool throttled) {
  if (!throttled) {
    count_admitted(now);
    ++step_admitted_;
  }
  const double admitted = admitted_rate(now);
  if (throttled) {
    ++throttles_;
    if (decreases_ > 0 && sent_at < last_decrease_) return;  // already reacted to this round trip
    const double sending = limiting_ ? bucket_.rate() : admitted;
    double limit = std::min(sending, admitted);
    if (slow_start_) {
      // The ramp's first throttle: the step before the one the throttled
      // request was sent in went through, so the limit is at least about
      // its rate (the admitted rate lags the ramp). Not the step before the
      // current one: with a round trip longer than a step, the ramp has
      // doubled again by the time the throttle comes back.
      slow_start_ = false;
      limit = std::max(limit, ramp_rate_at(sent_at) / 2);
    }
    last_max_ = std::max(limit, options_.min_rate);
    k_seconds_ = std::cbrt(last_max_ * (1 - options_.beta) / options_.scale);
    last_decrease_ = now;
    curve_origin_ = now;
    share_probing_ = false;
    ++decreases_;
    recovering_ = true;
    limiting_ = true;
    set_rate(last_max_ * options_.beta * (options_.share < 1 ? options_.share : 1.0), now);
    return;
  }
  if (!recovering_) return;  // slow start, or told the limit and never throttled
  if (options_.share < 1 && !share_probing_) {
    if (now - last_decrease_ < options_.share_probe_interval) {
      set_rate(last_max_ * options_.share, now);
      return;
    }
    // Probe for a rise once: from the last limit, along the curve's convex part.
    share_probing_ = true;
    curve_origin_ = now - std::chrono::duration_cast<Duration>(
                              std::chrono::duration<double>(k_seconds_));
  }
  double t = seconds_between(curve_origin_, now) - k_seconds_;
  double cubic = options_.scale * t * t * t + last_max_;
  double next = admitted > 0 ? std::min(cubic, 2 * admitted) : cubic;
  set_rate(next, now);
}

}  // namespace lf
