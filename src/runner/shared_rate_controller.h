// One rate controller for an API account shared by every `lfbatch run` on
// every host, through the account's row in PostgreSQL (account_limits,
// store/pg_account_limits.h): a drop-in for RateController's acquire,
// on_response, pause_until and rate, plus the account's quota flag.
//
// How it works, every `tick` (50 ms; `idle_tick` when idle) on a thread of its own with a
// connection of its own:
//  - it draws a few tokens from the row's bucket, as many as it used in the
//    last tick (twice that when it ran dry), and spends them locally, one
//    every tick / n (core/token_stash.h), so runners drawing at the same
//    moment do not send bursts at once; in the same UPDATE it adds the
//    answers it got since the last tick (core/answer_tally.h), a Retry-After
//    it was given and the quota flag, and reads back what the others
//    published: the rate, a pause, the quota flag;
//  - one runner per account leads: it holds the account's advisory lock on
//    that connection, runs the account's RateController on everybody's
//    answers and mints what it grants into the bucket
//    (core/shared_rate_leader.h). When its heartbeat (the row's refilled_at)
//    is older than `leader_stale_after`, the others try the lock; the server
//    drops it with a dead leader's connection, and the next one to take it
//    resumes from the published rate and last limit (no slow start). A
//    leader that holds the lock but does not tick for `leader_dead_after`
//    (stopped, or cut off without the server noticing) has its session
//    ended by the next runner, which then takes over.
//  So a throttle any runner sees slows them all within a tick or two, and
//  the account's limit is found once, not once per runner.
//
// The database gone: the stash keeps the runner going for what it holds;
// the thread reconnects with backoff (doubling from `reconnect_min` to
// `reconnect_max`). Without a successful tick for `fallback_after`, acquire
// falls back to a local RateController resumed at the rate this runner drew
// over its last seconds (its share of the account: the others go on with
// theirs, so together they stay near the account's rate; dividing the
// shared rate by a count of runners would be wrong for runners of unequal
// demand), or, if it never drew, a fresh one (a lone runner's slow start).
// Its answers then go to that controller, not to the account. The first
// successful tick ends the fallback.
//
// Times are the caller's steady_clock; the row keeps the server's clock
// (core/server_clock.h). Thread safety: every public function may be
// called from any thread; they take one mutex briefly and never wait for
// the database (no I/O on the caller's thread). The destructor stops the
// thread (waiting for a statement or a connection attempt under way) and
// closes the connection, which gives up the lead.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/answer_tally.h"
#include "core/rate_controller.h"
#include "core/result.h"
#include "core/server_clock.h"
#include "core/token_stash.h"
#include "store/sql_session.h"

namespace lf {

class PgAccountLimits;
class SharedRateLeader;

struct SharedRateOptions {
  std::string account;  // the row's key: the API endpoint and api_id, never the secret
  std::string runner;   // this runner's name in the row's leader column ("host pid")
  RateControllerOptions rate;  // the leader's controller (--rate, --share, ...): the leader's win
  std::chrono::milliseconds tick{50};
  // A runner that neither leads nor sends ticks this often (it still sees
  // a new leader, a pause, the quota flag); a request wanting a token wakes
  // it at once. So idle runners cost the database 4 statements a second.
  std::chrono::milliseconds idle_tick{250};
  std::int64_t max_draw = 500;                           // tokens per draw at most
  std::chrono::milliseconds leader_stale_after{500};     // heartbeat age before a takeover try
  // A leader that holds the lock without a heartbeat this long is deposed
  // (its session ended by the server, PgAccountLimits::depose_leader).
  std::chrono::milliseconds leader_dead_after{5000};
  std::chrono::milliseconds fallback_after{3000};        // without a tick: a local controller
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

// Opens a connection of the thread's own: a PgSession in production
// (its dialect must be PostgreSQL).
using SqlConnector = std::function<Result<std::unique_ptr<SqlSession>>()>;

// The account's quota as the runners last saw it.
struct QuotaExhausted {
  std::chrono::steady_clock::time_point since;               // OUT_OF_QUOTA seen then
  std::optional<std::chrono::steady_clock::time_point> until;  // try again then (--on-quota wait)
};

// For logs and tests.
struct SharedRateStats {
  bool connected = false;
  bool leading = false;
  bool fallback = false;        // running on a local controller
  double rate = 0;              // as rate()
  std::string leader;           // as the row names it
  std::int64_t ticks = 0;       // successful
  std::int64_t failed_ticks = 0;
  std::int64_t connects = 0;    // successful connections, the first included
  std::int64_t lead_terms = 0;  // times this runner became the leader
  std::int64_t deposed = 0;     // leaders without a heartbeat whose session this runner ended
  std::int64_t drawn = 0;       // tokens this runner took from the row
  std::int64_t spent = 0;       // of those, spent on requests
  std::int64_t held = 0;        // held now
  std::int64_t minted = 0;      // tokens this runner minted as the leader
  std::int64_t decreases = 0;   // of the rate, by this runner as the leader
  std::chrono::microseconds last_tick{0};  // the statements of the last tick took
};

class SharedRateController {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  // Starts the thread; it connects in the background (never fails here).
  SharedRateController(SharedRateOptions options, SqlConnector connect);
  ~SharedRateController();
  SharedRateController(const SharedRateController&) = delete;
  SharedRateController& operator=(const SharedRateController&) = delete;

  // As RateController's: zero when a request may go now (its token taken),
  // else how long to wait before asking again.
  Duration acquire(TimePoint now);
  void on_response(TimePoint sent_at, TimePoint now, bool throttled);
  void pause_until(TimePoint until);
  // The account's rate as the leader last published it (req/s for all
  // runners together; 0 before any); in fallback, the local controller's.
  double rate() const;

  // OUT_OF_QUOTA: every runner of the account sees it at its next tick;
  // `until`: when to try again (--on-quota wait).
  void on_out_of_quota(TimePoint now, std::optional<TimePoint> until);
  // Any other answer to a request sent at `sent_at`: the quota is back, a
  // flag set before that is cleared for all.
  void on_quota_answer(TimePoint sent_at);
  // Set when this runner or another was told OUT_OF_QUOTA and no answer
  // since has cleared it.
  std::optional<QuotaExhausted> quota_exhausted() const;

  bool leading() const;
  SharedRateStats stats() const;

 private:
  void run();
  // One tick on `session`; false when a statement failed (the caller drops
  // the connection).
  bool tick(PgAccountLimits& limits);
  void enter_fallback_locked(TimePoint now);
  // Logs a failure of the connection: the first of a streak as a warning,
  // then at most one every 30 s (the others at debug level).
  void log_failure(const std::string& what);

  TimePoint failure_logged_at_{};
  std::int64_t failures_in_streak_ = 0;

  const SharedRateOptions options_;
  const SqlConnector connect_;

  mutable std::mutex mu_;  // guards everything below up to the thread's own state
  std::condition_variable wake_;
  bool stopping_ = false;
  bool idle_ = false;            // the thread waits for idle_tick ...
  bool draw_requested_ = false;  // ... and a dry acquire wakes it
  std::int64_t last_want_ = 0;   // of the last draw
  TokenStash stash_;
  AnswerTally tally_;
  std::optional<RateController> local_;  // the fallback
  TimePoint last_ok_;                    // the last successful tick (or the start)
  double drawn_rate_at_last_ok_ = 0;
  bool ever_connected_ = false;
  double shared_rate_ = 0;
  std::optional<QuotaExhausted> quota_;
  std::optional<TimePoint> pending_pause_;
  std::optional<QuotaExhausted> pending_quota_;
  std::optional<TimePoint> pending_quota_seen_;
  SharedRateStats stats_;

  // The thread's own (no lock): the server's clock and the leader's state.
  ServerClock server_clock_;
  std::unique_ptr<SharedRateLeader> leader_;
  std::optional<TimePoint> published_decrease_;
  TimePoint next_lead_try_{};
  std::optional<TimePoint> lock_refused_since_;  // the heartbeat stale, the lock held by another

  std::thread thread_;
};

}  // namespace lf
