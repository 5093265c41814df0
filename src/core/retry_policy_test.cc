#include "core/retry_policy.h"

#include <random>

#include <gtest/gtest.h>

namespace lf {
namespace {

using std::chrono::milliseconds;

Uniform01 fixed(double u) {
  return [u] { return u; };
}

RetryPolicyOptions options() {
  RetryPolicyOptions o;
  o.max_attempts = 4;
  o.base_delay = milliseconds(100);
  o.max_delay = milliseconds(1000);
  o.throttle_min = milliseconds(50);
  o.throttle_max = milliseconds(250);
  return o;
}

TEST(RetryPolicy, RetriesUntilMaxAttemptsIsReached) {
  RetryPolicy policy(options());
  EXPECT_TRUE(policy.may_retry(1));
  EXPECT_TRUE(policy.may_retry(3));
  EXPECT_FALSE(policy.may_retry(4));
  EXPECT_FALSE(policy.may_retry(5));
}

TEST(RetryPolicy, BackoffCapDoublesPerAttemptUpToMaxDelay) {
  RetryPolicy policy(options());
  Uniform01 almost_one = fixed(0.999999);
  EXPECT_EQ(policy.backoff(1, almost_one), milliseconds(99));
  EXPECT_EQ(policy.backoff(2, almost_one), milliseconds(199));
  EXPECT_EQ(policy.backoff(3, almost_one), milliseconds(399));
  EXPECT_EQ(policy.backoff(4, almost_one), milliseconds(799));
  EXPECT_EQ(policy.backoff(5, almost_one), milliseconds(999));
  EXPECT_EQ(policy.backoff(500, almost_one), milliseconds(999));  // no overflow
}

TEST(RetryPolicy, FullJitterSpreadsOverTheWholeWindow) {
  RetryPolicy policy(options());
  EXPECT_EQ(policy.backoff(3, fixed(0.0)), milliseconds(0));
  EXPECT_EQ(policy.backoff(3, fixed(0.5)), milliseconds(200));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  Uniform01 uniform = [&] { return dist(rng); };
  milliseconds lo = milliseconds::max(), hi = milliseconds::min();
  for (int i = 0; i < 2000; ++i) {
    milliseconds d = policy.backoff(3, uniform);
    ASSERT_GE(d, milliseconds(0));
    ASSERT_LT(d, milliseconds(400));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, milliseconds(40));
  EXPECT_GT(hi, milliseconds(360));
}

TEST(RetryPolicy, RetryAfterLongerThanTheBackoffWins) {
  RetryPolicy policy(options());
  EXPECT_EQ(policy.backoff(1, fixed(0.5), 2.0), milliseconds(2000));
  EXPECT_EQ(policy.backoff(4, fixed(0.5), 0.1), milliseconds(400));  // shorter: backoff wins
  EXPECT_EQ(policy.throttle_delay(fixed(0.0), 3.5), milliseconds(3500));
}

TEST(RetryPolicy, RetryAfterIsCappedAndNonsenseIgnored) {
  RetryPolicy policy(options());
  EXPECT_EQ(policy.retry_after(1e9), milliseconds(300'000));
  EXPECT_FALSE(policy.retry_after(-1.0).has_value());
  EXPECT_FALSE(policy.retry_after(std::nullopt).has_value());
  EXPECT_FALSE(policy.retry_after(std::numeric_limits<double>::quiet_NaN()).has_value());
}

TEST(RetryPolicy, ThrottleDelayIsShortAndJittered) {
  RetryPolicy policy(options());
  EXPECT_EQ(policy.throttle_delay(fixed(0.0)), milliseconds(50));
  EXPECT_EQ(policy.throttle_delay(fixed(0.5)), milliseconds(150));
  EXPECT_EQ(policy.throttle_delay(fixed(0.999999)), milliseconds(249));
}

}  // namespace
}  // namespace lf
