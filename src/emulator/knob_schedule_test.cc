#include "emulator/knob_schedule.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lf {
namespace {

using namespace std::chrono_literals;

TEST(KnobSchedule, ThePhaseInForceIsTheLastOneStarted) {
  auto phases = parse_schedule(nlohmann::json::parse(
                                   R"([{"after_s": 0, "rps": 50}, {"after_s": 20, "rps": 20},
                                       {"after_s": 40, "rps": 50, "outage_status": 502}])"),
                               "schedule");
  ASSERT_TRUE(phases) << phases.error().message;
  KnobSchedule schedule{*phases, std::chrono::steady_clock::time_point(100s)};
  EXPECT_EQ(phase_at(schedule, schedule.start - 1s), nullptr);
  EXPECT_EQ(*phase_at(schedule, schedule.start)->rps, 50);
  EXPECT_EQ(*phase_at(schedule, schedule.start + 19s)->rps, 50);
  EXPECT_EQ(*phase_at(schedule, schedule.start + 20s)->rps, 20);
  const Knobs* last = phase_at(schedule, schedule.start + 3600s);
  EXPECT_EQ(*last->rps, 50);
  EXPECT_EQ(*last->outage_status, 502);
  EXPECT_FALSE(phase_at(schedule, schedule.start + 20s)->outage_status);
  EXPECT_EQ(phase_at(KnobSchedule{}, schedule.start), nullptr);
}

TEST(KnobSchedule, BadSchedulesAreRefusedNamingThePhase) {
  for (const char* text : {R"({"after_s": 0})", R"([{"rps": 5}])", R"([{"after_s": -1}])",
                           R"([{"after_s": 5}, {"after_s": 5}])", R"([{"after_s": 0, "speed": 1}])",
                           R"([{"after_s": 0, "outage_status": 500}])",
                           R"([{"after_s": 0, "throttle_http_status": 418}])"}) {
    auto phases = parse_schedule(nlohmann::json::parse(text), "schedule");
    ASSERT_FALSE(phases) << text;
    EXPECT_NE(phases.error().message.find("schedule"), std::string::npos)
        << phases.error().message;
  }
}

TEST(KnobSchedule, RoundTripsThroughJson) {
  auto phases = parse_schedule(
      nlohmann::json::parse(R"([{"after_s": 0, "max_concurrent": 4}, {"after_s": 1.5, "rps": 7}])"),
      "schedule");
  ASSERT_TRUE(phases);
  auto again = parse_schedule(schedule_to_json(*phases), "schedule");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(*(*again)[0].knobs.max_concurrent, 4);
  EXPECT_DOUBLE_EQ((*again)[1].after_seconds, 1.5);
}

}  // namespace
}  // namespace lf
