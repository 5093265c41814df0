// One runner's share of the account's tokens (shared_rate_leader.h mints
// them into the account's row; each runner draws a few per tick): the
// tokens it holds, released evenly over the tick so that runners drawing at
// the same moment do not send bursts at once, and how many to draw next.
//
//  - want(): what it used in the last tick, doubled (at least 1) when it ran
//    dry (asked for a token and had none), less what it still holds; at
//    most `max_draw`. acquire() is called only for a request that may go
//    (the runner's in-flight room allows it), so what it used is what its
//    room lets it use: a runner never hoards for requests it cannot send.
//  - take(): a token at most every tick / (tokens held at the last draw),
//    the first at once; never a burst, also after a pause.
//  - drawn_rate(): tokens drawn per second over the last `rate_window`,
//    this runner's share of the account (the fallback's rate when the
//    database is gone).
//
// Pure: time is passed in. Not thread-safe: the owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

namespace lf {

struct TokenStashOptions {
  std::chrono::milliseconds tick{50};          // how often the runner draws
  std::int64_t max_draw = 500;                 // tokens per draw at most
  std::chrono::milliseconds rate_window{5000};  // for drawn_rate()
};

class TokenStash {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  TokenStash(TokenStashOptions options, TimePoint now);

  // Tokens to ask for in the draw at `now`; starts a new tick (what was used
  // and whether it ran dry are counted afresh from here).
  std::int64_t want(TimePoint now);

  // The draw at `now` brought `granted` tokens.
  void add(std::int64_t granted, TimePoint now);

  // Zero when a request may go at `now` (a token is then taken); otherwise
  // how long to wait before asking again (until the next release, or about
  // the next draw when none is held).
  Duration take(TimePoint now);

  // Nothing is taken before `until` (Retry-After).
  void pause_until(TimePoint until);

  // Drops what is held (e.g. on leaving the shared bucket for a local
  // controller); returns how many.
  std::int64_t clear();

  std::int64_t held() const { return held_; }
  std::int64_t drawn_total() const { return drawn_total_; }
  std::int64_t taken_total() const { return taken_total_; }
  double drawn_rate(TimePoint now) const;

 private:
  TokenStashOptions options_;
  TimePoint created_;
  std::int64_t held_ = 0;
  Duration spacing_{};
  TimePoint next_release_{};
  TimePoint last_draw_{};
  TimePoint paused_until_{};
  std::int64_t used_in_tick_ = 0;
  bool dry_in_tick_ = false;
  std::int64_t drawn_total_ = 0;
  std::int64_t taken_total_ = 0;
  std::deque<std::pair<TimePoint, std::int64_t>> draws_;  // within rate_window
};

}  // namespace lf
