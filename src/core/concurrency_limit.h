// Finds a limit on requests in flight (a server that throttles the
// (N+1)th concurrent request of an account, whatever the rate), and keeps
// the runner under it: the loss-based AIMD of Netflix's concurrency-limits,
// applied only to throttles that the count in flight explains.
//
// Each answer is filed under the number of requests in flight when its
// request left (itself included), in decaying counts. A throttle at level n
// is put down to concurrency when the levels below n have enough admitted
// answers and (almost) no throttles, while n and above have them: a rate
// limit throttles at any level, a concurrency limit only above it. Then the
// limit becomes min(limit, n) - 1, once per round trip; after
// `probe_interval` at the limit without a throttle it grows by one, to
// follow a limit that rises. Throttles it does not explain are the rate
// controller's (core/rate_controller.h).
//
// Pure: time is passed in; one owner calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace lf {

struct ConcurrencyLimitOptions {
  int max_in_flight = 16;       // the run's --concurrency: levels above are not filed
  double min_admitted_below = 4;  // admitted answers below the level needed to judge
  double separation = 0.2;      // throttled share below the level < this x the share above
  double decay = 0.995;         // per answer, of every count
  std::chrono::milliseconds probe_interval{5'000};
};

class ConcurrencyLimit {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit ConcurrencyLimit(ConcurrencyLimitOptions options);

  // The answer to a request sent at `sent_at` with `level` requests in
  // flight arrived at `now`. True when it was a throttle this limit explains
  // (the rate controller must then not see it as one).
  bool on_answer(int level, bool throttled, TimePoint sent_at, TimePoint now);

  // Requests that may be in flight: the limit found, else max_in_flight.
  int limit() const { return limit_ > 0 ? limit_ : options_.max_in_flight; }
  bool found() const { return limit_ > 0; }

 private:
  void decay_all();

  ConcurrencyLimitOptions options_;
  struct Counts {
    double admitted = 0;
    double throttled = 0;
  };
  std::vector<Counts> levels_;  // index: requests in flight at send, 1..max_in_flight
  int limit_ = 0;               // 0: none found
  int answers_since_decay_ = 0;
  TimePoint last_cut_{};
  TimePoint last_change_{};
  TimePoint last_throttle_{};
};

}  // namespace lf
