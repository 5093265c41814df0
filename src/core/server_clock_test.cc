#include "core/server_clock.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using namespace std::chrono_literals;
using TimePoint = ServerClock::TimePoint;

const TimePoint kT0 = TimePoint(1000s);

TEST(ServerClock, MapsTimesBothWaysThroughTheRoundTripsMidpoint) {
  ServerClock clock;
  EXPECT_FALSE(clock.known());
  clock.observe(kT0, kT0 + 10ms, 1'700'000'000'000);  // the server's time at kT0 + 5 ms
  ASSERT_TRUE(clock.known());
  EXPECT_EQ(clock.to_server_ms(kT0 + 5ms), 1'700'000'000'000);
  EXPECT_EQ(clock.to_server_ms(kT0 + 1005ms), 1'700'000'001'000);
  EXPECT_EQ(clock.to_local(1'699'999'999'000), kT0 - 995ms);
}

}  // namespace
}  // namespace lf
