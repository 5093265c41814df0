// The in-flight limit's bookkeeping (see concurrency_limit.h).
#include "core/concurrency_limit.h"

#include <algorithm>
#include <cmath>

namespace lf {

namespace {
constexpr int kDecayEvery = 64;  // answers between decays (each decays kDecayEvery steps)
}  // namespace

ConcurrencyLimit::ConcurrencyLimit(ConcurrencyLimitOptions options)
    : options_(options),
      levels_(static_cast<std::size_t>(std::max(1, options.max_in_flight)) + 1) {
  options_.max_in_flight = std::max(1, options_.max_in_flight);
}

void ConcurrencyLimit::decay_all() {
  const double factor = std::pow(options_.decay, kDecayEvery);
  for (Counts& c : levels_) {
    c.admitted *= factor;
    c.throttled *= factor;
  }
}

bool ConcurrencyLimit::on_answer(int level, bool throttled, TimePoint sent_at, TimePoint now) {
  if (++answers_since_decay_ >= kDecayEvery) {
    answers_since_decay_ = 0;
    decay_all();
  }
  level = std::clamp(level, 1, options_.max_in_flight);
  Counts& at = levels_[static_cast<std::size_t>(level)];
  (throttled ? at.throttled : at.admitted) += 1;
  if (!throttled) {
    // At the limit for a while without a throttle: allow one more.
    if (limit_ > 0 && level >= limit_ && limit_ < options_.max_in_flight &&
        now - last_change_ >= options_.probe_interval &&
        now - last_throttle_ >= options_.probe_interval) {
      ++limit_;
      last_change_ = now;
    }
    return false;
  }
  last_throttle_ = now;
  Counts below, above;
  for (int n = 1; n <= options_.max_in_flight; ++n) {
    Counts& c = levels_[static_cast<std::size_t>(n)];
    Counts& side = n < level ? below : above;
    side.admitted += c.admitted;
    side.throttled += c.throttled;
  }
  if (below.admitted < options_.min_admitted_below) return false;
  const double share_below = below.throttled / (below.admitted + below.throttled);
  const double share_above = above.throttled / (above.admitted + above.throttled);
  if (share_below >= options_.separation * share_above) return false;  // the rate's doing
  if (limit_ == 0 || sent_at >= last_cut_) {
    limit_ = std::max(1, (limit_ > 0 ? std::min(limit_, level) : level) - 1);
    last_cut_ = now;
    last_change_ = now;
  }
  return true;
}

}  // namespace lf
