// The StoreWorker on a real SQLite file: answers are committed without
// waiting for a batch or a tick; a database locked by another connection
// sends answers to the unsaved-results file, holds new attempts back, and is
// caught up with once free; past its patience the worker gives up with the
// answers in the file.
#include "runner/store_worker.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "store/outcomes_for_test.h"
#include "store/sqlite_store.h"
#include "store/statement.h"
#include "core/temp_dir_for_test.h"
#include "store/unsaved_results.h"

namespace lf {
namespace {

using namespace std::chrono_literals;

// Polls `condition` every millisecond for up to `limit`; a generous limit,
// so the test fails only when the condition never comes (not a timing test).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

class StoreWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("q.db");
    store_ = SqliteStore::open(path_, /*create=*/true).value();
    queue_ = &store_->queue();
    log_ = &store_->log();
    std::vector<NewJob> jobs;
    for (int i = 0; i < 4; ++i) jobs.push_back({SourceKind::kFileId, "id" + std::to_string(i), false, ""});
    ASSERT_TRUE(queue_->enqueue(jobs, false, 100).ok());
    run_ = log_->start_run("{}", "h", 1, 100).value();
    jobs_ = queue_->lease(4, owner(), 200, 600'000).value();
    // A second connection, as a user's sqlite3 or another lfbatch would be.
    other_ = Database::open(path_).value();
  }

  std::string owner() const { return "run-" + std::to_string(run_); }

  StoreWorkerOptions options() {
    StoreWorkerOptions o;
    o.owner = owner();
    o.run_id = run_;
    o.lease_millis = 600'000;  // renewals every 150 s: never what commits an answer here
    o.lock_wait = 50ms;
    o.patience = 60s;
    o.unsaved_path = unsaved_results_path(path_);
    o.now = [] { return UnixMillis{5000}; };
    o.on_blocked = [this](const Error&) { ++blocked_; };
    o.on_unblocked = [this] { ++unblocked_; };
    o.on_fatal = [this](const Error& e) {
      std::lock_guard lock(mu_);
      fatal_ = e.message;
    };
    return o;
  }

  // record_sent, waiting for its id.
  AttemptId sent(StoreWorker& worker, JobId job) {
    std::promise<Result<AttemptId>> promise;
    worker.record_sent(job, 1000, [&](Result<AttemptId> id) { promise.set_value(std::move(id)); });
    Result<AttemptId> id = promise.get_future().get();
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
  }

  void settle_done(StoreWorker& worker, JobId job, AttemptId attempt, double score) {
    Settlement s{job, SettleKind::kDone, 0, ok_outcome(job, score), attempt};
    RunCounts delta;
    delta.done = 1;
    worker.settle(std::move(s), delta);
  }

  // Read on the other connection (the worker owns store_).
  std::string cell(const std::string& sql) {
    auto st = Statement::prepare(other_->handle(), sql);
    EXPECT_TRUE(st.ok()) << st.error().message;
    auto row = st->step();
    if (!row.ok() || !*row) return "<no row>";
    return st->column_text(0);
  }

  TempDirForTest dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Database> other_;
  JobQueue* queue_ = nullptr;  // store_'s
  RunLog* log_ = nullptr;      // store_'s
  RunId run_ = 0;
  std::vector<Job> jobs_;
  std::atomic<int> blocked_{0}, unblocked_{0};
  std::mutex mu_;
  std::string fatal_;
};

TEST_F(StoreWorkerTest, AnAnswerIsCommittedWithoutWaitingForABatchOrATick) {
  StoreWorker worker(*store_, options());
  const AttemptId attempt = sent(worker, jobs_[0].id);
  EXPECT_EQ(cell("SELECT disposition || ' ' || (finished_at IS NULL) FROM attempts"), "sent 1")
      << "the attempt is on record before the request leaves";
  EXPECT_EQ(cell("SELECT requests FROM runs"), "1");
  settle_done(worker, jobs_[0].id, attempt, 0.75);
  // One answer alone, far below any batch size, long before a renewal.
  EXPECT_TRUE(eventually([&] { return worker.committed() == 1; }));
  EXPECT_EQ(cell("SELECT state || ' ' || verify_score FROM jobs WHERE id = " +
                 std::to_string(jobs_[0].id)),
            "done 0.75");
  EXPECT_EQ(cell("SELECT done FROM runs"), "1") << "the run's counts commit with the result";
}

TEST_F(StoreWorkerTest, ALockedDatabaseSendsAnswersToTheFileHoldsNewAttemptsAndCatchesUp) {
  StoreWorker worker(*store_, options());
  const AttemptId a0 = sent(worker, jobs_[0].id);
  const AttemptId a1 = sent(worker, jobs_[1].id);
  const std::string unsaved = unsaved_results_path(path_);

  ASSERT_TRUE(other_->exec("BEGIN IMMEDIATE").ok());  // another process takes the write lock
  settle_done(worker, jobs_[0].id, a0, 0.81);
  ASSERT_TRUE(eventually([&] { return count_unsaved_results(unsaved) == 1; }))
      << "the answer is saved beside the database while the lock is held";
  settle_done(worker, jobs_[1].id, a1, 0.82);
  ASSERT_TRUE(eventually([&] { return count_unsaved_results(unsaved) == 2; }))
      << "an answer arriving while blocked is saved at once";
  EXPECT_EQ(blocked_.load(), 1);

  std::atomic<bool> got_id{false};
  worker.record_sent(jobs_[2].id, 1000, [&](Result<AttemptId> id) { got_id = id.ok(); });
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(got_id.load()) << "no new request may leave while nothing can be recorded";
  EXPECT_EQ(worker.committed(), 0);

  ASSERT_TRUE(other_->exec("COMMIT").ok());
  ASSERT_TRUE(eventually([&] { return worker.committed() == 2 && got_id.load(); }));
  EXPECT_TRUE(eventually([&] { return unblocked_.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(unsaved); }))
      << "committed: the file is no longer needed";
  EXPECT_EQ(cell("SELECT group_concat(state, ',') FROM (SELECT state FROM jobs ORDER BY id)"),
            "done,done,leased,leased");
  EXPECT_EQ(cell("SELECT count(*) FROM attempts"), "3");
}

TEST_F(StoreWorkerTest, PastItsPatienceTheWorkerGivesUpWithTheAnswersInTheFile) {
  StoreWorkerOptions o = options();
  o.patience = 300ms;
  auto worker = std::make_unique<StoreWorker>(*store_, o);
  const AttemptId a0 = sent(*worker, jobs_[0].id);
  ASSERT_TRUE(other_->exec("BEGIN IMMEDIATE").ok());
  settle_done(*worker, jobs_[0].id, a0, 0.66);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu_);
    return !fatal_.empty();
  }));
  {
    std::lock_guard lock(mu_);
    EXPECT_NE(fatal_.find("database is locked"), std::string::npos) << fatal_;
    EXPECT_NE(fatal_.find(unsaved_results_path(path_)), std::string::npos) << fatal_;
  }
  std::atomic<int> refused{0};
  worker->record_sent(jobs_[1].id, 1000, [&](Result<AttemptId> id) { refused += id.ok() ? 0 : 1; });
  EXPECT_TRUE(eventually([&] { return refused.load() == 1; })) << "no request after giving up";
  worker->stop();
  worker.reset();
  ASSERT_TRUE(other_->exec("COMMIT").ok());

  // The next run (here: the import it starts with) stores the answer.
  auto other_store = SqliteStore::open(path_, /*create=*/false).value();
  auto imported = import_unsaved_results(*other_store, unsaved_results_path(path_), 9000);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->imported, 1);
  EXPECT_EQ(cell("SELECT state || ' ' || verify_score FROM jobs WHERE id = " +
                 std::to_string(jobs_[0].id)),
            "done 0.66");
}

}  // namespace
}  // namespace lf
