#include "core/shared_rate_leader.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using namespace std::chrono_literals;
using TimePoint = SharedRateLeader::TimePoint;

const TimePoint kT0 = TimePoint(1000s);

RateControllerOptions told(double ceiling) {
  RateControllerOptions options;
  options.ceiling_rps = ceiling;
  return options;
}

TEST(SharedRateLeader, MintsWhatItsControllerGrantsUpToTheBucket) {
  SharedRateLeader leader(told(100), kT0, {});
  EXPECT_EQ(leader.bucket_size(), 15);  // three ticks at 100/s, above the burst of 10
  // The controller's bucket starts full (its burst, 10): all of it is minted.
  EXPECT_EQ(leader.mint(0, kT0), 10);
  // 50 ms later, 5 more at 100/s; the shared bucket has room for 3 only.
  EXPECT_EQ(leader.mint(12, kT0 + 50ms), 3);
  EXPECT_EQ(leader.mint(15, kT0 + 100ms), 0);  // full: nothing minted
  EXPECT_EQ(leader.minted(), 13);
}

TEST(SharedRateLeader, MintsAtTheRateOverManyTicks) {
  SharedRateLeader leader(told(100), kT0, {});
  std::int64_t minted = 0;
  TimePoint now = kT0;
  for (int tick = 0; tick < 200; ++tick, now += 50ms) minted += leader.mint(0, now);  // all drawn
  // 10 s at 100/s, plus the bucket it started with.
  EXPECT_GE(minted, 995);
  EXPECT_LE(minted, 1011);
}

TEST(SharedRateLeader, FirstCountersAreOnlyTheBaseline) {
  SharedRateLeader leader(told(100), kT0, {});
  leader.on_counters(5000, 70, kT0);  // the predecessor's answers
  EXPECT_EQ(leader.controller().throttles(), 0);
  EXPECT_DOUBLE_EQ(leader.rate(), 100);
  leader.on_counters(5005, 70, kT0 + 50ms);
  EXPECT_EQ(leader.controller().throttles(), 0);
  EXPECT_GT(leader.controller().admitted_rate(kT0 + 50ms), 0);
}

TEST(SharedRateLeader, AThrottleInTheCountersDecreasesOncePerDelta) {
  SharedRateLeader leader(told(100), kT0, {});
  TimePoint now = kT0;
  leader.on_counters(0, 0, now);
  std::int64_t admitted = 0;
  for (int tick = 0; tick < 40; ++tick) {  // 2 s at 100/s, all admitted
    now += 50ms;
    admitted += leader.mint(0, now);
    leader.on_counters(admitted, 0, now);
  }
  EXPECT_FALSE(leader.last_decrease_at());
  now += 50ms;
  leader.on_counters(admitted, 4, now);  // four throttles reported in one tick
  EXPECT_EQ(leader.controller().throttles(), 4);
  EXPECT_EQ(leader.controller().decreases(), 1);
  EXPECT_LT(leader.rate(), 100);
  ASSERT_TRUE(leader.last_decrease_at());
  EXPECT_EQ(*leader.last_decrease_at(), now);
  // A throttle in a later tick (sent after the published decrease) decreases again.
  const double after_first = leader.rate();
  now += 50ms;
  leader.on_counters(admitted, 5, now);
  EXPECT_EQ(leader.controller().decreases(), 2);
  EXPECT_LT(leader.rate(), after_first);
}

TEST(SharedRateLeader, ThrottlesReportedBeforeTheDecreaseWasPublishedDoNotDecreaseAgain) {
  SharedRateLeader leader(told(100), kT0, {});
  TimePoint now = kT0;
  leader.on_counters(0, 0, now);
  now += 50ms;
  leader.on_counters(10, 1, now);  // decreases
  ASSERT_EQ(leader.controller().decreases(), 1);
  // Two more came in between the read and the publication of the decrease.
  leader.on_published(3);
  now += 50ms;
  leader.on_counters(20, 3, now);
  EXPECT_EQ(leader.controller().decreases(), 1);
  // Without a decrease in the tick, on_published changes nothing.
  leader.on_published(4);
  now += 50ms;
  leader.on_counters(30, 4, now);
  EXPECT_EQ(leader.controller().decreases(), 2);
}

TEST(SharedRateLeader, CountersGoingBackwardsAreANewBaseline) {
  SharedRateLeader leader(told(100), kT0, {});
  leader.on_counters(100, 10, kT0);
  leader.on_counters(3, 1, kT0 + 50ms);
  EXPECT_EQ(leader.controller().throttles(), 0);
  leader.on_counters(3, 2, kT0 + 100ms);
  EXPECT_EQ(leader.controller().throttles(), 1);
}

TEST(SharedRateLeader, MintsNothingWhilePaused) {
  SharedRateLeader leader(told(100), kT0, {});
  leader.pause_until(kT0 + 1s);
  EXPECT_EQ(leader.mint(0, kT0 + 500ms), 0);
  EXPECT_GT(leader.mint(0, kT0 + 1s), 0);
}

TEST(SharedRateLeader, ASuccessorResumesWhereThePredecessorLeft) {
  SharedRateLeader first({}, kT0, {});
  TimePoint now = kT0;
  first.on_counters(0, 0, now);
  std::int64_t admitted = 0;
  for (int tick = 0; tick < 20; ++tick) {
    now += 50ms;
    admitted += first.mint(0, now);
    first.on_counters(admitted, 0, now);
  }
  now += 50ms;
  first.on_counters(admitted, 1, now);
  const RateControllerResume resume = first.resume_point();
  ASSERT_GT(resume.rate, 0);
  ASSERT_GT(resume.last_max, 0);
  SharedRateLeader second({}, now, resume);
  EXPECT_FALSE(second.controller().slow_starting());
  EXPECT_NEAR(second.rate(), first.rate(), 1e-9);
  EXPECT_DOUBLE_EQ(second.last_max_rate(), first.last_max_rate());
}

TEST(SharedRateLeader, TheBucketIsTheBurstWhenThatIsMore) {
  RateControllerOptions options = told(100);
  options.burst = 40;
  EXPECT_EQ(SharedRateLeader(options, kT0, {}).bucket_size(), 40);
  EXPECT_EQ(SharedRateLeader(told(10), kT0, {}).bucket_size(), 2);  // max(2, 1.5)
  EXPECT_EQ(SharedRateLeader(told(100), kT0, {}, 100ms).bucket_size(), 30);
}

TEST(SharedRateLeader, UnlimitedItMintsTheLargeBucket) {
  RateControllerOptions options;
  options.slow_start = false;
  SharedRateLeader leader(options, kT0, {});
  EXPECT_EQ(leader.bucket_size(), SharedRateLeader::kUnlimitedBucket);
  EXPECT_EQ(leader.mint(990, kT0), 10);
}

}  // namespace
}  // namespace lf
