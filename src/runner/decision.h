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
};

// The decision for `outcome` of a request for `job` (job.attempts is the
// count before this request). `now` is the wall clock of the answer.
//  - done / permanent failure: final settlement with the outcome;
//  - transient: retry later with backoff, counting the attempt, or after
//    max attempts failed with the last code;
//  - throttled: back to the queue after a short jittered delay, not counted;
//  - quota, credentials, configuration: the job is released untouched (its
//    attempt is still recorded) and the run is told to stop.
Decision decide(const Job& job, const Outcome& outcome, const RetryPolicy& policy,
                const Uniform01& uniform, UnixMillis now);

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

// Tells a network outage from a few bad connections: the endpoint is deemed
// unreachable once `limit` requests in a row failed to connect or timed out
// with no answer in between. The run then stops instead of spending every
// job's attempts (a night without network must not fail the whole archive).
class ReachabilityWatch {
 public:
  explicit ReachabilityWatch(int limit) : limit_(limit) {}

  // Records `outcome`; true when the endpoint is now deemed unreachable.
  bool unreachable_after(const Outcome& outcome);

 private:
  int limit_;
  int failures_in_a_row_ = 0;
};

}  // namespace lf
