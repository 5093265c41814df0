// A runner's stash of the account's tokens (see token_stash.h).
#include "core/token_stash.h"

#include <algorithm>

namespace lf {

TokenStash::TokenStash(TokenStashOptions options, TimePoint now)
    : options_(options), created_(now), next_release_(now), last_draw_(now) {}

std::int64_t TokenStash::want(TimePoint) {
  std::int64_t target = used_in_tick_;
  if (dry_in_tick_) target = std::max<std::int64_t>(1, 2 * used_in_tick_);
  used_in_tick_ = 0;
  dry_in_tick_ = false;
  return std::clamp<std::int64_t>(target - held_, 0, options_.max_draw);
}

void TokenStash::add(std::int64_t granted, TimePoint now) {
  last_draw_ = now;
  if (granted <= 0) return;
  held_ += granted;
  drawn_total_ += granted;
  spacing_ = std::chrono::duration_cast<Duration>(options_.tick) / held_;
  next_release_ = std::min(next_release_, now);
  draws_.emplace_back(now, granted);
  while (!draws_.empty() && draws_.front().first < now - options_.rate_window) draws_.pop_front();
}

TokenStash::Duration TokenStash::take(TimePoint now) {
  if (now < paused_until_) return paused_until_ - now;
  if (held_ == 0) {
    dry_in_tick_ = true;
    const TimePoint next_draw = last_draw_ + options_.tick;
    return std::max<Duration>(next_draw - now, std::chrono::milliseconds(1));
  }
  if (now < next_release_) return next_release_ - now;
  --held_;
  ++used_in_tick_;
  ++taken_total_;
  next_release_ = std::max(next_release_, now) + spacing_;
  return Duration::zero();
}

void TokenStash::pause_until(TimePoint until) {
  paused_until_ = std::max(paused_until_, until);
  next_release_ = std::max(next_release_, until);
}

std::int64_t TokenStash::clear() {
  return std::exchange(held_, 0);
}

double TokenStash::drawn_rate(TimePoint now) const {
  std::int64_t n = 0;
  for (const auto& [at, granted] : draws_) {
    if (at >= now - options_.rate_window) n += granted;
  }
  const double span = std::clamp(std::chrono::duration<double>(now - created_).count(),
                                 std::chrono::duration<double>(options_.tick).count(),
                                 std::chrono::duration<double>(options_.rate_window).count());
  return static_cast<double>(n) / span;
}

}  // namespace lf
