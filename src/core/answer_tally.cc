// Counting a runner's answers between reports (see answer_tally.h).
#include "core/answer_tally.h"

#include <utility>

namespace lf {

namespace {

void keep_latest(std::vector<AnswerTally::TimePoint>& times) {
  if (times.size() > AnswerTally::kMaxThrottles) {
    times.erase(times.begin(), times.end() - AnswerTally::kMaxThrottles);
  }
}

}  // namespace

void AnswerTally::on_response(TimePoint sent_at, bool throttled) {
  if (!throttled) {
    ++pending_.admitted;
    return;
  }
  pending_.throttled_sent_at.push_back(sent_at);
  keep_latest(pending_.throttled_sent_at);
}

AnswerTally::Report AnswerTally::take() { return std::exchange(pending_, Report{}); }

void AnswerTally::put_back(Report report) {
  report.admitted += pending_.admitted;
  report.throttled_sent_at.insert(report.throttled_sent_at.end(),
                                  pending_.throttled_sent_at.begin(),
                                  pending_.throttled_sent_at.end());
  keep_latest(report.throttled_sent_at);
  pending_ = std::move(report);
}

}  // namespace lf
