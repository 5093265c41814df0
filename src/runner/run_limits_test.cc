#include "runner/run_limits.h"

#include <cstdlib>
#include <ctime>

#include <gtest/gtest.h>

namespace lf {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsUnitsAndCombinations) {
  EXPECT_EQ(*parse_duration("90s"), milliseconds(90'000));
  EXPECT_EQ(*parse_duration("15m"), milliseconds(900'000));
  EXPECT_EQ(*parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("2d"), milliseconds(172'800'000));
  EXPECT_EQ(*parse_duration("45"), milliseconds(45'000));
  EXPECT_EQ(*parse_duration("1m30s"), milliseconds(90'000));
}

TEST(ParseDuration, RejectsNonsenseNamingTheValue) {
  for (const char* bad : {"", "abc", "10x", "1h30", "0s", "-5s", "s", "1.5h", "0"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos);
  }
}

class LocalTimeInUtc : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_ = tz ? std::optional<std::string>(tz) : std::nullopt;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (saved_) setenv("TZ", saved_->c_str(), 1); else unsetenv("TZ");
    tzset();
  }
  std::optional<std::string> saved_;
};

// 2023-11-14 22:13:20 UTC
constexpr UnixMillis kNow = 1'700'000'000'000;

TEST_F(LocalTimeInUtc, UntilIsTodayWhenStillAhead) {
  auto at = next_local_time("23:00", kNow);
  ASSERT_TRUE(at.ok()) << at.error().message;
  EXPECT_EQ(*at, 1'699'999'200'000 + 3'600'000);  // 2023-11-14 23:00 UTC
}

TEST_F(LocalTimeInUtc, UntilIsTomorrowWhenAlreadyPast) {
  auto at = next_local_time("06:30", kNow);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, 1'700'029'800'000);  // 2023-11-15 06:30 UTC
  EXPECT_GT(*at, kNow);
  EXPECT_LE(*at - kNow, 24 * 3'600'000);
}

TEST_F(LocalTimeInUtc, UntilRejectsMalformedTimes) {
  for (const char* bad : {"6:30", "24:00", "12:60", "ab:cd", "12-30", ""}) {
    EXPECT_FALSE(next_local_time(bad, kNow).ok()) << bad;
  }
}

TEST(ParseOnQuota, StopOrWaitDuration) {
  auto stop = parse_on_quota("stop");
  ASSERT_TRUE(stop.ok());
  EXPECT_FALSE(stop->has_value());
  auto wait = parse_on_quota("wait=15m");
  ASSERT_TRUE(wait.ok());
  EXPECT_EQ(**wait, milliseconds(900'000));
  EXPECT_FALSE(parse_on_quota("wait=").ok());
  EXPECT_FALSE(parse_on_quota("retry").ok());
}

}  // namespace
}  // namespace lf
