#include "core/concurrency_limit.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using namespace std::chrono_literals;
using TimePoint = ConcurrencyLimit::TimePoint;

const TimePoint kT0 = TimePoint(1000s);

ConcurrencyLimitOptions options(int max_in_flight) {
  ConcurrencyLimitOptions o;
  o.max_in_flight = max_in_flight;
  return o;
}

TEST(ConcurrencyLimitTest, NoLimitUntilAThrottleTheCountExplains) {
  ConcurrencyLimit limit(options(32));
  EXPECT_FALSE(limit.found());
  EXPECT_EQ(limit.limit(), 32);
  for (int i = 0; i < 100; ++i) limit.on_answer(1 + i % 32, false, kT0, kT0);
  EXPECT_FALSE(limit.found());
}

TEST(ConcurrencyLimitTest, ThrottlesOnlyAboveALevelSetTheLimitBelowIt) {
  ConcurrencyLimit limit(options(32));
  TimePoint t = kT0;
  // Levels 1..4 always admitted; a request sent with 5 in flight throttled.
  for (int i = 0; i < 20; ++i) limit.on_answer(1 + i % 4, false, t, t);
  t += 10ms;
  EXPECT_TRUE(limit.on_answer(5, true, t, t));
  EXPECT_TRUE(limit.found());
  EXPECT_EQ(limit.limit(), 4);
  // More throttles of requests sent before that cut do not cut again.
  EXPECT_TRUE(limit.on_answer(6, true, t - 1ms, t + 1ms));
  EXPECT_EQ(limit.limit(), 4);
}

TEST(ConcurrencyLimitTest, ThrottlesAtEveryLevelAreTheRatesNotTheCounts) {
  ConcurrencyLimit limit(options(32));
  TimePoint t = kT0;
  // A rate limit: whole rounds of levels 1..8 throttled, one round in four.
  for (int i = 0; i < 400; ++i) {
    int level = 1 + i % 8;
    EXPECT_FALSE(limit.on_answer(level, (i / 8) % 4 == 0, t, t)) << i;
    t += 1ms;
  }
  EXPECT_FALSE(limit.found());
}

TEST(ConcurrencyLimitTest, WithTooFewAnswersBelowItDoesNotJudge) {
  ConcurrencyLimit limit(options(32));
  limit.on_answer(1, false, kT0, kT0);
  EXPECT_FALSE(limit.on_answer(2, true, kT0, kT0));
  EXPECT_FALSE(limit.found());
}

TEST(ConcurrencyLimitTest, GrowsByOneAfterAQuietIntervalAtTheLimit) {
  ConcurrencyLimit limit(options(32));
  TimePoint t = kT0;
  for (int i = 0; i < 20; ++i) limit.on_answer(1 + i % 4, false, t, t);
  limit.on_answer(5, true, t, t);
  ASSERT_EQ(limit.limit(), 4);
  // Below the limit: no growth however long.
  limit.on_answer(2, false, t, t + 60s);
  EXPECT_EQ(limit.limit(), 4);
  // At the limit, but too soon after the cut.
  limit.on_answer(4, false, t, t + 1s);
  EXPECT_EQ(limit.limit(), 4);
  limit.on_answer(4, false, t, t + 6s);
  EXPECT_EQ(limit.limit(), 5);
  limit.on_answer(5, false, t, t + 7s);
  EXPECT_EQ(limit.limit(), 5);  // the next step waits a full interval
  limit.on_answer(5, false, t, t + 12s);
  EXPECT_EQ(limit.limit(), 6);
}

TEST(ConcurrencyLimitTest, NeverAboveTheRunsConcurrencyNorBelowOne) {
  ConcurrencyLimit limit(options(2));
  TimePoint t = kT0;
  for (int i = 0; i < 20; ++i) limit.on_answer(1, false, t, t);
  limit.on_answer(2, true, t, t);
  EXPECT_EQ(limit.limit(), 1);
  limit.on_answer(1, false, t, t + 10s);
  EXPECT_EQ(limit.limit(), 2);
  limit.on_answer(2, false, t, t + 20s);
  EXPECT_EQ(limit.limit(), 2);
  // A level beyond the run's concurrency is filed at the top level.
  EXPECT_FALSE(limit.on_answer(100, false, t, t + 21s));
}

}  // namespace
}  // namespace lf
