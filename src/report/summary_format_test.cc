#include "report/summary_format.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lf {
namespace {

ReportSummary sample() {
  ReportSummary s;
  s.database = "x.db";
  s.generated_at = 0;
  s.filter = "all jobs";
  s.threshold = 0.75;
  s.jobs = 4;
  s.by_state = {{"pending", 0}, {"leased", 0}, {"done", 3}, {"failed", 1}};
  s.by_status = {{"OK", 3}, {"CORRUPT_IMAGE", 1}};
  for (double v : {0.5, 0.8, 0.9}) s.scores.add(v);
  s.passed = 2;
  s.below_threshold = 1;
  RunSummary r;
  r.id = 3;
  r.started_at = 10'000;
  r.finished_at = 20'000;
  r.requests = 50;
  r.throttled = 5;
  r.quota_used = 44;
  r.ended_how = "out_of_quota";
  s.runs.push_back(r);
  s.failures_total = 1;
  return s;
}

// sample() with what schema 004 saves: one job failed by pre-flight at
// enqueue (in no run), one by pre-flight in run 3, two reused; run 3 sent 5
// requests by image_id, 1 of whose ids had expired.
ReportSummary with_savings() {
  ReportSummary s = sample();
  s.jobs = 8;
  s.by_state = {{"pending", 0}, {"leased", 0}, {"done", 5}, {"failed", 3}};
  s.by_decider = {{"api", 4}, {"preflight", 2}, {"reused", 2}};
  s.runs[0].decided_locally = 1;
  s.runs[0].reused = 2;
  s.runs[0].sent_by_image_id = 5;
  s.runs[0].image_ids_expired = 1;
  return s;
}

TEST(RunSummary, RateIsRequestsOverDurationAndUnfinishedRunsUseTheLastAttempt) {
  RunSummary r;
  r.started_at = 1000;
  r.finished_at = 11'000;
  r.requests = 25;
  EXPECT_DOUBLE_EQ(r.duration_seconds(), 10);
  EXPECT_DOUBLE_EQ(r.requests_per_second(), 2.5);
  r.finished_at.reset();
  EXPECT_DOUBLE_EQ(r.duration_seconds(), 0);
  EXPECT_DOUBLE_EQ(r.requests_per_second(), 0);
  r.last_attempt_at = 6000;
  EXPECT_DOUBLE_EQ(r.duration_seconds(), 5);
}

TEST(SummaryText, ShowsCountsPassRateThresholdPlacementAndRuns) {
  std::ostringstream out;
  write_summary_text(sample(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("done 3"), std::string::npos) << text;
  EXPECT_NE(text.find("CORRUPT_IMAGE 1"), std::string::npos) << text;
  EXPECT_NE(text.find("threshold 0.75: pass 2 (66.7%)"), std::string::npos) << text;
  EXPECT_NE(text.find("interpolated"), std::string::npos) << text;
  EXPECT_NE(text.find("deciles:"), std::string::npos) << text;
  EXPECT_NE(text.find("#3 started 1970-01-01T00:00:10.000Z  10.0s  50 requests  5.00 req/s  throttled 5  quota used 44"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ended: out_of_quota"), std::string::npos) << text;
}

TEST(SummaryText, SaysWhatWasNotPaidForAndEachRunsShare) {
  std::ostringstream out;
  write_summary_text(with_savings(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("  decided by: api 4   preflight 2   reused 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nNot paid for: 4 calls saved\n"
                      "  2 decided locally by pre-flight (the API would have rejected them)\n"
                      "  2 identical to an answered image (reused)\n"
                      "  5 uploads replaced by an earlier image_id in the runs listed (of which 1 had "
                      "expired and were uploaded)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pre-flight 1  reused 2  by image_id 5 (expired 1)  ended: out_of_quota"),
            std::string::npos)
      << text;
}

TEST(SummaryText, ShowsTheNotPaidForBlockWithZeros) {
  ReportSummary s = sample();
  s.by_decider = {{"api", 4}, {"preflight", 0}, {"reused", 0}};
  std::ostringstream out;
  write_summary_text(s, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("Not paid for: 0 calls saved\n  0 decided locally by pre-flight"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  0 uploads replaced by an earlier image_id"), std::string::npos) << text;
  EXPECT_NE(text.find("pre-flight 0  reused 0  by image_id 0 (expired 0)"), std::string::npos) << text;
}

TEST(SummaryJson, SaysWhoDecidedAndWhatEachRunSaved) {
  const auto j = nlohmann::json::parse(summary_json(with_savings()));
  EXPECT_EQ(j["decided_by"]["api"], 4);
  EXPECT_EQ(j["decided_by"]["preflight"], 2);
  EXPECT_EQ(j["decided_by"]["reused"], 2);
  EXPECT_EQ(j["calls_saved"], 4);
  EXPECT_EQ(j["sent_by_image_id"], 5);
  EXPECT_EQ(j["image_ids_expired"], 1);
  EXPECT_EQ(j["runs"][0]["decided_locally"], 1);
  EXPECT_EQ(j["runs"][0]["reused"], 2);
  EXPECT_EQ(j["runs"][0]["sent_by_image_id"], 5);
  EXPECT_EQ(j["runs"][0]["image_ids_expired"], 1);
}

TEST(SummaryJson, IsValidJsonWithEveryFigure) {
  const auto j = nlohmann::json::parse(summary_json(sample()));
  EXPECT_EQ(j["jobs"], 4);
  EXPECT_EQ(j["by_state"]["done"], 3);
  EXPECT_EQ(j["by_status"]["CORRUPT_IMAGE"], 1);
  EXPECT_EQ(j["threshold"]["placement"], "interpolated");
  EXPECT_NEAR(j["pass_rate"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(j["scores"]["histogram"].size(), 20u);
  EXPECT_EQ(j["scores"]["deciles"].size(), 9u);
  EXPECT_EQ(j["runs"][0]["quota_used"], 44);
  EXPECT_DOUBLE_EQ(j["runs"][0]["requests_per_second"].get<double>(), 5.0);
  EXPECT_EQ(j["runs"][0]["ended_how"], "out_of_quota");
}

TEST(SummaryJson, EmptySummaryHasNullsNotMadeUpFigures) {
  ReportSummary s;
  const auto j = nlohmann::json::parse(summary_json(s));
  EXPECT_TRUE(j["pass_rate"].is_null());
  EXPECT_TRUE(j["scores"]["mean"].is_null());
  EXPECT_TRUE(j["scores"]["deciles"].empty());
  EXPECT_EQ(j["calls_saved"], 0);
  EXPECT_TRUE(j["decided_by"].is_object());
}

TEST(Duration, IsReadable) {
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(250), "4m 10s");
  EXPECT_EQ(format_duration(3 * 3600 + 125), "3h 02m 05s");
}

}  // namespace
}  // namespace lf
