#include "cli/metrics_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunMetrics sample_metrics() {
  RunMetrics m;
  m.run_id = 4;
  m.ended = "out_of_quota";
  m.exit_code = 75;
  m.requests = 120;
  m.done = 100;
  m.failed = 8;
  m.throttled = 3;
  m.quota_used = 110;
  m.decided_locally = 6;
  m.reused = 11;
  m.sent_by_image_id = 2;
  m.duration_seconds = 2.5;
  m.requests_per_second = 48.0;
  m.by_code = {{"INTERNAL_ERROR", 4}, {"RATE_LIMIT_EXCEEDED", 3}};
  m.finished_at_seconds = 1764572400.25;
  m.have_queue = true;
  m.jobs_by_state = {{"done", 100}, {"failed", 8}, {"leased", 0}, {"pending", 42}};
  m.results_by_status = {{"OK", 100}, {"FACE_DETECTION_FAILED", 8}};
  m.requests_all_runs = 500;
  m.throttled_all_runs = 9;
  m.last_success_seconds = 1764486000.0;
  return m;
}

TEST(MetricsFile, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  const std::string text = render_metrics(sample_metrics());
  std::istringstream in(text);
  std::string line, declared;
  int families = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      declared = line.substr(7, line.find(' ', 7) - 7);
      ++families;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, line.find(' ', 7) - 7), declared) << line;
      continue;
    }
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.rfind(declared, 0), 0u) << line << " outside family " << declared;
    EXPECT_EQ(line.rfind("lfbatch_", 0), 0u) << line;
  }
  EXPECT_GE(families, 18);
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsFile, CarriesTheRunsFiguresWithConventionalNames) {
  const std::string text = render_metrics(sample_metrics());
  EXPECT_THAT(text, HasSubstr("# TYPE lfbatch_requests_total counter\nlfbatch_requests_total 500\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_jobs{state=\"pending\"} 42\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_results{status=\"OK\"} 100\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_exit_code 75\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_ended{how=\"out_of_quota\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_quota_used 110\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_calls_saved{by=\"preflight\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_calls_saved{by=\"reused\"} 11\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_sent_by_image_id 2\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_answers{code=\"INTERNAL_ERROR\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_duration_seconds 2.5\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_timestamp_seconds 1764572400.25\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_success_timestamp_seconds 1764486000\n"));
  // Gauges never end in _total (that suffix promises a counter).
  EXPECT_THAT(text, Not(HasSubstr("_total gauge")));
}

TEST(MetricsFile, RunThatNeverBeganHasNoQueueFiguresAndZeroLastSuccess) {
  RunMetrics m;
  m.exit_code = 78;
  const std::string text = render_metrics(m);
  EXPECT_THAT(text, Not(HasSubstr("lfbatch_jobs")));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_ended{how=\"not_started\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_exit_code 78\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_success_timestamp_seconds 0\n"));
}

TEST(MetricsFile, EscapesLabelValuesAsTheTextFormatSays) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  RunMetrics m;
  m.by_code = {{"ODD\"CODE\n", 1}};
  EXPECT_THAT(render_metrics(m), HasSubstr(R"(lfbatch_last_run_answers{code="ODD\"CODE\n"} 1)"));
}

TEST(MetricsFile, WriteReplacesTheFileAndLeavesNoTemporary) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lf_metrics_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "lfbatch.prom").string();
  ASSERT_TRUE(write_metrics_file(path, "old\n").ok());
  ASSERT_TRUE(write_metrics_file(path, "new\n").ok());
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "new\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  Status s = write_metrics_file((dir / "no-such-dir" / "x.prom").string(), "x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no-such-dir"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lf
