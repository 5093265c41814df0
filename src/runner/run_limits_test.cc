#include "runner/run_limits.h"

#include <unistd.h>

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

namespace lf {
namespace {

constexpr UnixMillis kHourMs = 3600 * 1000;
// 2026-12-01 06:30:00 UTC
constexpr UnixMillis kMorningUtc = 1796106600000;

TEST(DayStarts, UtcDaysStartAtMidnightUtc) {
  auto starts = day_starts("UTC", kMorningUtc, 2);
  ASSERT_TRUE(starts.ok()) << starts.error().message;
  ASSERT_EQ(starts->size(), 3u);
  EXPECT_EQ((*starts)[0], kMorningUtc - 6 * kHourMs - 30 * 60 * 1000);
  EXPECT_EQ((*starts)[1] - (*starts)[0], 24 * kHourMs);
}

TEST(DayStarts, AFixedOffsetShiftsMidnight) {
  // 06:30 UTC is 14:30 at +08:00; that day began at 16:00 UTC the day before.
  auto starts = day_starts("+08:00", kMorningUtc, 1);
  ASSERT_TRUE(starts.ok());
  EXPECT_EQ((*starts)[0], kMorningUtc - 6 * kHourMs - 30 * 60 * 1000 - 8 * kHourMs);
  auto west = day_starts("-05:00", kMorningUtc, 1);
  ASSERT_TRUE(west.ok());
  // 01:30 at -05:00: the day began at 05:00 UTC.
  EXPECT_EQ((*west)[0], kMorningUtc - 90 * 60 * 1000);
  EXPECT_EQ(format_in_zone("+08:00", (*starts)[1]), "2026-12-02 00:00 +08:00");
}

TEST(DayStarts, AnIanaZoneFollowsItsDstRules) {
  if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) GTEST_SKIP() << "no tzdata";
  // 2026-03-29 is 23 hours long in Berlin (clocks go forward at 02:00).
  constexpr UnixMillis kMarch28NoonUtc = 1774699200000;
  auto starts = day_starts("Europe/Berlin", kMarch28NoonUtc, 2);
  ASSERT_TRUE(starts.ok()) << starts.error().message;
  EXPECT_EQ((*starts)[1] - (*starts)[0], 24 * kHourMs);
  EXPECT_EQ((*starts)[2] - (*starts)[1], 23 * kHourMs);
  EXPECT_EQ(format_in_zone("Europe/Berlin", (*starts)[1]), "2026-03-29 00:00 +01:00");
}

TEST(DayStarts, AnUnknownZoneNamesItselfAndTheForms) {
  for (const char* zone : {"Mars/Olympus", "../etc/passwd", "+25:00", "8"}) {
    auto starts = day_starts(zone, kMorningUtc, 1);
    ASSERT_FALSE(starts.ok()) << zone;
    EXPECT_NE(starts.error().message.find(zone), std::string::npos);
    EXPECT_NE(starts.error().message.find("+08:00"), std::string::npos);
  }
}

TEST(DurationText, WritesWhatParseDurationReads) {
  using std::chrono::milliseconds;
  EXPECT_EQ(duration_text(milliseconds(30 * 60'000)), "30m");
  EXPECT_EQ(duration_text(milliseconds(90 * 60'000)), "1h30m");
  EXPECT_EQ(duration_text(milliseconds(1'500)), "1s500ms");
  EXPECT_EQ(duration_text(milliseconds(0)), "0s");
  for (std::int64_t ms : {1LL, 999LL, 61'001LL, 86'400'000LL + 5LL}) {
    auto back = parse_duration(duration_text(milliseconds(ms)));
    ASSERT_TRUE(back) << ms;
    EXPECT_EQ(back->count(), ms);
  }
}

}  // namespace
}  // namespace lf
