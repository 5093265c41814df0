// Outcome -> settlement, and run end -> exit code.
#include "runner/decision.h"

namespace lf {

Decision decide(const Job& job, const Outcome& outcome, const RetryPolicy& policy,
                const Uniform01& uniform, UnixMillis now, bool service_down) {
  Decision d;
  d.settlement.job_id = job.id;
  d.settlement.outcome = outcome;
  std::optional<double> retry_after =
      outcome.answer ? outcome.answer->retry_after_seconds : outcome.gateway_retry_after_seconds;
  if (service_down && !outcome.answer && outcome.failure && is_outage(*outcome.failure)) {
    // The service's fault, not the job's: the circuit paces what follows.
    d.settlement.kind = SettleKind::kThrottled;
    d.settlement.next_attempt_at = now;
    d.settlement.attempt_disposition = "outage";
    d.outage = true;
    return d;
  }
  // A file_url the server could not fetch: the far host's trouble, retried
  // on the slow download schedule; any other transient fault on the usual one.
  const bool download = outcome.answer && is_download_failure(outcome.answer->status);
  switch (outcome.disposition()) {
    case Disposition::kDone:
      d.settlement.kind = SettleKind::kDone;
      d.final = true;
      break;
    case Disposition::kPermanentFailure:
      d.settlement.kind = SettleKind::kFailed;
      d.final = true;
      break;
    case Disposition::kRetryLater: {
      int attempts_made = job.attempts + 1;
      if (download ? policy.may_retry_download(attempts_made) : policy.may_retry(attempts_made)) {
        d.settlement.kind = SettleKind::kRetryLater;
        const auto delay = download ? policy.download_backoff(attempts_made, uniform, retry_after)
                                    : policy.backoff(attempts_made, uniform, retry_after);
        d.settlement.next_attempt_at = now + delay.count();
        d.retried = true;
      } else {
        d.settlement.kind = SettleKind::kFailed;  // with the last code
        d.final = true;
      }
      break;
    }
    case Disposition::kThrottled:
      d.settlement.kind = SettleKind::kThrottled;
      d.settlement.next_attempt_at = now + policy.throttle_delay(uniform, retry_after).count();
      d.throttled = true;
      d.pause = policy.retry_after(retry_after);
      break;
    case Disposition::kStopForQuota:
      d.settlement.kind = SettleKind::kRelease;
      d.stop = StopSignal::kQuota;
      break;
    case Disposition::kAbortCredentials:
      d.settlement.kind = SettleKind::kRelease;
      d.stop = StopSignal::kCredentials;
      break;
    case Disposition::kAbortConfiguration:
      d.settlement.kind = SettleKind::kRelease;
      d.stop = StopSignal::kConfiguration;
      break;
  }
  return d;
}

std::string_view ended_how(RunEnd end) {
  switch (end) {
    case RunEnd::kCompleted: return "completed";
    case RunEnd::kDeadline: return "deadline";
    case RunEnd::kBudget: return "budget";
    case RunEnd::kOutOfQuota: return "out_of_quota";
    case RunEnd::kInterrupted: return "interrupted";
    case RunEnd::kTerminated: return "interrupted";
    case RunEnd::kAbortedCredentials: return "aborted_credentials";
    case RunEnd::kAbortedConfiguration: return "aborted_configuration";
    case RunEnd::kStoreError: return "store_error";
    case RunEnd::kLocked: return "locked";
    case RunEnd::kUnreachable: return "unreachable";
    case RunEnd::kDailyBudget: return "daily_budget";
  }
  return "store_error";
}

int exit_code_of(RunEnd end) {
  switch (end) {
    case RunEnd::kCompleted:
    case RunEnd::kDeadline:
    case RunEnd::kBudget: return 0;
    case RunEnd::kOutOfQuota:
    case RunEnd::kDailyBudget:
    case RunEnd::kUnreachable: return 75;
    case RunEnd::kAbortedCredentials: return 77;
    case RunEnd::kAbortedConfiguration: return 78;
    case RunEnd::kInterrupted: return 130;
    case RunEnd::kTerminated: return 143;
    case RunEnd::kStoreError: return 3;
    case RunEnd::kLocked: return 69;
  }
  return 3;
}

namespace {

int weight(RunEnd end) {
  switch (end) {
    case RunEnd::kCompleted: return 0;
    case RunEnd::kDeadline:
    case RunEnd::kBudget: return 1;
    case RunEnd::kOutOfQuota:
    case RunEnd::kDailyBudget:
    case RunEnd::kUnreachable: return 2;
    case RunEnd::kInterrupted:
    case RunEnd::kTerminated: return 3;
    case RunEnd::kAbortedCredentials: return 4;
    case RunEnd::kAbortedConfiguration: return 5;
    case RunEnd::kLocked: return 6;
    case RunEnd::kStoreError: return 7;
  }
  return 7;
}

}  // namespace

RunEnd stronger_end(RunEnd current, RunEnd next) {
  return weight(next) > weight(current) ? next : current;
}

bool InvalidArgumentStreak::tripped_after(const Outcome& outcome) {
  const bool invalid = outcome.answer && outcome.answer->status == ApiStatus::kInvalidArgument;
  in_a_row_ = invalid ? in_a_row_ + 1 : 0;
  return limit_ > 0 && in_a_row_ >= limit_;
}

}  // namespace lf
