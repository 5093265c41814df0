#include "report/iso_time.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(IsoTime, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_utc(1'764'042'355'123), "2025-11-25T03:45:55.123Z");
  EXPECT_EQ(format_iso8601_utc(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(IsoTime, ParsesWhatItFormats) {
  for (UnixMillis t : {UnixMillis{0}, UnixMillis{1'764'042'355'123}, UnixMillis{4'102'444'799'999}}) {
    auto parsed = parse_iso8601(format_iso8601_utc(t));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, t);
  }
}

TEST(IsoTime, BareDateIsMidnightOrTheNextMidnightForAnUpperBound) {
  EXPECT_EQ(*parse_iso8601("2025-11-25"), 1'764'028'800'000);
  EXPECT_EQ(*parse_iso8601("2025-11-25", DateEnd::kEndOfDay), 1'764'028'800'000 + 86'400'000);
}

TEST(IsoTime, NoZoneMeansUtcAndOffsetsAreApplied) {
  EXPECT_EQ(*parse_iso8601("2025-11-25T08:00"), *parse_iso8601("2025-11-25T08:00:00Z"));
  EXPECT_EQ(*parse_iso8601("2025-11-25 16:00:00+08:00"), *parse_iso8601("2025-11-25T08:00:00Z"));
  EXPECT_EQ(*parse_iso8601("2025-11-25T03:00:00-0500"), *parse_iso8601("2025-11-25T08:00:00Z"));
  EXPECT_EQ(*parse_iso8601("2025-11-25T08:00:00.5Z"), *parse_iso8601("2025-11-25T08:00:00Z") + 500);
}

TEST(IsoTime, RejectsNonsenseNamingTheInputAndTheForm) {
  for (const char* bad : {"yesterday", "2025-13-01", "2025-02-30", "2025-11-25T25:00", "2025-11-25T08:00Q",
                          "2025/11/25", ""}) {
    auto r = parse_iso8601(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_NE(r.error().message.find("2026-11-25T14:30:00Z"), std::string::npos);
  }
}

}  // namespace
}  // namespace lf
