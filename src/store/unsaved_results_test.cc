// The unsaved-results file: lines round-trip, a line cut short is skipped,
// importing stores each result once and removes the file.
#include "store/unsaved_results.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/outcomes_for_test.h"
#include "store/sqlite_store.h"
#include "store/statement.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

TEST(UnsavedResultLine, AnAnswerAndAFailureRoundTrip) {
  UnsavedResult r;
  r.owner = "run-3";
  r.run_id = 3;
  r.settlement.job_id = 17;
  r.settlement.kind = SettleKind::kDone;
  r.settlement.attempt_id = 99;
  r.settlement.outcome = ok_outcome(17, 0.7027237415313721);
  r.settlement.outcome->answer->reason = "\xff\xfe not UTF-8";
  r.counts.done = 1;
  const std::string line = to_json_line(r);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  auto back = parse_unsaved_result(line);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->owner, "run-3");
  EXPECT_EQ(back->run_id, 3);
  EXPECT_EQ(back->settlement.job_id, 17);
  EXPECT_EQ(back->settlement.kind, SettleKind::kDone);
  EXPECT_EQ(back->settlement.attempt_id, 99);
  EXPECT_EQ(back->counts.done, 1);
  ASSERT_TRUE(back->settlement.outcome && back->settlement.outcome->answer);
  EXPECT_DOUBLE_EQ(*back->settlement.outcome->answer->verify_score, 0.7027237415313721);
  EXPECT_EQ(back->settlement.outcome->answer->request_id, "req-17");
  EXPECT_EQ(back->settlement.outcome->started_at, 1000);
  EXPECT_EQ(back->settlement.outcome->finished_at, 1250);

  UnsavedResult f;
  f.owner = "run-3";
  f.run_id = 3;
  f.settlement.job_id = 18;
  f.settlement.kind = SettleKind::kRetryLater;
  f.settlement.next_attempt_at = 5000;
  f.settlement.outcome = Outcome{};
  f.settlement.outcome->failure = TransportFailure::kConnectionLost;
  f.settlement.outcome->failure_detail = "connection reset by peer";
  f.counts.retried = 1;
  auto failure = parse_unsaved_result(to_json_line(f));
  ASSERT_TRUE(failure.ok()) << failure.error().message;
  EXPECT_EQ(failure->settlement.kind, SettleKind::kRetryLater);
  EXPECT_EQ(failure->settlement.next_attempt_at, 5000);
  EXPECT_EQ(failure->settlement.outcome->failure, TransportFailure::kConnectionLost);
  EXPECT_EQ(failure->settlement.outcome->failure_detail, "connection reset by peer");
}

TEST(UnsavedResultLine, ALineCutShortIsNotAResult) {
  UnsavedResult r;
  r.owner = "run-1";
  r.run_id = 1;
  r.settlement.job_id = 1;
  r.settlement.kind = SettleKind::kDone;
  r.settlement.outcome = ok_outcome(1, 0.5);
  const std::string line = to_json_line(r);
  EXPECT_FALSE(parse_unsaved_result(line.substr(0, line.size() / 2)).ok());
  EXPECT_FALSE(parse_unsaved_result("{}").ok());
}

class UnsavedImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::open(dir_.file("q.db"), /*create=*/true);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    db_ = store_->sqlite();
    queue_ = &store_->queue();
    log_ = &store_->log();
    std::vector<NewJob> jobs = {{SourceKind::kUrl, "https://x/1.jpg", false, ""},
                                {SourceKind::kUrl, "https://x/2.jpg", false, ""}};
    ASSERT_TRUE(queue_->enqueue(jobs, false, 100).ok());
    run_ = log_->start_run("{}", "h", 1, 100).value();
    leased_ = queue_->lease(2, "run-" + std::to_string(run_), 200, 60'000).value();
    ASSERT_EQ(leased_.size(), 2u);
    auto ids = queue_->record_sent(
        std::vector<SentAttempt>{{leased_[0].id, 300}, {leased_[1].id, 300}}, run_);
    ASSERT_TRUE(ids.ok());
    attempts_ = *ids;
    path_ = unsaved_results_path(dir_.file("q.db"));
  }

  UnsavedResult result(std::size_t i, double score) {
    UnsavedResult r;
    r.owner = "run-" + std::to_string(run_);
    r.run_id = run_;
    r.settlement.job_id = leased_[i].id;
    r.settlement.kind = SettleKind::kDone;
    r.settlement.attempt_id = attempts_[i];
    r.settlement.outcome = ok_outcome(leased_[i].id, score);
    r.counts.done = 1;
    return r;
  }

  std::string cell(const std::string& sql) {
    auto st = Statement::prepare(db_->handle(), sql);
    EXPECT_TRUE(st.ok());
    auto row = st->step();
    EXPECT_TRUE(row.ok() && *row);
    return st->column_text(0);
  }

  TempDirForTest dir_;
  std::unique_ptr<SqliteStore> store_;
  Database* db_ = nullptr;     // store_'s
  JobQueue* queue_ = nullptr;  // store_'s
  RunLog* log_ = nullptr;      // store_'s
  RunId run_ = 0;
  std::vector<Job> leased_;
  std::vector<AttemptId> attempts_;
  std::string path_;
};

TEST_F(UnsavedImportTest, TheFileSitsBesideTheDatabaseWhateverPathReachesIt) {
  std::filesystem::create_symlink(dir_.file("q.db"), dir_.file("link.db"));
  EXPECT_EQ(unsaved_results_path(dir_.file("link.db")), path_);
  EXPECT_EQ(path_, (std::filesystem::canonical(dir_.path()) / "q.db").string() +
                       ".unsaved-results.jsonl");
}

TEST_F(UnsavedImportTest, ImportStoresEachResultOnceAndRemovesTheFile) {
  std::vector<UnsavedResult> results = {result(0, 0.9), result(1, 0.4)};
  ASSERT_TRUE(append_unsaved_results(path_, std::span(results).first(1)).ok());
  ASSERT_TRUE(append_unsaved_results(path_, std::span(results).subspan(1)).ok());
  EXPECT_EQ(std::filesystem::status(path_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A crash in the middle of an append leaves half a line: skipped.
  std::ofstream(path_, std::ios::app) << to_json_line(result(0, 0.1)).substr(0, 30);

  EXPECT_EQ(count_unsaved_results(path_), 3) << "two results and the half line";
  auto imported = import_unsaved_results(*store_, path_, 5000);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->imported, 2);
  EXPECT_EQ(imported->already_stored, 0);
  EXPECT_EQ(imported->unreadable, 1);
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(count_unsaved_results(path_), 0);
  EXPECT_EQ(cell("SELECT group_concat(state || ':' || verify_score, ' ') FROM jobs"),
            "done:0.9 done:0.4");
  EXPECT_EQ(cell("SELECT count(*) || ' ' || sum(disposition = 'done') FROM attempts"), "2 2");
  EXPECT_EQ(cell("SELECT done FROM runs"), "2");

  // The same results once more (a file written again, or committed after
  // all): nothing changes, nothing is counted twice.
  ASSERT_TRUE(append_unsaved_results(path_, results).ok());
  imported = import_unsaved_results(*store_, path_, 6000);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->imported, 0);
  EXPECT_EQ(imported->already_stored, 2);
  EXPECT_EQ(cell("SELECT done FROM runs"), "2");
  EXPECT_EQ(cell("SELECT group_concat(attempts || ':' || finished_at, ' ') FROM jobs"),
            "1:5000 1:5000");
}

TEST_F(UnsavedImportTest, NoFileImportsNothing) {
  auto imported = import_unsaved_results(*store_, path_, 5000);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->imported + imported->already_stored + imported->unreadable, 0);
}

TEST_F(UnsavedImportTest, AnUnwritableDirectoryIsAnErrorNamingTheFile) {
  std::vector<UnsavedResult> results = {result(0, 0.9)};
  Status s = append_unsaved_results(dir_.file("missing/dir/x.jsonl"), results);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("missing/dir/x.jsonl"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lf
