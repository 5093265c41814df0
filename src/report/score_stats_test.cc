#include "report/score_stats.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ScoreStats, EmptyHasNoQuantilesAndZeroBins) {
  ScoreStats s;
  EXPECT_EQ(s.count(), 0);
  EXPECT_FALSE(s.quantile(0.5).has_value());
  EXPECT_TRUE(s.deciles().empty());
  EXPECT_FALSE(s.mean().has_value());
  const auto bins = s.histogram(0.1);
  ASSERT_EQ(bins.size(), 10u);
  for (const auto& b : bins) EXPECT_EQ(b.count, 0);
}

TEST(ScoreStats, HistogramBinsAreHalfOpenAndTheLastIncludesOne) {
  ScoreStats s;
  for (double v : {0.0, 0.04999, 0.05, 0.7, 0.74999, 0.75, 1.0}) s.add(v);
  const auto bins = s.histogram(0.05);
  ASSERT_EQ(bins.size(), 20u);
  EXPECT_EQ(bins[0].count, 2);   // 0, 0.04999
  EXPECT_EQ(bins[1].count, 1);   // 0.05
  EXPECT_EQ(bins[14].count, 2);  // 0.7, 0.74999
  EXPECT_EQ(bins[15].count, 1);  // 0.75
  EXPECT_EQ(bins[19].count, 1);  // 1.0
  EXPECT_DOUBLE_EQ(bins[14].lower, 0.7);
  EXPECT_DOUBLE_EQ(bins[14].upper, 0.75);
}

TEST(ScoreStats, TenthBinsSumToTheCount) {
  ScoreStats s;
  for (int i = 0; i <= 100; ++i) s.add(i / 100.0);
  const auto bins = s.histogram(0.1);
  ASSERT_EQ(bins.size(), 10u);
  std::int64_t total = 0;
  for (const auto& b : bins) total += b.count;
  EXPECT_EQ(total, 101);
  EXPECT_EQ(bins[7].count, 10);  // 0.70 .. 0.79
}

TEST(ScoreStats, DecilesAreWithinOneFineBinOfTheExactOrderStatistics) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  std::vector<double> values;
  ScoreStats s;
  for (int i = 0; i < 20'001; ++i) {
    double v = dist(rng);
    v = v * v;  // skewed towards 0
    values.push_back(v);
    s.add(v);
  }
  std::sort(values.begin(), values.end());
  const auto deciles = s.deciles();
  ASSERT_EQ(deciles.size(), 9u);
  for (int d = 1; d <= 9; ++d) {
    const double exact = values[static_cast<std::size_t>(d * 2000)];
    EXPECT_NEAR(deciles[static_cast<std::size_t>(d - 1)], exact, 1.0 / ScoreStats::kFineBins) << d;
  }
}

TEST(ScoreStats, QuantilesOfOneValueAreThatValue) {
  ScoreStats s;
  s.add(0.7027237415313721);
  EXPECT_DOUBLE_EQ(*s.quantile(0.1), 0.7027237415313721);
  EXPECT_DOUBLE_EQ(*s.quantile(0.9), 0.7027237415313721);
  EXPECT_DOUBLE_EQ(*s.min(), 0.7027237415313721);
}

TEST(ScoreStats, MinMaxMeanAndPassCount) {
  ScoreStats s;
  for (double v : {0.2, 0.4, 0.7, 0.9}) s.add(v);
  EXPECT_DOUBLE_EQ(*s.min(), 0.2);
  EXPECT_DOUBLE_EQ(*s.max(), 0.9);
  EXPECT_NEAR(*s.mean(), 0.55, 1e-12);
  EXPECT_EQ(s.count_at_least(0.7), 2);  // 0.7 itself passes
  EXPECT_EQ(s.count_at_least(0.71), 1);
}

TEST(ScoreStats, OutOfRangeScoresAreClampedAndCounted) {
  ScoreStats s;
  s.add(-0.1);
  s.add(1.5);
  s.add(0.5);
  EXPECT_EQ(s.out_of_range(), 2);
  EXPECT_EQ(s.count(), 3);
  const auto bins = s.histogram(0.5);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].count, 1);
  EXPECT_EQ(bins[1].count, 2);
}

TEST(ScoreStats, PreBinnedCountsGiveTheSameHistogramAsSingleScores) {
  ScoreStats one_by_one, binned;
  for (double v : {0.12, 0.12, 0.55, 0.93}) one_by_one.add(v);
  binned.add_fine_bin(ScoreStats::fine_bin_of(0.12), 2);
  binned.add_fine_bin(ScoreStats::fine_bin_of(0.55), 1);
  binned.add_fine_bin(ScoreStats::fine_bin_of(0.93), 1);
  const auto a = one_by_one.histogram(0.05), b = binned.histogram(0.05);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].count, b[i].count) << i;
  EXPECT_NEAR(*binned.quantile(0.5), *one_by_one.quantile(0.5), 1.0 / ScoreStats::kFineBins);
}

}  // namespace
}  // namespace lf
