#include "runner/decision.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using std::chrono::milliseconds;

constexpr UnixMillis kNow = 1'700'000'000'000;

Outcome answer(ApiStatus status, std::optional<double> retry_after = {}) {
  Outcome o;
  o.job_id = 7;
  o.started_at = kNow - 30;
  o.finished_at = kNow;
  ApiAnswer a;
  a.status = status;
  a.http_status = http_status_of(status);
  a.request_id = "TID1";
  a.retry_after_seconds = retry_after;
  if (status == ApiStatus::kOk) a.verify_score = 0.8;
  o.answer = a;
  return o;
}

Outcome transport(TransportFailure failure) {
  Outcome o;
  o.job_id = 7;
  o.failure = failure;
  o.failure_detail = "connection reset by peer";
  return o;
}

Job job_with_attempts(int attempts) {
  Job j;
  j.id = 7;
  j.attempts = attempts;
  return j;
}

RetryPolicy policy() {
  RetryPolicyOptions o;
  o.max_attempts = 3;
  o.base_delay = milliseconds(1000);
  o.max_delay = milliseconds(8000);
  o.throttle_min = milliseconds(100);
  o.throttle_max = milliseconds(300);
  return RetryPolicy(o);
}

const Uniform01 kHalf = [] { return 0.5; };

TEST(Decide, OkIsDoneWithTheAnswer) {
  Decision d = decide(job_with_attempts(0), answer(ApiStatus::kOk), policy(), kHalf, kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kDone);
  EXPECT_EQ(d.settlement.job_id, 7);
  ASSERT_TRUE(d.settlement.outcome.has_value());
  EXPECT_EQ(d.settlement.outcome->answer->verify_score, 0.8);
  EXPECT_TRUE(d.final);
  EXPECT_EQ(d.stop, StopSignal::kNone);
}

TEST(Decide, PermanentFailuresFailAtOnceWhateverTheAttempts) {
  for (ApiStatus s : {ApiStatus::kFaceDetectionFailed, ApiStatus::kCorruptImage,
                      ApiStatus::kInvalidArgument, ApiStatus::kEncodingError}) {
    Decision d = decide(job_with_attempts(0), answer(s), policy(), kHalf, kNow);
    EXPECT_EQ(d.settlement.kind, SettleKind::kFailed) << to_string(s);
    EXPECT_TRUE(d.final);
  }
  Decision local = decide(job_with_attempts(0), transport(TransportFailure::kLocalFileError),
                          policy(), kHalf, kNow);
  EXPECT_EQ(local.settlement.kind, SettleKind::kFailed);
}

TEST(Decide, TransientFailureRetriesWithBackoffCountingTheAttempt) {
  Decision first = decide(job_with_attempts(0), answer(ApiStatus::kInternalError), policy(),
                          kHalf, kNow);
  EXPECT_EQ(first.settlement.kind, SettleKind::kRetryLater);
  EXPECT_EQ(first.settlement.next_attempt_at, kNow + 500);  // 0.5 * 1000
  EXPECT_TRUE(first.retried);
  EXPECT_FALSE(first.final);
  Decision second = decide(job_with_attempts(1), transport(TransportFailure::kConnectionLost),
                           policy(), kHalf, kNow);
  EXPECT_EQ(second.settlement.kind, SettleKind::kRetryLater);
  EXPECT_EQ(second.settlement.next_attempt_at, kNow + 1000);  // 0.5 * 2000
}

TEST(Decide, TransientFailureAfterMaxAttemptsFailsWithTheLastCode) {
  Decision d = decide(job_with_attempts(2), transport(TransportFailure::kTimeout), policy(),
                      kHalf, kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kFailed);
  EXPECT_TRUE(d.final);
  EXPECT_EQ(d.settlement.outcome->code(), "TIMEOUT");
}

TEST(Decide, ThrottledGoesBackShortlyWithoutCountingAndFeedsTheController) {
  Decision d = decide(job_with_attempts(2), answer(ApiStatus::kRateLimitExceeded), policy(),
                      kHalf, kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kThrottled);
  EXPECT_EQ(d.settlement.next_attempt_at, kNow + 200);
  EXPECT_TRUE(d.throttled);
  EXPECT_FALSE(d.final);
  EXPECT_FALSE(d.retried);
  EXPECT_FALSE(d.pause.has_value());
}

TEST(Decide, RetryAfterOnAThrottlePausesEveryoneAndDelaysTheJob) {
  Decision d = decide(job_with_attempts(0), answer(ApiStatus::kRateLimitExceeded, 2.0),
                      policy(), kHalf, kNow);
  ASSERT_TRUE(d.pause.has_value());
  EXPECT_EQ(*d.pause, milliseconds(2000));
  EXPECT_EQ(d.settlement.next_attempt_at, kNow + 2000);
}

TEST(Decide, OutOfQuotaReleasesTheJobUntouchedAndStops) {
  Decision d = decide(job_with_attempts(1), answer(ApiStatus::kOutOfQuota), policy(), kHalf,
                      kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kRelease);
  EXPECT_TRUE(d.settlement.outcome.has_value());  // the request is still recorded
  EXPECT_EQ(d.stop, StopSignal::kQuota);
  EXPECT_FALSE(d.final);
}

TEST(Decide, CredentialErrorsAbortAndReleaseTheJob) {
  for (ApiStatus s : {ApiStatus::kUnauthorized, ApiStatus::kKeyExpired, ApiStatus::kNoPermission}) {
    Decision d = decide(job_with_attempts(0), answer(s), policy(), kHalf, kNow);
    EXPECT_EQ(d.settlement.kind, SettleKind::kRelease) << to_string(s);
    EXPECT_EQ(d.stop, StopSignal::kCredentials) << to_string(s);
  }
}

TEST(Decide, NotFoundIsAConfigurationAbort) {
  Decision d = decide(job_with_attempts(0), answer(ApiStatus::kNotFound), policy(), kHalf, kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kRelease);
  EXPECT_EQ(d.stop, StopSignal::kConfiguration);
}

TEST(RunEnd, ExitCodesFollowSysexits) {
  EXPECT_EQ(exit_code_of(RunEnd::kCompleted), 0);
  EXPECT_EQ(exit_code_of(RunEnd::kDeadline), 0);
  EXPECT_EQ(exit_code_of(RunEnd::kBudget), 0);
  EXPECT_EQ(exit_code_of(RunEnd::kOutOfQuota), 75);
  EXPECT_EQ(exit_code_of(RunEnd::kAbortedCredentials), 77);
  EXPECT_EQ(exit_code_of(RunEnd::kAbortedConfiguration), 78);
  EXPECT_EQ(exit_code_of(RunEnd::kInterrupted), 130);
  EXPECT_EQ(exit_code_of(RunEnd::kTerminated), 143);
  EXPECT_EQ(exit_code_of(RunEnd::kStoreError), 3);
  EXPECT_EQ(exit_code_of(RunEnd::kLocked), 69);
  EXPECT_EQ(ended_how(RunEnd::kOutOfQuota), "out_of_quota");
  EXPECT_EQ(ended_how(RunEnd::kTerminated), "interrupted");
}

TEST(RunEnd, AnUnreachableEndpointIsComeBackLater) {
  EXPECT_EQ(exit_code_of(RunEnd::kUnreachable), 75);
  EXPECT_EQ(ended_how(RunEnd::kUnreachable), "unreachable");
  EXPECT_EQ(stronger_end(RunEnd::kUnreachable, RunEnd::kInterrupted), RunEnd::kInterrupted);
}

TEST(Decide, AnOutageFailureWhileTheServiceIsDownChargesNoAttempt) {
  RetryPolicy policy({});
  Uniform01 half = [] { return 0.5; };
  for (TransportFailure f : {TransportFailure::kConnectFailed, TransportFailure::kTimeout,
                             TransportFailure::kConnectionLost, TransportFailure::kGatewayError}) {
    Decision down = decide(job_with_attempts(4), transport(f), policy, half, kNow, true);
    EXPECT_EQ(down.settlement.kind, SettleKind::kThrottled) << to_string(f);
    EXPECT_EQ(down.settlement.next_attempt_at, kNow);
    EXPECT_EQ(down.settlement.attempt_disposition, "outage");
    EXPECT_TRUE(down.outage);
    EXPECT_FALSE(down.final);
    // The same failure while the service answers others: a counted retry,
    // final at the last attempt.
    Decision up = decide(job_with_attempts(4), transport(f), policy, half, kNow, false);
    EXPECT_EQ(up.settlement.kind, SettleKind::kFailed) << to_string(f);
    EXPECT_FALSE(up.outage);
  }
  // Not an outage: the service being down changes nothing.
  Decision malformed = decide(job_with_attempts(0), transport(TransportFailure::kMalformedResponse),
                              policy, half, kNow, true);
  EXPECT_EQ(malformed.settlement.kind, SettleKind::kRetryLater);
  Decision refused = decide(job_with_attempts(0), transport(TransportFailure::kGatewayRejected),
                            policy, half, kNow, true);
  EXPECT_EQ(refused.settlement.kind, SettleKind::kFailed);
  EXPECT_TRUE(refused.final);
}

TEST(Decide, ARedirectStopsTheRunAsAConfigurationError) {
  RetryPolicy policy({});
  Uniform01 half = [] { return 0.5; };
  Decision d = decide(job_with_attempts(0), transport(TransportFailure::kRedirected), policy, half,
                      kNow);
  EXPECT_EQ(d.stop, StopSignal::kConfiguration);
  EXPECT_EQ(d.settlement.kind, SettleKind::kRelease);
}

TEST(Decide, DownloadFailuresGetAFewSlowRetriesThenFail) {
  RetryPolicyOptions options;
  options.download_attempts = 3;
  options.download_delay = milliseconds(30'000);
  RetryPolicy policy(options);
  Uniform01 zero = [] { return 0.0; };
  for (ApiStatus status : {ApiStatus::kDownloadError, ApiStatus::kDownloadTimeout}) {
    Decision first = decide(job_with_attempts(0), answer(status), policy, zero, kNow);
    EXPECT_EQ(first.settlement.kind, SettleKind::kRetryLater) << to_string(status);
    EXPECT_EQ(first.settlement.next_attempt_at, kNow + 15'000);  // half of 30 s, no jitter
    Decision second = decide(job_with_attempts(1), answer(status), policy, zero, kNow);
    EXPECT_EQ(second.settlement.next_attempt_at, kNow + 30'000);  // half of 60 s
    Decision last = decide(job_with_attempts(2), answer(status), policy, zero, kNow);
    EXPECT_EQ(last.settlement.kind, SettleKind::kFailed);
    EXPECT_TRUE(last.final);
  }
}

TEST(Decide, AnUnrecognizedStatusIsStoredUnderItsOwnCode) {
  RetryPolicy policy({});
  Uniform01 half = [] { return 0.5; };
  Outcome o = answer(ApiStatus::kOk);
  o.answer->status = ApiStatus::kUnrecognized;
  o.answer->unrecognized_status = "SERVICE_MIGRATED";
  o.answer->http_status = 400;
  o.answer->verify_score.reset();
  EXPECT_EQ(o.code(), "SERVICE_MIGRATED");
  Decision d = decide(job_with_attempts(0), o, policy, half, kNow);
  EXPECT_EQ(d.settlement.kind, SettleKind::kFailed);
  EXPECT_TRUE(d.final);
  o.answer->http_status = 503;
  EXPECT_EQ(decide(job_with_attempts(0), o, policy, half, kNow).settlement.kind,
            SettleKind::kRetryLater);
}

TEST(InvalidArgumentStreak, TripsAtTheLimitInARowAndAnyOtherAnswerStartsAgain) {
  InvalidArgumentStreak streak(3);
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kOk)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_FALSE(streak.tripped_after(transport(TransportFailure::kTimeout)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_FALSE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_TRUE(streak.tripped_after(answer(ApiStatus::kInvalidArgument)));
  EXPECT_EQ(streak.length(), 3);
  InvalidArgumentStreak never(0);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(never.tripped_after(answer(ApiStatus::kInvalidArgument)));
}

TEST(RunEnd, TheMoreImportantReasonWins) {
  EXPECT_EQ(stronger_end(RunEnd::kCompleted, RunEnd::kOutOfQuota), RunEnd::kOutOfQuota);
  EXPECT_EQ(stronger_end(RunEnd::kOutOfQuota, RunEnd::kInterrupted), RunEnd::kInterrupted);
  EXPECT_EQ(stronger_end(RunEnd::kInterrupted, RunEnd::kOutOfQuota), RunEnd::kInterrupted);
  EXPECT_EQ(stronger_end(RunEnd::kOutOfQuota, RunEnd::kAbortedCredentials),
            RunEnd::kAbortedCredentials);
  EXPECT_EQ(stronger_end(RunEnd::kDeadline, RunEnd::kBudget), RunEnd::kDeadline);
  EXPECT_EQ(stronger_end(RunEnd::kInterrupted, RunEnd::kTerminated), RunEnd::kInterrupted);
}

}  // namespace
}  // namespace lf
