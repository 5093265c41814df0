#include "core/circuit_breaker.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = CircuitBreaker::TimePoint;

CircuitBreakerOptions options() {
  CircuitBreakerOptions o;
  o.failures_to_open = 3;
  o.first_probe_delay = milliseconds(200);
  o.max_probe_delay = seconds(30);
  o.probe_delay_share_of_outage = 1.0 / 15;
  o.min_probe_delay_cap = seconds(1);
  o.outage_limit = seconds(60);
  return o;
}

TEST(CircuitBreakerTest, ClosedSendsFreelyAndIsolatedFailuresDoNotOpenIt) {
  CircuitBreaker breaker(options());
  TimePoint t{};
  EXPECT_EQ(breaker.wait_time(t), CircuitBreaker::Duration::zero());
  EXPECT_FALSE(breaker.on_send(t));  // not a probe
  EXPECT_FALSE(breaker.on_outage(t, false, 0.5));
  EXPECT_FALSE(breaker.on_outage(t, false, 0.5));
  breaker.on_answer();  // a real answer between: the streak starts over
  EXPECT_FALSE(breaker.on_outage(t, false, 0.5));
  EXPECT_FALSE(breaker.on_outage(t, false, 0.5));
  EXPECT_FALSE(breaker.open());
  EXPECT_EQ(breaker.wait_time(t), CircuitBreaker::Duration::zero());
}

TEST(CircuitBreakerTest, OpensAfterFailuresInARowThenProbesOneAtATime) {
  CircuitBreaker breaker(options());
  TimePoint t{};
  EXPECT_FALSE(breaker.on_outage(t, false, 0.0));
  EXPECT_FALSE(breaker.on_outage(t, false, 0.0));
  EXPECT_TRUE(breaker.on_outage(t, false, 0.0));
  EXPECT_TRUE(breaker.open());
  EXPECT_EQ(breaker.outages(), 1);
  // First probe after half of 200 ms (jitter 0 -> the fixed half).
  EXPECT_EQ(breaker.wait_time(t), milliseconds(100));
  EXPECT_EQ(breaker.wait_time(t + milliseconds(100)), CircuitBreaker::Duration::zero());
  EXPECT_TRUE(breaker.on_send(t + milliseconds(100)));
  // While the probe is out, nothing else goes.
  EXPECT_EQ(breaker.wait_time(t + seconds(5)), CircuitBreaker::Duration::max());
  // A request that was in flight when it opened fails: no change.
  EXPECT_FALSE(breaker.on_outage(t + milliseconds(120), false, 0.0));
  EXPECT_TRUE(breaker.probe_in_flight());
  // The probe fails: the next one waits twice as long (400 ms, half fixed).
  breaker.on_outage(t + milliseconds(150), true, 0.0);
  EXPECT_FALSE(breaker.probe_in_flight());
  EXPECT_EQ(breaker.next_probe_at(), t + milliseconds(150) + milliseconds(200));
}

TEST(CircuitBreakerTest, ProbeDelayIsCappedByTheOutagesAge) {
  CircuitBreaker breaker(options());
  TimePoint t{};
  for (int i = 0; i < 3; ++i) breaker.on_outage(t, false, 0.999);
  TimePoint now = t;
  // Fail probes for 30 s of outage: the delay doubles, but never beyond
  // max(1 s, age / 15), so at 30 s of age it is at most 2 s.
  while (now < t + seconds(30)) {
    now = breaker.next_probe_at();
    ASSERT_EQ(breaker.wait_time(now), CircuitBreaker::Duration::zero());
    breaker.on_send(now);
    breaker.on_outage(now, true, 0.999);
    auto age = now - t;
    auto cap = std::max<CircuitBreaker::Duration>(seconds(1), age / 15);
    EXPECT_LE(breaker.next_probe_at() - now, cap) << "at age " << age.count();
  }
  // About 30 s of outage took a few dozen probes at most, not thousands.
  EXPECT_LT(breaker.probes(), 40);
  EXPECT_GT(breaker.probes(), 10);
}

TEST(CircuitBreakerTest, RetryAfterIsHonouredAndCapped) {
  auto o = options();
  o.max_retry_after = seconds(10);
  CircuitBreaker breaker(o);
  TimePoint t{};
  breaker.on_outage(t, false, 0.0);
  breaker.on_outage(t, false, 0.0);
  breaker.on_outage(t, false, 0.0, seconds(5));
  EXPECT_EQ(breaker.next_probe_at(), t + seconds(5));
  breaker.on_send(t + seconds(5));
  breaker.on_outage(t + seconds(5), true, 0.0, seconds(3600));
  EXPECT_EQ(breaker.next_probe_at(), t + seconds(15));  // capped at 10 s
}

TEST(CircuitBreakerTest, FirstRealAnswerClosesItEvenFromARequestInFlight) {
  CircuitBreaker breaker(options());
  TimePoint t{};
  for (int i = 0; i < 3; ++i) breaker.on_outage(t, false, 0.0);
  ASSERT_TRUE(breaker.open());
  EXPECT_TRUE(breaker.on_answer());
  EXPECT_FALSE(breaker.open());
  EXPECT_EQ(breaker.wait_time(t), CircuitBreaker::Duration::zero());
  EXPECT_FALSE(breaker.on_answer());  // already closed
  // A new outage needs a full streak again.
  EXPECT_FALSE(breaker.on_outage(t, false, 0.0));
  EXPECT_FALSE(breaker.open());
}

TEST(CircuitBreakerTest, GivesUpAfterTheOutageLimitCountedFromTheFirstFailure) {
  CircuitBreaker breaker(options());
  TimePoint t{};
  breaker.on_outage(t, false, 0.0);
  breaker.on_outage(t + seconds(1), false, 0.0);
  breaker.on_outage(t + seconds(2), false, 0.0);
  EXPECT_EQ(breaker.outage_age(t + seconds(10)), seconds(10));
  EXPECT_FALSE(breaker.gave_up(t + seconds(59)));
  EXPECT_TRUE(breaker.gave_up(t + seconds(60)));
  breaker.on_answer();
  EXPECT_FALSE(breaker.gave_up(t + seconds(600)));
}

TEST(CircuitBreakerTest, NoLimitMeansNeverGivingUp) {
  auto o = options();
  o.outage_limit = milliseconds(0);
  CircuitBreaker breaker(o);
  TimePoint t{};
  for (int i = 0; i < 3; ++i) breaker.on_outage(t, false, 0.0);
  EXPECT_FALSE(breaker.gave_up(t + std::chrono::hours(100)));
}

}  // namespace
}  // namespace lf
