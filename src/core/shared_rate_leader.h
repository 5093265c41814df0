// The account's rate, decided once for all its runners: the leader's side of
// the shared rate (runner/shared_rate_controller.h runs it over PostgreSQL).
//
// One runner per account leads. It runs a RateController fed with the
// answers of every runner, which they add to two counters of the account's
// row (admitted, and throttled for requests sent after the last published
// decrease), and it mints tokens into the row's bucket, from which every
// runner draws: each tick, as many as its controller's acquire() grants at
// that moment, up to bucket_size(). So slow start, CUBIC, the admitted-rate
// estimate and share work as they do for one runner, on the account's
// aggregate; a full bucket (nobody drawing) mints nothing, so an unused rate
// is not doubled.
//
// Pure: time is passed in; the counters and the bucket's level come from
// the caller, who reads and writes the row. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <optional>

#include "core/rate_controller.h"

namespace lf {

class SharedRateLeader {
 public:
  using TimePoint = RateController::TimePoint;
  using Duration = RateController::Duration;

  // The bucket's size while the controller does not limit (told nothing,
  // without slow start, before a throttle): large, the runners' draws and
  // in-flight room are the limit then.
  static constexpr std::int64_t kUnlimitedBucket = 1000;

  // A new leader at `now`, going on from where the previous one left
  // (`resume`, as published in the row; a resume without a rate: the
  // account's first leader, which starts as a lone runner would).
  // `tick`: how often the caller mints (sizes the bucket).
  SharedRateLeader(RateControllerOptions options, TimePoint now, RateControllerResume resume,
                   Duration tick = std::chrono::milliseconds(50));

  // The row's counters (totals since the row was made), read at `now`. The
  // first call only takes them as the baseline (answers before this leader
  // were its predecessor's to count). Each later call turns the increase
  // into on_response calls: admitted ones, then throttled ones, each
  // throttle as a request sent now (the runners dropped the throttles of
  // requests sent before the published decrease, so the first one of a
  // delta decreases; the rest of that delta belong to the same round trip).
  // A counter that went backwards (the row was made anew) is a new baseline.
  void on_counters(std::int64_t admitted_total, std::int64_t throttled_total, TimePoint now);

  // How many tokens to add now to the bucket that holds `tokens`: what the
  // controller grants at `now`, at most bucket_size() - tokens (none while
  // paused). The grants are taken from the controller: the caller must add
  // them (or lose them, e.g. when the write fails: the safe way).
  std::int64_t mint(std::int64_t tokens, TimePoint now);

  // The row's throttled counter as it was once this tick's decrease was
  // published. Throttles reported between on_counters and that write were
  // judged against the previous decrease; when this tick decreased they are
  // taken as part of the baseline rather than decreasing again.
  void on_published(std::int64_t throttled_total);

  // Retry-After, from any runner: nothing is minted before `until`.
  void pause_until(TimePoint until) { controller_.pause_until(until); }

  // The bucket's size: the controller's burst (RateControllerOptions::burst,
  // else max(2, rate / 10)), and at least three ticks' worth at the rate:
  // the runners draw at most half of what it holds at a time (so that every
  // runner drawing gets some), and a bucket of two ticks or less would then
  // cap the rate they get. kUnlimitedBucket while it does not limit.
  std::int64_t bucket_size() const;

  double rate() const { return controller_.rate(); }
  double last_max_rate() const { return controller_.last_max_rate(); }
  // What a successor resumes from (the row's rate and last_limit).
  RateControllerResume resume_point() const;
  // When this leader last decreased the rate (nothing: not yet).
  std::optional<TimePoint> last_decrease_at() const { return last_decrease_at_; }
  const RateController& controller() const { return controller_; }
  std::int64_t minted() const { return minted_; }

 private:
  RateControllerOptions options_;
  Duration tick_;
  RateController controller_;
  bool have_baseline_ = false;
  std::int64_t admitted_seen_ = 0;
  std::int64_t throttled_seen_ = 0;
  std::int64_t decreases_before_tick_ = 0;
  std::optional<TimePoint> last_decrease_at_;
  std::int64_t minted_ = 0;
};

}  // namespace lf
