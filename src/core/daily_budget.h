// The account's daily budget of requests (max_requests_per_day): how many
// requests a calendar day may send, counted across runs (the store counts a
// day's attempts when a run starts; the budget counts the run's own from
// there). Days begin at the instants the caller computed for the configured
// time zone (run_limits.h: day_starts), so DST and fixed offsets are the
// caller's business and this stays pure.
//
// Pure: time is passed in, nothing sleeps. Not thread-safe: one owner (the
// runner's dispatcher) calls it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/job.h"

namespace lf {

class DailyBudget {
 public:
  // `limit` requests per day (0: no budget). `day_starts`: the start of the
  // current day followed by the starts of the days after it, ascending (UTC
  // ms). Past the last one, days are taken as 24 h long. `used`: requests
  // already sent since day_starts[0].
  // REQUIRES: day_starts is not empty when limit > 0.
  DailyBudget(std::int64_t limit, std::vector<UnixMillis> day_starts, std::int64_t used);

  // Whether one more request may be sent at `now`. A new day that began
  // before `now` starts with nothing used.
  bool may_send(UnixMillis now);

  // A request was sent at `now` (counted in the day `now` falls in).
  void on_sent(UnixMillis now);

  // `counted` requests were sent since `day_start` as the store counts them
  // (every runner sharing the account): taken when `day_start` is the
  // current day's and `counted` is more than this budget counted.
  void observe_used(UnixMillis day_start, std::int64_t counted);

  std::int64_t limit() const { return limit_; }
  std::int64_t used() const { return used_; }        // in the current day
  UnixMillis day_start() const { return start_; }    // of the current day
  UnixMillis resets_at() const { return next_; }     // the next day's start

 private:
  void roll(UnixMillis now);

  std::int64_t limit_;
  std::vector<UnixMillis> starts_;
  std::size_t index_ = 0;  // starts_[index_] is the current day's start
  UnixMillis start_ = 0;
  UnixMillis next_ = 0;
  std::int64_t used_;
};

}  // namespace lf
