// What the runner does with one outcome, and how a run's end maps to an exit
// code: pure functions of their inputs (no clock reads, no I/O), so every
// branch is unit-tested. The classification of codes itself lives in
// core/api_status (disposition_of); this file turns it into a Settlement for
// the store and events for the rate controller and the run.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/job.h"
#include "core/outcome.h"
#include "core/retry_policy.h"
#include "store/job_queue.h"

namespace lf {

// Why a run stops dispatching because of an answer.
enum class StopSignal {
  kNone,
  kQuota,          // OUT_OF_QUOTA: stop sending, in-flight requests finish
  kCredentials,    // UNAUTHORIZED / KEY_EXPIRED / NO_PERMISSION: abort
  kConfiguration,  // NOT_FOUND: the endpoint is wrong: abort
};

struct Decision {
  Settlement settlement;      // always set: what to commit for the job
  bool throttled = false;     // feed the rate controller a throttle
  std::optional<std::chrono::milliseconds> pause;  // Retry-After: hold every request
  StopSignal stop = StopSignal::kNone;
  bool final = false;         // the job reached done or failed
  bool retried = false;       // the job goes back for another attempt (counted)
  bool outage = false;        // the service is down: back untouched, no attempt counted
};

// The decision for `outcome` of a request for `job` (job.attempts is the
// count before this request). `now` is the wall clock of the answer.
//  - done / permanent failure: final settlement with the outcome;
//  - transient: retry later with backoff, counting the attempt, or after
//    max attempts failed with the last code;
//  - throttled: back to the queue after a short jittered delay, not counted;
//  - download failures (DOWNLOAD_ERROR, DOWNLOAD_TIMEOUT): a few retries on
//    the slow download schedule, then failed;
//  - an outage-class failure (is_outage) while `service_down` (the run's
//    circuit is open): back to the queue at once, the attempt recorded as
//    "outage" and not counted;
//  - quota, credentials, configuration: the job is released untouched (its
//    attempt is still recorded) and the run is told to stop.
Decision decide(const Job& job, const Outcome& outcome, const RetryPolicy& policy,
                const Uniform01& uniform, UnixMillis now, bool service_down = false);

// How a run ended. Stored as runs.ended_how.
enum class RunEnd {
  kCompleted,             // no due or pending job left
  kDeadline,              // --until / --for reached
  kBudget,                // --max-requests spent
  kOutOfQuota,            // OUT_OF_QUOTA (and no --on-quota wait)
  kInterrupted,           // SIGINT
  kTerminated,            // SIGTERM
  kAbortedCredentials,    // UNAUTHORIZED, KEY_EXPIRED, NO_PERMISSION
  kAbortedConfiguration,  // NOT_FOUND: wrong endpoint
  kStoreError,            // the database failed (open, lease, commit)
  kLocked,                // another lfbatch run holds the database
  kUnreachable,           // the endpoint refused or dropped every connection in a row
  kDailyBudget,           // max_requests_per_day spent for today (come back after it resets)
};

// "completed", "deadline", "budget", "out_of_quota", "interrupted",
// "aborted_credentials", "aborted_configuration", "store_error", "locked",
// "unreachable", "daily_budget"
// (SIGINT and SIGTERM are both "interrupted"; the detail names the signal).
std::string_view ended_how(RunEnd end);

// Exit codes (README "Exit codes"): 0 completed, deadline or budget;
// 75 out of quota, daily budget spent or endpoint unreachable (EX_TEMPFAIL:
// come back later); 77 credentials (EX_NOPERM);
// 78 configuration (EX_CONFIG); 130 SIGINT; 143 SIGTERM; 3 database error
// (as every lfbatch subcommand); 69 another run holds the database
// (EX_UNAVAILABLE).
int exit_code_of(RunEnd end);

// When two reasons to stop arrive, the one that matters more to the caller
// wins: store error > locked > configuration > credentials > signal > quota >
// deadline/budget > completed; between equals the first stays.
RunEnd stronger_end(RunEnd current, RunEnd next);

// Tells a fault in how requests are built from bad jobs: the same permanent
// INVALID_ARGUMENT answered `limit` times in a row (any other answer in
// between starts the count again). One bad job fails on its own; a streak
// means every request is wrong (a bad option, a proxy rewriting the body),
// and the run must stop before it spends the archive.
class InvalidArgumentStreak {
 public:
  explicit InvalidArgumentStreak(int limit) : limit_(limit) {}

  // Records `outcome`; true when the streak has reached the limit. A limit
  // of 0 never trips.
  bool tripped_after(const Outcome& outcome);
  int length() const { return in_a_row_; }

 private:
  int limit_;
  int in_a_row_ = 0;
};

}  // namespace lf
