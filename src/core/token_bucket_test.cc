#include "core/token_bucket.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using Clock = TokenBucket::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0{};

TEST(TokenBucket, StartsFullAndAdmitsTheBurstAtOnce) {
  TokenBucket b(10, 5, t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.try_take(t0)) << i;
  EXPECT_FALSE(b.try_take(t0));
}

TEST(TokenBucket, LeavingUnlimitedWithANewBurstSetFirstStartsWithTheWholeBurst) {
  // lfemu's schedule turning an unlimited account into 50/s, burst 5.
  TokenBucket bucket(0, 1, t0);
  bucket.set_burst(5, t0);
  bucket.set_rate(50, t0);
  int admitted = 0;
  while (bucket.try_take(t0)) ++admitted;
  EXPECT_EQ(admitted, 5);
}

TEST(TokenBucket, AGrowingBurstDoesNotRefillALimitedBucket) {
  TokenBucket bucket(10, 2, t0);
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  bucket.set_burst(20, t0);
  EXPECT_FALSE(bucket.try_take(t0));
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket b(10, 1, t0);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0 + milliseconds(99)));
  EXPECT_TRUE(b.try_take(t0 + milliseconds(100)));
  EXPECT_FALSE(b.try_take(t0 + milliseconds(150)));
}

TEST(TokenBucket, AdmitsRatePerSecondOverALongRun) {
  TokenBucket b(200, 10, t0);
  int admitted = 0;
  // Offered load: one request every 0.5 ms (2000/s) for 10 s.
  for (int i = 0; i < 20000; ++i) {
    if (b.try_take(t0 + std::chrono::microseconds(500 * i))) ++admitted;
  }
  // 10 s * 200/s plus the initial burst.
  EXPECT_NEAR(admitted, 2010, 2);
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket b(100, 3, t0);
  EXPECT_DOUBLE_EQ(b.available(t0 + seconds(60)), 3.0);
  int taken = 0;
  while (b.try_take(t0 + seconds(60))) ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(TokenBucket, WaitTimeIsWhenTheNextTokenArrives) {
  TokenBucket b(4, 1, t0);
  EXPECT_EQ(b.wait_time(t0), Clock::duration::zero());
  ASSERT_TRUE(b.try_take(t0));
  auto w = b.wait_time(t0);
  EXPECT_GE(w, milliseconds(250));
  EXPECT_LE(w, milliseconds(251));
  EXPECT_FALSE(b.try_take(t0 + w - milliseconds(1)));
  EXPECT_TRUE(b.try_take(t0 + w));
}

TEST(TokenBucket, WaitingTheWaitTimeAlwaysSucceeds) {
  TokenBucket b(7, 2, t0);
  auto now = t0;
  for (int i = 0; i < 100; ++i) {
    now += b.wait_time(now);
    ASSERT_TRUE(b.try_take(now)) << i;
  }
  // 100 tokens at 7/s, 2 of them free at the start.
  EXPECT_NEAR(std::chrono::duration<double>(now - t0).count(), 98.0 / 7.0, 0.01);
}

TEST(TokenBucket, NonPositiveRateIsUnlimited) {
  TokenBucket b(0, 1, t0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.try_take(t0));
  EXPECT_EQ(b.wait_time(t0, 50), Clock::duration::zero());
  EXPECT_TRUE(b.unlimited());
}

TEST(TokenBucket, TimeGoingBackwardsEarnsNothing) {
  TokenBucket b(1, 1, t0 + seconds(10));
  ASSERT_TRUE(b.try_take(t0 + seconds(10)));
  EXPECT_FALSE(b.try_take(t0 + seconds(5)));
  EXPECT_FALSE(b.try_take(t0 + seconds(10)));
  EXPECT_TRUE(b.try_take(t0 + seconds(11)));
}

TEST(TokenBucket, SetRateKeepsTokensEarnedAtTheOldRate) {
  TokenBucket b(1, 10, t0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b.try_take(t0));
  b.set_rate(100, t0 + seconds(2));  // 2 tokens earned at 1/s
  EXPECT_NEAR(b.available(t0 + seconds(2)), 2.0, 1e-9);
  EXPECT_NEAR(b.available(t0 + seconds(2) + milliseconds(50)), 7.0, 1e-6);
  EXPECT_EQ(b.rate(), 100);
}

TEST(TokenBucket, LeavingUnlimitedStartsWithAFullBucket) {
  TokenBucket b(0, 4, t0);
  b.set_rate(1, t0 + seconds(1));
  int taken = 0;
  while (b.try_take(t0 + seconds(1))) ++taken;
  EXPECT_EQ(taken, 4);
}

TEST(TokenBucket, ShrinkingTheBurstCapsTheTokens) {
  TokenBucket b(1, 10, t0);
  b.set_burst(2, t0);
  EXPECT_DOUBLE_EQ(b.available(t0), 2.0);
  EXPECT_EQ(b.burst(), 2);
}

TEST(TokenBucket, BurstBelowOneStillAdmitsSingleEvents) {
  TokenBucket b(1, 0.2, t0);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0 + milliseconds(500)));
  EXPECT_TRUE(b.try_take(t0 + seconds(1)));
}

TEST(TokenBucket, RequestAboveTheBurstIsTreatedAsTheBurst) {
  TokenBucket b(1, 3, t0);
  EXPECT_TRUE(b.try_take(t0, 10));
  EXPECT_DOUBLE_EQ(b.available(t0), 0.0);
  EXPECT_EQ(b.wait_time(t0, 10), b.wait_time(t0, 3));
}

}  // namespace
}  // namespace lf
