#include "runner/progress.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace lf {
namespace {

ProgressSnapshot snapshot() {
  ProgressSnapshot s;
  s.total = 2000;
  s.stats.done = 1000;
  s.stats.failed = 234;
  s.stats.requests = 1400;
  s.stats.throttled = 3;
  s.stats.by_code = {{"INTERNAL_ERROR", 12}, {"CONNECTION_LOST", 40}, {"RATE_LIMIT_EXCEEDED", 3}};
  s.recent_requests_per_second = 48.94;
  s.recent_finished_per_second = 50;
  s.in_flight = 16;
  return s;
}

TEST(FormatEta, HoursMinutesSecondsOrUnknown) {
  EXPECT_EQ(format_eta(15), "0:15");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(-1), "--:--");
  EXPECT_EQ(format_eta(1e12), "--:--");
}

TEST(ProgressBar, ShowsDoneTotalRateEtaAndErrorsLargestFirst) {
  std::string bar = format_progress_bar(snapshot(), 400);
  EXPECT_NE(bar.find("1234/2000"), std::string::npos) << bar;
  EXPECT_NE(bar.find("61.7%"), std::string::npos) << bar;
  EXPECT_NE(bar.find("48.9 req/s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("ETA 0:15"), std::string::npos) << bar;  // 766 left at 50/s
  EXPECT_NE(bar.find("throttled 3"), std::string::npos) << bar;
  EXPECT_LT(bar.find("CONNECTION_LOST 40"), bar.find("INTERNAL_ERROR 12")) << bar;
  EXPECT_EQ(bar.rfind("[##############..........]", 0), 0u) << bar;  // 61.7% of 24
}

TEST(ProgressBar, FitsTheTerminalWidth) {
  EXPECT_LE(format_progress_bar(snapshot(), 60).size(), 60u);
}

TEST(ProgressLine, CarriesTheCountsWithoutABar) {
  std::string line = format_progress_line(snapshot());
  EXPECT_EQ(line.find('#'), std::string::npos);
  EXPECT_NE(line.find("done 1000, failed 234"), std::string::npos) << line;
  EXPECT_NE(line.find("INTERNAL_ERROR 12"), std::string::npos) << line;
}

TEST(SummaryJson, IsOneLineOfValidJsonWithTheCountsAndHowTheRunEnded) {
  FinishedRun r;
  r.run_id = 9;
  r.end = RunEnd::kOutOfQuota;
  r.detail = "OUT_OF_QUOTA after 50 requests";
  r.stats = snapshot().stats;
  r.total = 2000;
  r.remaining = 766;
  r.elapsed_seconds = 28.6;
  r.requests_per_second = 48.95;
  std::string line = finished_run_json(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["run_id"], 9);
  EXPECT_EQ(j["ended"], "out_of_quota");
  EXPECT_EQ(j["exit_code"], 75);
  EXPECT_EQ(j["done"], 1000);
  EXPECT_EQ(j["throttled"], 3);
  EXPECT_EQ(j["remaining"], 766);
  EXPECT_EQ(j["by_code"]["INTERNAL_ERROR"], 12);
  EXPECT_DOUBLE_EQ(j["req_per_s"].get<double>(), 49.0);
}

}  // namespace
}  // namespace lf
