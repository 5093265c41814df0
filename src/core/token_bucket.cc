// Token bucket arithmetic in double seconds; see token_bucket.h.
#include "core/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace lf {
namespace {

double seconds_between(TokenBucket::Clock::time_point from,
                       TokenBucket::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double sane_burst(double burst) { return std::isfinite(burst) ? std::max(burst, 1.0) : 1.0; }

}  // namespace

TokenBucket::TokenBucket(double rate_per_sec, double burst, Clock::time_point now)
    : rate_(rate_per_sec), burst_(sane_burst(burst)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;  // time going backwards earns nothing
  if (rate_ > 0) tokens_ = std::min(burst_, tokens_ + seconds_between(last_, now) * rate_);
  last_ = now;
}

double TokenBucket::available(Clock::time_point now) const {
  if (now <= last_ || rate_ <= 0) return tokens_;
  return std::min(burst_, tokens_ + seconds_between(last_, now) * rate_);
}

bool TokenBucket::try_take(Clock::time_point now, double n) {
  if (rate_ <= 0) return true;
  refill(now);
  n = std::min(n, burst_);
  // A small tolerance absorbs rounding in the time arithmetic.
  if (tokens_ + 1e-9 < n) return false;
  tokens_ -= n;
  return true;
}

TokenBucket::Clock::duration TokenBucket::wait_time(Clock::time_point now, double n) const {
  if (rate_ <= 0) return Clock::duration::zero();
  const double missing = std::min(n, burst_) - available(now);
  if (missing <= 1e-9) return Clock::duration::zero();
  auto wait = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(missing / rate_));
  return wait + Clock::duration(1);  // round up so that waiting is enough
}

void TokenBucket::set_rate(double rate_per_sec, Clock::time_point now) {
  refill(now);
  if (rate_ <= 0 && rate_per_sec > 0) {
    tokens_ = burst_;  // leaving "unlimited": start with a full bucket
    last_ = std::max(last_, now);
  }
  rate_ = rate_per_sec;
}

void TokenBucket::set_burst(double burst, Clock::time_point now) {
  refill(now);
  burst_ = sane_burst(burst);
  // An unlimited bucket counts as full, whatever its size, so one given its
  // burst before its rate leaves "unlimited" with the whole burst.
  tokens_ = unlimited() ? burst_ : std::min(tokens_, burst_);
}

}  // namespace lf
