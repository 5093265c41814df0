#include "core/token_stash.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using namespace std::chrono_literals;
using TimePoint = TokenStash::TimePoint;
using Duration = TokenStash::Duration;

const TimePoint kT0 = TimePoint(1000s);

TEST(TokenStash, ReleasesADrawEvenlyOverTheTick) {
  TokenStash stash({}, kT0);
  stash.add(5, kT0);  // 50 ms tick: one every 10 ms, the first at once
  EXPECT_EQ(stash.take(kT0), Duration::zero());
  EXPECT_EQ(stash.take(kT0), 10ms);
  EXPECT_EQ(stash.take(kT0 + 10ms), Duration::zero());
  EXPECT_EQ(stash.take(kT0 + 15ms), 5ms);
  int taken = 0;
  for (TimePoint now = kT0 + 15ms; now < kT0 + 50ms; now += 1ms) {
    if (stash.take(now) == Duration::zero()) ++taken;
  }
  EXPECT_EQ(taken, 3);
  EXPECT_EQ(stash.held(), 0);
  EXPECT_EQ(stash.taken_total(), 5);
}

TEST(TokenStash, AfterAnIdleSpellItStillSendsNoBurst) {
  TokenStash stash({}, kT0);
  stash.add(5, kT0);
  const TimePoint later = kT0 + 1s;
  EXPECT_EQ(stash.take(later), Duration::zero());
  EXPECT_GT(stash.take(later), Duration::zero());
}

TEST(TokenStash, DryItWaitsAboutUntilTheNextDraw) {
  TokenStash stash({}, kT0);
  EXPECT_EQ(stash.take(kT0 + 20ms), 30ms);
  EXPECT_EQ(stash.take(kT0 + 60ms), 1ms);  // the draw is late: ask again soon
}

TEST(TokenStash, WantsWhatItUsedAndDoublesWhenItRanDry) {
  TokenStash stash({}, kT0);
  EXPECT_EQ(stash.want(kT0), 0);  // never asked for a token
  (void)stash.take(kT0);          // ran dry
  EXPECT_EQ(stash.want(kT0), 1);
  stash.add(1, kT0);
  EXPECT_EQ(stash.take(kT0), Duration::zero());
  (void)stash.take(kT0 + 1ms);  // dry again
  EXPECT_EQ(stash.want(kT0 + 50ms), 2);
  stash.add(2, kT0 + 50ms);
  EXPECT_EQ(stash.take(kT0 + 50ms), Duration::zero());
  // One used, one still held and not run dry: it asks for none more.
  EXPECT_EQ(stash.want(kT0 + 100ms), 0);
}

TEST(TokenStash, NeverWantsMoreThanTheMaximum) {
  TokenStashOptions options;
  options.max_draw = 8;
  TokenStash stash(options, kT0);
  stash.add(100, kT0);
  TimePoint now = kT0;
  for (int i = 0; i < 100; ++i, now += 1ms) (void)stash.take(now);
  (void)stash.take(now);
  EXPECT_EQ(stash.want(now), 8);
}

TEST(TokenStash, APauseHoldsEveryToken) {
  TokenStash stash({}, kT0);
  stash.add(5, kT0);
  stash.pause_until(kT0 + 2s);
  EXPECT_EQ(stash.take(kT0 + 500ms), 1500ms);
  EXPECT_EQ(stash.take(kT0 + 2s), Duration::zero());
  EXPECT_GT(stash.take(kT0 + 2s), Duration::zero());
}

TEST(TokenStash, DrawnRateIsItsShareOverTheWindow) {
  TokenStash stash({}, kT0);
  TimePoint now = kT0;
  for (int tick = 0; tick < 200; ++tick, now += 50ms) stash.add(1, now);  // 20/s for 10 s
  EXPECT_NEAR(stash.drawn_rate(now), 20, 0.5);
  EXPECT_EQ(stash.drawn_total(), 200);
  EXPECT_EQ(stash.clear(), 200);
  EXPECT_EQ(stash.held(), 0);
}

}  // namespace
}  // namespace lf
