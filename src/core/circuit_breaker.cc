// The outage circuit's states and probe schedule (see circuit_breaker.h).
#include "core/circuit_breaker.h"

#include <algorithm>
#include <cmath>

namespace lf {

CircuitBreaker::Duration CircuitBreaker::wait_time(TimePoint now) const {
  if (!open_) return Duration::zero();
  if (probe_in_flight_) return Duration::max();
  return now >= next_probe_at_ ? Duration::zero() : next_probe_at_ - now;
}

bool CircuitBreaker::on_send(TimePoint now) {
  (void)now;
  if (!open_) return false;
  probe_in_flight_ = true;
  ++probes_;
  return true;
}

bool CircuitBreaker::on_outage(TimePoint now, bool probe, double uniform01,
                               std::optional<Duration> retry_after) {
  if (open_) {
    // A request in flight when the circuit opened says nothing new; the
    // probe's failure moves the schedule.
    if (probe && probe_in_flight_) {
      probe_in_flight_ = false;
      ++failed_probes_;
      schedule_probe(now, uniform01, retry_after);
    } else if (retry_after) {
      next_probe_at_ = std::max(next_probe_at_, now + std::min<Duration>(*retry_after,
                                                                          options_.max_retry_after));
    }
    return false;
  }
  if (failures_in_a_row_ == 0) first_failure_ = now;
  ++failures_in_a_row_;
  if (failures_in_a_row_ < options_.failures_to_open) return false;
  open_ = true;
  ++outages_;
  probes_ = 0;
  failed_probes_ = 0;
  outage_started_ = first_failure_;
  schedule_probe(now, uniform01, retry_after);
  return true;
}

bool CircuitBreaker::on_answer() {
  failures_in_a_row_ = 0;
  if (!open_) return false;
  open_ = false;
  probe_in_flight_ = false;
  return true;
}

bool CircuitBreaker::gave_up(TimePoint now) const {
  return open_ && options_.outage_limit.count() > 0 &&
         now - outage_started_ >= options_.outage_limit;
}

void CircuitBreaker::schedule_probe(TimePoint now, double uniform01,
                                    std::optional<Duration> retry_after) {
  using std::chrono::duration_cast;
  using Millis = std::chrono::duration<double, std::milli>;
  // Doubling from the first delay, capped twice: by max_probe_delay, and by
  // a share of the outage's age (so a 30 s outage is probed at least every
  // 2 s and its end is seen within that), never below min_probe_delay_cap.
  const double doubled = options_.first_probe_delay.count() *
                         std::pow(2.0, std::min(failed_probes_, 30));
  const double by_age = Millis(now - outage_started_).count() * options_.probe_delay_share_of_outage;
  const double cap = std::min<double>(options_.max_probe_delay.count(),
                                      std::max<double>(options_.min_probe_delay_cap.count(), by_age));
  double delay = std::min(doubled, cap);
  // "Equal jitter": half fixed, half random, so probes of many runners do not
  // come in step yet the delay never exceeds the cap.
  delay = delay / 2 + delay / 2 * std::clamp(uniform01, 0.0, 1.0);
  Duration wait = duration_cast<Duration>(Millis(delay));
  if (retry_after) wait = std::max(wait, std::min<Duration>(*retry_after, options_.max_retry_after));
  next_probe_at_ = now + wait;
}

}  // namespace lf
