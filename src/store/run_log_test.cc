// The runs table: start, counts, finish, and runs that never finished.
#include "store/run_log.h"
#include "store/sqlite_run_log.h"

#include <gtest/gtest.h>

#include "store/job_queue.h"
#include "store/sqlite_job_queue.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

class RunLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.file("runs.db"));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    log_ = std::make_unique<SqliteRunLog>(*db_);
  }

  RunRecord record(RunId id) {
    auto run = log_->run(id);
    EXPECT_TRUE(run.ok() && run->has_value());
    return run.ok() && run->has_value() ? **run : RunRecord{};
  }

  TempDirForTest dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RunLog> log_;
};

TEST_F(RunLogTest, ARunIsStartedCountedAndFinished) {
  auto id = log_->start_run(R"({"concurrency":8})", "box-1", 4242, 1000);
  ASSERT_TRUE(id.ok()) << id.error().message;
  RunRecord started = record(*id);
  EXPECT_EQ(started.started_at, 1000);
  EXPECT_FALSE(started.finished_at.has_value());
  EXPECT_EQ(started.host, "box-1");
  EXPECT_EQ(started.pid, 4242);
  EXPECT_EQ(started.settings, R"({"concurrency":8})");

  ASSERT_TRUE(log_->add_counts(*id, 10, 6, 1, 3, 2).ok());
  ASSERT_TRUE(log_->add_counts(*id, RunCounts{5, 4, 0, 1, 0}).ok());
  ASSERT_TRUE(log_->finish_run(*id, "completed", "queue empty", 9000).ok());

  RunRecord finished = record(*id);
  EXPECT_EQ(finished.finished_at, 9000);
  EXPECT_EQ(finished.ended_how, "completed");
  EXPECT_EQ(finished.ended_detail, "queue empty");
  EXPECT_EQ(finished.counts.requests, 15);
  EXPECT_EQ(finished.counts.done, 10);
  EXPECT_EQ(finished.counts.failed, 1);
  EXPECT_EQ(finished.counts.retried, 4);
  EXPECT_EQ(finished.counts.throttled, 2);
}

TEST_F(RunLogTest, CountsOrAnEndForAnUnknownRunAreRefused) {
  EXPECT_FALSE(log_->add_counts(77, 1, 0, 0, 0, 0).ok());
  Status status = log_->finish_run(77, "completed", "", 1);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no run 77"), std::string::npos);
}

TEST_F(RunLogTest, UnfinishedRunsAreMarkedCrashedAtTheirLastAttempt) {
  const RunId finished = log_->start_run("{}", "h", 1, 1000).value();
  ASSERT_TRUE(log_->finish_run(finished, "interrupted", "SIGINT", 2000).ok());
  const RunId silent = log_->start_run("{}", "h", 2, 3000).value();
  const RunId busy = log_->start_run("{}", "h", 3, 4000).value();

  SqliteJobQueue queue(*db_);
  std::vector<NewJob> jobs = {{SourceKind::kUrl, "https://x/1.jpg", false, ""}};
  ASSERT_TRUE(queue.enqueue(jobs, false, 4000).ok());
  const JobId id = queue.lease(1, "r", 4000, 1000).value().at(0).id;
  Outcome outcome;
  outcome.started_at = 4100;
  outcome.finished_at = 4700;
  outcome.failure = TransportFailure::kTimeout;
  std::vector<Settlement> settlements = {{id, SettleKind::kRetryLater, 9000, outcome}};
  ASSERT_TRUE(queue.settle(settlements, "r", busy, 4800).ok());

  auto marked = log_->mark_crashed_runs();
  ASSERT_TRUE(marked.ok()) << marked.error().message;
  EXPECT_EQ(*marked, 2);
  EXPECT_EQ(record(finished).ended_how, "interrupted");
  EXPECT_EQ(record(silent).ended_how, "crashed");
  EXPECT_EQ(record(silent).finished_at, 3000);
  EXPECT_NE(record(silent).ended_detail.find("pid 2 on h"), std::string::npos)
      << record(silent).ended_detail;
  EXPECT_EQ(record(busy).ended_how, "crashed");
  EXPECT_EQ(record(busy).finished_at, 4700);
  EXPECT_EQ(*log_->mark_crashed_runs(), 0);
}

TEST_F(RunLogTest, RecentRunsComeNewestFirst) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log_->start_run("{}", "h", i, 1000 + i).ok());
  auto runs = log_->recent_runs(3);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].started_at, 1004);
  EXPECT_EQ((*runs)[2].started_at, 1002);
  EXPECT_FALSE(log_->run(999).value().has_value());
}

}  // namespace
}  // namespace lf
