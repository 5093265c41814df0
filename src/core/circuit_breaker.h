// Tells an outage of the service from a few bad requests, and paces the run
// through it. Outage-class failures (core/api_status.h is_outage: no
// connection, resets, timeouts, a gateway's 5xx) in a row with no real
// answer between open the circuit: from then on nothing is sent but one
// probe at a time, after a delay that doubles with each failed probe (with
// jitter, never below a gateway's Retry-After, and capped at a fraction of
// the outage's age so that sending resumes soon after a short outage ends).
// The first real answer, to a probe or to a request that was already in
// flight, closes it. An outage older than `outage_limit` is given up on.
//
// While the circuit is open, the jobs whose requests failed are not charged
// an attempt: the fault is the service's. Pure: time and randomness are
// passed in, nothing sleeps. One owner (the runner's engine) calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace lf {

struct CircuitBreakerOptions {
  int failures_to_open = 8;                           // outage failures in a row
  std::chrono::milliseconds first_probe_delay{250};   // after the circuit opens
  std::chrono::milliseconds max_probe_delay{30'000};  // the cap of the doubling...
  double probe_delay_share_of_outage = 1.0 / 15;      // ...and of the outage's age times this
  std::chrono::milliseconds min_probe_delay_cap{1'000};  // that second cap's floor
  std::chrono::milliseconds max_retry_after{300'000};    // a longer Retry-After is capped
  std::chrono::milliseconds outage_limit{30 * 60'000};   // then give up; 0 = never
};

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  explicit CircuitBreaker(CircuitBreakerOptions options) : options_(options) {}

  // Zero when a request may be sent at `now`: the circuit is closed, or it
  // is open, the next probe is due and none is in flight. Otherwise how long
  // to wait before asking again (Duration::max() while a probe is in flight:
  // its answer decides).
  Duration wait_time(TimePoint now) const;

  // A request is sent at `now` (wait_time was zero). True when it is the
  // probe of an open circuit.
  bool on_send(TimePoint now);

  // An outage-class failure arrived at `now`; `probe` when it answers the
  // request on_send called a probe. `uniform01` in [0, 1) jitters the next
  // probe's delay; `retry_after` is a gateway's Retry-After. True when this
  // failure opened the circuit.
  bool on_outage(TimePoint now, bool probe, double uniform01,
                 std::optional<Duration> retry_after = {});

  // Any other outcome (an API answer of any status, or a failure that says
  // the service is there) arrived. True when it closed the circuit.
  bool on_answer();

  bool open() const { return open_; }
  bool probe_in_flight() const { return probe_in_flight_; }
  // Since the first failure of the outage (zero while closed).
  Duration outage_age(TimePoint now) const { return open_ ? now - outage_started_ : Duration(); }
  // The circuit has been open for longer than outage_limit.
  bool gave_up(TimePoint now) const;
  TimePoint next_probe_at() const { return next_probe_at_; }
  std::int64_t probes() const { return probes_; }     // sent in the current or last outage
  std::int64_t outages() const { return outages_; }   // times the circuit opened
  int failures_in_a_row() const { return failures_in_a_row_; }

 private:
  void schedule_probe(TimePoint now, double uniform01, std::optional<Duration> retry_after);

  CircuitBreakerOptions options_;
  bool open_ = false;
  bool probe_in_flight_ = false;
  int failures_in_a_row_ = 0;
  int failed_probes_ = 0;
  TimePoint first_failure_{};   // of the current streak
  TimePoint outage_started_{};  // the streak's first failure, once open
  TimePoint next_probe_at_{};
  std::int64_t probes_ = 0;
  std::int64_t outages_ = 0;
};

}  // namespace lf
