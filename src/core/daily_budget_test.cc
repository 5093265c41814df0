#include "core/daily_budget.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

constexpr UnixMillis kHour = 3600 * 1000;

TEST(DailyBudget, NoLimitAlwaysSends) {
  DailyBudget budget(0, {}, 1'000'000);
  EXPECT_TRUE(budget.may_send(0));
}

TEST(DailyBudget, CountsWhatEarlierRunsSentToday) {
  DailyBudget budget(10, {0, 24 * kHour}, 8);
  EXPECT_TRUE(budget.may_send(kHour));
  budget.on_sent(kHour);
  EXPECT_TRUE(budget.may_send(kHour));
  budget.on_sent(kHour);
  EXPECT_FALSE(budget.may_send(kHour));
  EXPECT_EQ(budget.used(), 10);
  EXPECT_EQ(budget.resets_at(), 24 * kHour);
}

TEST(DailyBudget, OtherRunnersSpendingTheSameDayCountOnlyForThatDay) {
  DailyBudget budget(10, {0, 24 * kHour}, 2);
  budget.observe_used(0, 9);  // the store: every runner's requests today
  EXPECT_EQ(budget.used(), 9);
  budget.observe_used(0, 5);  // an older, lower count never lowers it
  EXPECT_EQ(budget.used(), 9);
  budget.on_sent(kHour);
  EXPECT_FALSE(budget.may_send(kHour));
  // A count of yesterday's requests arriving after midnight changes nothing.
  EXPECT_TRUE(budget.may_send(24 * kHour));
  budget.observe_used(0, 50);
  EXPECT_EQ(budget.used(), 0);
}

TEST(DailyBudget, ANewDayStartsFromNothing) {
  // A 23-hour day (the spring DST change) followed by 24-hour days.
  DailyBudget budget(2, {0, 23 * kHour, 47 * kHour}, 2);
  EXPECT_FALSE(budget.may_send(22 * kHour));
  EXPECT_TRUE(budget.may_send(23 * kHour));
  EXPECT_EQ(budget.day_start(), 23 * kHour);
  EXPECT_EQ(budget.used(), 0);
  budget.on_sent(23 * kHour);
  budget.on_sent(30 * kHour);
  EXPECT_FALSE(budget.may_send(46 * kHour));
  EXPECT_EQ(budget.resets_at(), 47 * kHour);
  // Past the last start given, days are 24 hours long.
  EXPECT_TRUE(budget.may_send(47 * kHour + 1));
  EXPECT_EQ(budget.resets_at(), 71 * kHour);
  EXPECT_TRUE(budget.may_send(100 * kHour));
  EXPECT_EQ(budget.day_start(), 95 * kHour);
}

TEST(DailyBudget, ARequestSentAfterMidnightCountsInTheNewDay) {
  DailyBudget budget(1, {0, 24 * kHour}, 0);
  budget.on_sent(24 * kHour + 5);
  EXPECT_EQ(budget.used(), 1);
  EXPECT_FALSE(budget.may_send(24 * kHour + 6));
}

}  // namespace
}  // namespace lf
