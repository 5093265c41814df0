// The account leader's bookkeeping (see shared_rate_leader.h).
#include "core/shared_rate_leader.h"

#include <algorithm>
#include <cmath>

namespace lf {

SharedRateLeader::SharedRateLeader(RateControllerOptions options, TimePoint now,
                                   RateControllerResume resume, Duration tick)
    : options_(options), tick_(tick), controller_(options, now, resume) {}

void SharedRateLeader::on_counters(std::int64_t admitted_total, std::int64_t throttled_total,
                                   TimePoint now) {
  decreases_before_tick_ = controller_.decreases();
  if (!have_baseline_ || admitted_total < admitted_seen_ || throttled_total < throttled_seen_) {
    have_baseline_ = true;
    admitted_seen_ = admitted_total;
    throttled_seen_ = throttled_total;
    return;
  }
  const std::int64_t admitted = admitted_total - admitted_seen_;
  const std::int64_t throttled = throttled_total - throttled_seen_;
  admitted_seen_ = admitted_total;
  throttled_seen_ = throttled_total;
  for (std::int64_t i = 0; i < admitted; ++i) controller_.on_response(now, now, false);
  // The first throttle as sent now (after any earlier decrease); the rest
  // as sent just before, which the decrease it caused already covers.
  const TimePoint just_before = now - Duration(1);
  for (std::int64_t i = 0; i < throttled; ++i) {
    controller_.on_response(i == 0 ? now : just_before, now, true);
  }
  if (controller_.decreases() != decreases_before_tick_) last_decrease_at_ = now;
}

void SharedRateLeader::on_published(std::int64_t throttled_total) {
  if (controller_.decreases() != decreases_before_tick_) {
    throttled_seen_ = std::max(throttled_seen_, throttled_total);
  }
}

std::int64_t SharedRateLeader::bucket_size() const {
  if (!controller_.limiting()) return kUnlimitedBucket;
  const double burst = options_.burst > 0 ? options_.burst : std::max(2.0, controller_.rate() / 10);
  const double ticks = 3 * controller_.rate() * std::chrono::duration<double>(tick_).count();
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(std::max(burst, ticks))));
}

std::int64_t SharedRateLeader::mint(std::int64_t tokens, TimePoint now) {
  const std::int64_t room = bucket_size() - std::max<std::int64_t>(tokens, 0);
  std::int64_t granted = 0;
  while (granted < room && controller_.acquire(now) == Duration::zero()) ++granted;
  minted_ += granted;
  return granted;
}

RateControllerResume SharedRateLeader::resume_point() const {
  return RateControllerResume{controller_.rate(), controller_.last_max_rate()};
}

}  // namespace lf
