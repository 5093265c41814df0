#include "report/threshold_table.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using Kind = ThresholdPlacement::Kind;

TEST(ThresholdTable, HasTheSpecsSixRows) {
  const auto table = threshold_table();
  ASSERT_EQ(table.size(), 6u);
  EXPECT_DOUBLE_EQ(table.front().threshold, 0.4);
  EXPECT_EQ(table.front().one_in, 10);
  EXPECT_DOUBLE_EQ(table.back().threshold, 0.9);
  EXPECT_EQ(table.back().one_in, 1'000'000);
}

TEST(ThresholdTable, ARowOfTheTableIsExact) {
  const auto p = place_threshold(0.7);
  EXPECT_EQ(p.kind, Kind::kExact);
  EXPECT_DOUBLE_EQ(*p.error_rate, 1e-4);
  EXPECT_NE(p.describe().find("1 in 10,000"), std::string::npos) << p.describe();
}

TEST(ThresholdTable, ThresholdTypedWithRoundingNoiseStillMatchesTheRow) {
  EXPECT_EQ(place_threshold(0.1 * 7).kind, Kind::kExact);
}

TEST(ThresholdTable, BetweenRowsIsInterpolatedLogLinearlyAndSaysSo) {
  const auto p = place_threshold(0.75);
  EXPECT_EQ(p.kind, Kind::kInterpolated);
  EXPECT_DOUBLE_EQ(p.lower->threshold, 0.7);
  EXPECT_DOUBLE_EQ(p.upper->threshold, 0.8);
  EXPECT_NEAR(*p.error_rate, 3.1623e-5, 1e-8);
  const std::string text = p.describe();
  EXPECT_NE(text.find("interpolated"), std::string::npos) << text;
  EXPECT_NE(text.find("1 in 31,623"), std::string::npos) << text;
  EXPECT_NE(text.find("0.7 (1 in 10,000)"), std::string::npos) << text;
}

TEST(ThresholdTable, NearestRowIsTheClosest) {
  EXPECT_DOUBLE_EQ(place_threshold(0.72).nearest->threshold, 0.7);
  EXPECT_DOUBLE_EQ(place_threshold(0.78).nearest->threshold, 0.8);
  EXPECT_DOUBLE_EQ(place_threshold(0.95).nearest->threshold, 0.9);
}

TEST(ThresholdTable, OutsideTheTableGivesNoFigure) {
  const auto low = place_threshold(0.3);
  EXPECT_EQ(low.kind, Kind::kBelowTable);
  EXPECT_FALSE(low.error_rate.has_value());
  EXPECT_NE(low.describe().find("below the spec's table"), std::string::npos);
  const auto high = place_threshold(0.95);
  EXPECT_EQ(high.kind, Kind::kAboveTable);
  EXPECT_FALSE(high.error_rate.has_value());
  EXPECT_NE(high.describe().find("below 1 in 1,000,000"), std::string::npos) << high.describe();
}

TEST(ThresholdTable, GroupsThousands) {
  EXPECT_EQ(group_thousands(0), "0");
  EXPECT_EQ(group_thousands(999), "999");
  EXPECT_EQ(group_thousands(1000), "1,000");
  EXPECT_EQ(group_thousands(1234567), "1,234,567");
  EXPECT_EQ(group_thousands(-1234), "-1,234");
}

}  // namespace
}  // namespace lf
