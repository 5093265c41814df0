// The answers one runner got since it last reported them to the account's
// leader (shared_rate_leader.h): how many were admitted, and when each
// throttled request was sent, so that the report counts only throttles of
// requests sent after the leader's last decrease (one decrease per round
// trip, across runners).
//
// Pure. Not thread-safe: the owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace lf {

class AnswerTally {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // At most this many throttle times are kept between reports; beyond that
  // only the latest ones (a decrease needs only one).
  static constexpr std::size_t kMaxThrottles = 256;

  struct Report {
    std::int64_t admitted = 0;
    std::vector<TimePoint> throttled_sent_at;  // in arrival order
    bool empty() const { return admitted == 0 && throttled_sent_at.empty(); }
  };

  void on_response(TimePoint sent_at, bool throttled);

  // What was counted since the last take(), which starts afresh.
  Report take();

  // Puts back a report that could not be delivered, before what came since.
  void put_back(Report report);

  bool empty() const { return pending_.empty(); }

 private:
  Report pending_;
};

}  // namespace lf
