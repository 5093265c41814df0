#include "core/answer_tally.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

using namespace std::chrono_literals;
using TimePoint = AnswerTally::TimePoint;

const TimePoint kT0 = TimePoint(1000s);

TEST(AnswerTally, CountsAdmittedAndKeepsWhenThrottledRequestsLeft) {
  AnswerTally tally;
  tally.on_response(kT0, false);
  tally.on_response(kT0 + 1ms, true);
  tally.on_response(kT0 + 2ms, false);
  AnswerTally::Report report = tally.take();
  EXPECT_EQ(report.admitted, 2);
  ASSERT_EQ(report.throttled_sent_at.size(), 1u);
  EXPECT_EQ(report.throttled_sent_at[0], kT0 + 1ms);
  EXPECT_TRUE(tally.empty());
  EXPECT_TRUE(tally.take().empty());
}

TEST(AnswerTally, AReportPutBackComesBeforeWhatCameSince) {
  AnswerTally tally;
  tally.on_response(kT0, true);
  AnswerTally::Report failed = tally.take();
  tally.on_response(kT0 + 5ms, true);
  tally.on_response(kT0 + 6ms, false);
  tally.put_back(std::move(failed));
  AnswerTally::Report report = tally.take();
  EXPECT_EQ(report.admitted, 1);
  ASSERT_EQ(report.throttled_sent_at.size(), 2u);
  EXPECT_EQ(report.throttled_sent_at[0], kT0);
  EXPECT_EQ(report.throttled_sent_at[1], kT0 + 5ms);
}

TEST(AnswerTally, KeepsOnlyTheLatestThrottles) {
  AnswerTally tally;
  for (std::size_t i = 0; i < AnswerTally::kMaxThrottles + 10; ++i) {
    tally.on_response(kT0 + std::chrono::milliseconds(i), true);
  }
  AnswerTally::Report report = tally.take();
  ASSERT_EQ(report.throttled_sent_at.size(), AnswerTally::kMaxThrottles);
  EXPECT_EQ(report.throttled_sent_at.front(), kT0 + 10ms);
}

}  // namespace
}  // namespace lf
