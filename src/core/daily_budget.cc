// The daily request budget; see daily_budget.h.
#include "core/daily_budget.h"

#include <cassert>

namespace lf {
namespace {
constexpr UnixMillis kDayMillis = 24LL * 3600 * 1000;
}  // namespace

DailyBudget::DailyBudget(std::int64_t limit, std::vector<UnixMillis> day_starts,
                         std::int64_t used)
    : limit_(limit), starts_(std::move(day_starts)), used_(used) {
  assert(limit_ <= 0 || !starts_.empty());
  if (starts_.empty()) starts_.push_back(0);
  start_ = starts_[0];
  next_ = starts_.size() > 1 ? starts_[1] : start_ + kDayMillis;
}

void DailyBudget::roll(UnixMillis now) {
  while (now >= next_) {
    start_ = next_;
    ++index_;
    next_ = index_ + 1 < starts_.size() ? starts_[index_ + 1] : start_ + kDayMillis;
    used_ = 0;
  }
}

bool DailyBudget::may_send(UnixMillis now) {
  if (limit_ <= 0) return true;
  roll(now);
  return used_ < limit_;
}

void DailyBudget::on_sent(UnixMillis now) {
  roll(now);
  ++used_;
}

void DailyBudget::observe_used(UnixMillis day_start, std::int64_t counted) {
  if (day_start == start_ && counted > used_) used_ = counted;
}

}  // namespace lf
