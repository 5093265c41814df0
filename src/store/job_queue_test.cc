// The job queue on real SQLite files: enqueue and dedup, leasing order and
// atomicity, settlements, expired leases, counts.
#include "store/job_queue.h"
#include "store/sqlite_job_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <latch>
#include <set>
#include <thread>

#include "store/job_queue_sql.h"
#include "store/outcomes_for_test.h"
#include "store/run_log.h"
#include "store/sqlite_run_log.h"
#include "store/statement.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

constexpr std::int64_t kLeaseMillis = 30'000;

NewJob url(const std::string& source) {
  return NewJob{SourceKind::kUrl, source, false, ""};
}

std::vector<NewJob> urls(int n, const std::string& prefix = "https://img.example/") {
  std::vector<NewJob> jobs;
  for (int i = 0; i < n; ++i) jobs.push_back(url(prefix + std::to_string(i) + ".jpg"));
  return jobs;
}

Outcome api_outcome(JobId id, ApiStatus status, const std::string& reason = "") {
  Outcome outcome;
  outcome.job_id = id;
  outcome.started_at = 1000;
  outcome.finished_at = 1100;
  ApiAnswer answer;
  answer.http_status = http_status_of(status);
  answer.status = status;
  answer.request_id = "req-x";
  answer.reason = reason;
  outcome.answer = answer;
  return outcome;
}

Outcome transport_outcome(JobId id, TransportFailure failure, const std::string& detail) {
  Outcome outcome;
  outcome.job_id = id;
  outcome.started_at = 1000;
  outcome.finished_at = 6000;
  outcome.failure = failure;
  outcome.failure_detail = detail;
  return outcome;
}

Settlement settlement(JobId id, SettleKind kind, std::optional<Outcome> outcome,
                      UnixMillis next_attempt_at = 0) {
  return Settlement{id, kind, next_attempt_at, std::move(outcome)};
}

class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.file("queue.db"));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    queue_ = std::make_unique<SqliteJobQueue>(*db_);
  }

  EnqueueCounts enqueue(const std::vector<NewJob>& jobs, bool again = false,
                        UnixMillis now = 1000) {
    auto counts = queue_->enqueue(jobs, again, now);
    EXPECT_TRUE(counts.ok()) << counts.error().message;
    return counts.ok() ? *counts : EnqueueCounts{};
  }

  std::vector<Job> lease(int n, const std::string& owner, UnixMillis now,
                         std::int64_t lease_millis = kLeaseMillis) {
    auto jobs = queue_->lease(n, owner, now, lease_millis);
    EXPECT_TRUE(jobs.ok()) << jobs.error().message;
    return jobs.ok() ? *jobs : std::vector<Job>{};
  }

  std::int64_t settle(std::vector<Settlement> settlements, const std::string& owner,
                      UnixMillis now = 2000, RunId run = 0) {
    auto ignored = queue_->settle(settlements, owner, run, now);
    EXPECT_TRUE(ignored.ok()) << ignored.error().message;
    return ignored.ok() ? *ignored : -1;
  }

  // One column of one row, as text ("NULL" for NULL).
  std::string cell(const std::string& sql) {
    auto statement = Statement::prepare(db_->handle(), sql);
    EXPECT_TRUE(statement.ok()) << statement.error().message;
    auto row = statement->step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    if (!row.ok() || !*row) return "<no row>";
    return statement->column_is_null(0) ? "NULL" : statement->column_text(0);
  }
  // The rows of a query of `columns` columns, one line each, cells
  // separated by a space.
  std::string rows(const std::string& sql, int columns) {
    auto statement = Statement::prepare(db_->handle(), sql);
    EXPECT_TRUE(statement.ok()) << statement.error().message;
    std::string text;
    while (statement.ok()) {
      auto row = statement->step();
      EXPECT_TRUE(row.ok()) << sql;
      if (!row.ok() || !*row) break;
      for (int i = 0; i < columns; ++i) {
        text += (i ? " " : "") + statement->column_text(i);
      }
      text += "\n";
    }
    return text;
  }

  // job_counts against a count of the jobs table, and counts() against the
  // GROUP BY queries it replaced.
  void expect_counters_exact(const std::string& after, UnixMillis now = 2000) {
    SCOPED_TRACE("after " + after);
    EXPECT_EQ(rows("SELECT state, api_status, n FROM job_counts WHERE n <> 0 ORDER BY 1, 2", 3),
              rows("SELECT state, CASE WHEN state IN ('done', 'failed')"
                   " THEN coalesce(api_status, '') ELSE '' END, count(*)"
                   " FROM jobs GROUP BY 1, 2 ORDER BY 1, 2", 3));
    EXPECT_EQ(cell("SELECT count(*) FROM job_counts WHERE n < 0"), "0");
    auto counts = queue_->counts(now);
    ASSERT_TRUE(counts.ok()) << counts.error().message;
    std::string by_state, by_status;
    for (const auto& [state, n] : counts->by_state) {
      if (n != 0) by_state += state + " " + std::to_string(n) + "\n";
    }
    for (const auto& [status, n] : counts->by_status) {
      by_status += status + " " + std::to_string(n) + "\n";
    }
    EXPECT_EQ(by_state, rows("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY 1", 2));
    EXPECT_EQ(by_status, rows("SELECT coalesce(api_status, ''), count(*) FROM jobs"
                              " WHERE state IN ('done', 'failed') GROUP BY 1 ORDER BY 1", 2));
    EXPECT_EQ(std::to_string(counts->total), cell("SELECT count(*) FROM jobs"));
    EXPECT_EQ(std::to_string(counts->due_now),
              cell("SELECT count(*) FROM jobs WHERE state = 'pending' AND next_attempt_at <= " +
                   std::to_string(now)));
  }

  std::string job_cell(JobId id, const std::string& column) {
    return cell("SELECT " + column + " FROM jobs WHERE id = " + std::to_string(id));
  }

  TempDirForTest dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_F(JobQueueTest, EnqueueAddsPendingJobsWithTheirFields) {
  std::vector<NewJob> jobs = {
      {SourceKind::kPath, "/photos/a.jpg", true, "batch-7"},
      {SourceKind::kUrl, "https://img.example/b.jpg", false, ""},
      {SourceKind::kFileId, "6f2c0a", false, ""},
  };
  EnqueueCounts counts = enqueue(jobs, false, 1234);
  EXPECT_EQ(counts.added, 3);
  EXPECT_EQ(counts.already_queued + counts.already_done + counts.already_failed, 0);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs WHERE state = 'pending'"), "3");
  EXPECT_EQ(cell("SELECT source_kind || ' ' || auto_rotate || ' ' || tag || ' ' || "
                 "next_attempt_at || ' ' || created_at FROM jobs WHERE source = '/photos/a.jpg'"),
            "path 1 batch-7 1234 1234");
  EXPECT_EQ(cell("SELECT tag FROM jobs WHERE source_kind = 'file_id'"), "NULL");
}

TEST_F(JobQueueTest, EnqueueSkipsSourcesAlreadyQueuedDoneOrFailedAndCountsEach) {
  enqueue({url("a"), url("b"), url("c")});
  std::vector<Job> leased = lease(3, "r1", 1000);
  ASSERT_EQ(leased.size(), 3u);
  settle({settlement(leased[0].id, SettleKind::kDone, ok_outcome(leased[0].id, 0.9)),
          settlement(leased[1].id, SettleKind::kFailed,
                     api_outcome(leased[1].id, ApiStatus::kCorruptImage))},
         "r1");
  // c is still leased: "queued" covers pending and leased.
  EnqueueCounts counts = enqueue({url("a"), url("b"), url("c"), url("d")});
  EXPECT_EQ(counts.added, 1);
  EXPECT_EQ(counts.already_done, 1);
  EXPECT_EQ(counts.already_failed, 1);
  EXPECT_EQ(counts.already_queued, 1);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs"), "4");
}

TEST_F(JobQueueTest, EnqueueCountsADuplicateWithinOneListOnce) {
  EnqueueCounts counts = enqueue({url("a"), url("a"), url("b")});
  EXPECT_EQ(counts.added, 2);
  EXPECT_EQ(counts.already_queued, 1);
}

TEST_F(JobQueueTest, ARepeatWithinOneListCountsLikeItsFirstListing) {
  enqueue({url("done-one")});
  const JobId id = lease(1, "r1", 1000).at(0).id;
  settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.9))}, "r1");
  EnqueueCounts counts =
      enqueue({url("done-one"), url("new"), url("done-one"), url("new"), url("new")});
  EXPECT_EQ(counts.added, 1);
  EXPECT_EQ(counts.already_done, 2);
  EXPECT_EQ(counts.already_queued, 2);
  EnqueueCounts again = enqueue({url("x"), url("x")}, /*again=*/true);
  EXPECT_EQ(again.added, 1);
  EXPECT_EQ(again.already_queued, 1);
}

TEST_F(JobQueueTest, JobsAreQueuedInListOrder) {
  std::vector<NewJob> jobs = {url("c"), url("a"), url("d"), url("b")};
  enqueue(jobs);
  std::vector<Job> leased = lease(10, "r1", 1000);
  ASSERT_EQ(leased.size(), 4u);
  for (std::size_t i = 0; i < jobs.size(); ++i) EXPECT_EQ(leased[i].source, jobs[i].source);
}

TEST_F(JobQueueTest, MixedKindsTagsAndRotationKeepTheirOwnFields) {
  std::vector<NewJob> jobs = {
      {SourceKind::kPath, "/p/1.jpg", false, "t1"}, {SourceKind::kPath, "/p/2.jpg", true, "t1"},
      {SourceKind::kUrl, "https://h/3.jpg", true, ""}, {SourceKind::kPath, "/p/4.jpg", false, "t2"},
      {SourceKind::kFileId, "abc", false, "t2"}};
  EXPECT_EQ(enqueue(jobs).added, 5);
  EXPECT_EQ(cell("SELECT group_concat(source_kind || ':' || auto_rotate || ':' || "
                 "coalesce(tag, '-'), ' ') FROM (SELECT * FROM jobs ORDER BY id)"),
            "path:0:t1 path:1:t1 url:1:- path:0:t2 file_id:0:t2");
}

TEST_F(JobQueueTest, SourcesWithQuotesControlCharactersAndNonUtf8BytesArriveIntact) {
  const std::vector<std::string> sources = {
      "/photos/\"quoted\" name.jpg", "/photos/back\\slash.jpg", "/photos/new\nline\ttab.jpg",
      std::string("/photos/latin1-\xe9t\xe9.jpg"), "/photos/\xe4\xb8\xad\xe6\x96\x87.jpg",
      "/photos/\x01\x1f.jpg"};
  std::vector<NewJob> jobs;
  for (const std::string& source : sources) jobs.push_back({SourceKind::kPath, source, false, ""});
  EXPECT_EQ(enqueue(jobs).added, static_cast<std::int64_t>(sources.size()));
  std::vector<Job> leased = lease(10, "r1", 1000);
  ASSERT_EQ(leased.size(), sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) EXPECT_EQ(leased[i].source, sources[i]);
  EXPECT_EQ(enqueue(jobs).already_queued, static_cast<std::int64_t>(sources.size()));
}

TEST_F(JobQueueTest, TheSameTextAsAnotherKindOfSourceIsNotADuplicate) {
  enqueue({NewJob{SourceKind::kFileId, "abc", false, ""}});
  EnqueueCounts counts = enqueue({NewJob{SourceKind::kPath, "abc", false, ""}});
  EXPECT_EQ(counts.added, 1);
}

TEST_F(JobQueueTest, EnqueueAgainAddsANewJobAndTheOldOneKeepsItsResult) {
  enqueue({url("a")});
  std::vector<Job> leased = lease(1, "r1", 1000);
  ASSERT_EQ(leased.size(), 1u);
  settle({settlement(leased[0].id, SettleKind::kDone, ok_outcome(leased[0].id, 0.8))}, "r1");

  EnqueueCounts counts = enqueue({url("a")}, /*again=*/true, 3000);
  EXPECT_EQ(counts.added, 1);
  EXPECT_EQ(cell("SELECT group_concat(state, ',') FROM (SELECT state FROM jobs ORDER BY id)"),
            "done,pending");
  EXPECT_EQ(job_cell(leased[0].id, "verify_score"), "0.8");
  // Dedup then looks at the newest job of the source.
  EnqueueCounts later = enqueue({url("a")});
  EXPECT_EQ(later.already_queued, 1);
  EXPECT_EQ(later.already_done, 0);
}

TEST_F(JobQueueTest, EnqueueRefusesAnEmptySourceAndAddsNothing) {
  auto counts = queue_->enqueue(std::vector<NewJob>{url("a"), url("")}, false, 1000);
  ASSERT_FALSE(counts.ok());
  EXPECT_NE(counts.error().message.find("source number 2 is empty"), std::string::npos);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs"), "0");
}

TEST_F(JobQueueTest, EnqueueSpanningSeveralBatchesAddsEveryRowOnce) {
  std::vector<NewJob> jobs = urls(120'001);
  EnqueueCounts counts = enqueue(jobs);
  EXPECT_EQ(counts.added, 120'001);
  EnqueueCounts again = enqueue(jobs);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.already_queued, 120'001);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs"), "120001");
}

TEST_F(JobQueueTest, LeaseHandsOutOldestDueFirstThenById) {
  enqueue({url("late")}, false, 5000);
  enqueue({url("early-1"), url("early-2")}, false, 1000);
  std::vector<Job> jobs = lease(10, "r1", 6000);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].source, "early-1");
  EXPECT_EQ(jobs[1].source, "early-2");
  EXPECT_EQ(jobs[2].source, "late");
  EXPECT_EQ(jobs[0].kind, SourceKind::kUrl);
}

TEST_F(JobQueueTest, LeaseTakesOnlyJobsDueAndAtMostTheNumberAsked) {
  enqueue(urls(5), false, 1000);
  enqueue({url("future")}, false, 9000);
  EXPECT_TRUE(lease(10, "r1", 999).empty());
  std::vector<Job> first = lease(3, "r1", 1000);
  EXPECT_EQ(first.size(), 3u);
  std::vector<Job> rest = lease(10, "r1", 1000);
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_TRUE(lease(10, "r1", 8999).empty());
  std::vector<Job> future = lease(10, "r1", 9000);
  ASSERT_EQ(future.size(), 1u);
  EXPECT_EQ(future[0].source, "future");
  EXPECT_TRUE(lease(0, "r1", 10'000).empty());
}

TEST_F(JobQueueTest, LeaseRecordsOwnerAndExpiry) {
  enqueue({url("a")});
  std::vector<Job> jobs = lease(1, "runner-42", 1000, 500);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(job_cell(jobs[0].id, "state || ' ' || lease_owner || ' ' || lease_expires_at"),
            "leased runner-42 1500");
}

TEST_F(JobQueueTest, HotStatementsWalkTheirIndexes) {
  enqueue(urls(100));
  auto plan = [&](const char* sql) {
    std::string text;
    auto statement = Statement::prepare(db_->handle(), std::string("EXPLAIN QUERY PLAN ") + sql);
    EXPECT_TRUE(statement.ok()) << statement.error().message;
    while (true) {
      auto row = statement->step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !*row) break;
      text += statement->column_text(3) + "\n";
    }
    return text;
  };
  const std::string lease_plan = plan(job_queue_sql::kLeaseSql);
  EXPECT_NE(lease_plan.find("USING INDEX jobs_due"), std::string::npos) << lease_plan;
  EXPECT_EQ(lease_plan.find("TEMP B-TREE"), std::string::npos) << lease_plan;
  EXPECT_NE(plan(job_queue_sql::kCountNotDueSql).find("SEARCH jobs USING INDEX jobs_due"),
            std::string::npos);
  const std::string counts_plan = plan(job_queue_sql::kCountsSql);
  EXPECT_NE(counts_plan.find("job_counts"), std::string::npos) << counts_plan;
  EXPECT_EQ(counts_plan.find("jobs "), std::string::npos) << counts_plan;
  // Every probe of work_left starts at its index: none scans the table.
  const std::string left_plan = plan(job_queue_sql::kWorkLeftSql);
  EXPECT_NE(left_plan.find("SCAN jobs USING INDEX jobs_due"), std::string::npos) << left_plan;
  EXPECT_NE(left_plan.find("SCAN jobs USING INDEX jobs_leased"), std::string::npos) << left_plan;
  EXPECT_NE(left_plan.find("SEARCH jobs USING INDEX jobs_due"), std::string::npos) << left_plan;
  EXPECT_EQ(left_plan.find("SCAN jobs\n"), std::string::npos) << left_plan;
  EXPECT_NE(plan(job_queue_sql::kPriorStatesSql).find("jobs_source"), std::string::npos);
  EXPECT_NE(plan(job_queue_sql::kRecoverSql).find("jobs_leased"), std::string::npos);
  EXPECT_NE(plan(job_queue_sql::kRenewSql).find("jobs_lease_owner"), std::string::npos);
  EXPECT_NE(plan(job_queue_sql::kReleaseAllSql).find("jobs_lease_owner"), std::string::npos);
  EXPECT_NE(plan(job_queue_sql::kMarkInDoubtSql).find("attempts_unanswered"), std::string::npos);
  EXPECT_NE(plan(job_queue_sql::kCountInDoubtSql).find("attempts_unanswered"), std::string::npos);
  const std::string on_jobs = plan(job_queue_sql::kCountInDoubtOnJobsSql);
  EXPECT_NE(on_jobs.find("attempts_unanswered"), std::string::npos) << on_jobs;
  EXPECT_EQ(on_jobs.find("SCAN jobs"), std::string::npos) << on_jobs;
}

TEST_F(JobQueueTest, TwoConnectionsRacingToLeaseNeverShareAJob) {
  constexpr int kJobs = 2000;
  enqueue(urls(kJobs));
  const std::string path = db_->path();
  std::vector<JobId> leased[2];
  std::int64_t ignored[2] = {0, 0};
  std::string errors[2];
  std::latch start(2);
  // Each worker leases small batches and settles them, as a runner does, on
  // its own connection; both start together once their connections are open.
  auto worker = [&](int w) {
    auto db = Database::open(path, false);
    start.arrive_and_wait();
    if (!db.ok()) {
      errors[w] = db.error().message;
      return;
    }
    SqliteJobQueue queue(**db);
    const std::string owner = "runner-" + std::to_string(w);
    for (;;) {
      auto jobs = queue.lease(5, owner, 1000, kLeaseMillis);
      if (!jobs.ok()) {
        errors[w] = jobs.error().message;
        return;
      }
      if (jobs->empty()) return;
      std::vector<Settlement> done;
      for (const Job& job : *jobs) {
        leased[w].push_back(job.id);
        done.push_back(settlement(job.id, SettleKind::kDone, ok_outcome(job.id, 0.5)));
      }
      auto settled = queue.settle(done, owner, 0, 1500);
      if (!settled.ok()) {
        errors[w] = settled.error().message;
        return;
      }
      ignored[w] += *settled;
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  std::set<JobId> all(leased[0].begin(), leased[0].end());
  all.insert(leased[1].begin(), leased[1].end());
  EXPECT_EQ(all.size(), leased[0].size() + leased[1].size()) << "a job was leased twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(ignored[0] + ignored[1], 0);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs WHERE state = 'done'"), std::to_string(kJobs));
  EXPECT_EQ(cell("SELECT count(*) FROM attempts"), std::to_string(kJobs));
}

TEST_F(JobQueueTest, AnExpiredLeaseIsRecoveredAndCanBeLeasedAgain) {
  enqueue({url("a")});
  std::vector<Job> jobs = lease(1, "crashed", 1000, 500);
  ASSERT_EQ(jobs.size(), 1u);
  auto early = queue_->recover_expired_leases(1499);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, 0);
  EXPECT_TRUE(lease(1, "other", 1499).empty());
  auto recovered = queue_->recover_expired_leases(1500);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 1);
  EXPECT_EQ(job_cell(jobs[0].id, "state || ' ' || coalesce(lease_owner, '-') || ' ' || attempts"),
            "pending - 0");
  std::vector<Job> again = lease(1, "other", 1600);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, jobs[0].id);
}

TEST_F(JobQueueTest, RenewingKeepsALeaseFromExpiring) {
  enqueue({url("a"), url("b")});
  lease(1, "r1", 1000, 500);
  lease(1, "r2", 1000, 500);
  ASSERT_TRUE(queue_->renew_leases("r1", 9'000, 1'000).ok());
  auto recovered = queue_->recover_expired_leases(2000);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 1) << "only r2's lease had expired";
  EXPECT_EQ(cell("SELECT lease_owner FROM jobs WHERE state = 'leased'"), "r1");
}

TEST_F(JobQueueTest, ASettleByAStaleOwnerIsIgnoredAndNeverOverwritesTheResult) {
  enqueue({url("a")});
  const JobId id = lease(1, "stale", 1000, 500).at(0).id;
  ASSERT_EQ(*queue_->recover_expired_leases(2000), 1);
  ASSERT_EQ(lease(1, "fresh", 2000).at(0).id, id);
  EXPECT_EQ(settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.93))}, "fresh", 2500), 0);

  // The stale runner comes back with its own answers, final and not.
  EXPECT_EQ(settle({settlement(id, SettleKind::kFailed,
                               api_outcome(id, ApiStatus::kFaceDetectionFailed))},
                   "stale", 2600),
            1);
  EXPECT_EQ(settle({settlement(id, SettleKind::kRetryLater,
                               transport_outcome(id, TransportFailure::kTimeout, "read timed out"),
                               9000)},
                   "stale", 2700),
            1);
  EXPECT_EQ(job_cell(id, "state || ' ' || verify_score || ' ' || api_status || ' ' || attempts || "
                         "' ' || finished_at"),
            "done 0.93 OK 1 2500");
  // Both requests were really sent: their attempts are kept.
  EXPECT_EQ(cell("SELECT count(*) FROM attempts WHERE job_id = " + std::to_string(id)), "3");
}

TEST_F(JobQueueTest, ALateSecondSettleOfTheSameOwnerIsIgnored) {
  enqueue({url("a")});
  const JobId id = lease(1, "r1", 1000).at(0).id;
  EXPECT_EQ(settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.7))}, "r1"), 0);
  EXPECT_EQ(settle({settlement(id, SettleKind::kRelease, std::nullopt)}, "r1"), 1);
  EXPECT_EQ(job_cell(id, "state"), "done");
}

TEST_F(JobQueueTest, DoneStoresTheResultAndOneAttemptRow) {
  enqueue({url("a")});
  SqliteRunLog runs(*db_);
  auto run = runs.start_run("{}", "host", 1, 900);
  ASSERT_TRUE(run.ok());
  const JobId id = lease(1, "r1", 1000).at(0).id;
  settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.91, 1000, 1250))}, "r1", 1300, *run);
  EXPECT_EQ(job_cell(id, "state || '|' || attempts || '|' || verify_score || '|' || image_id || "
                         "'|' || request_id || '|' || api_status || '|' || http_status || '|' || "
                         "finished_at || '|' || coalesce(lease_owner, '-') || '|' || "
                         "coalesce(reason, '-')"),
            "done|1|0.91|img-" + std::to_string(id) + "|req-" + std::to_string(id) +
                "|OK|200|1300|-|-");
  EXPECT_EQ(cell("SELECT run_id || '|' || started_at || '|' || finished_at || '|' || http_status "
                 "|| '|' || api_status || '|' || request_id || '|' || verify_score || '|' || "
                 "image_id || '|' || latency_ms || '|' || disposition FROM attempts"),
            std::to_string(*run) + "|1000|1250|200|OK|req-" + std::to_string(id) + "|0.91|img-" +
                std::to_string(id) + "|250.0|done");
}

TEST_F(JobQueueTest, FailedStoresTheApiStatusAndReason) {
  enqueue({url("a")});
  const JobId id = lease(1, "r1", 1000).at(0).id;
  settle({settlement(id, SettleKind::kFailed,
                     api_outcome(id, ApiStatus::kEncodingError, "file name is not UTF-8"))},
         "r1");
  EXPECT_EQ(job_cell(id, "state || '|' || api_status || '|' || reason || '|' || http_status || "
                         "'|' || coalesce(verify_score, '-')"),
            "failed|ENCODING_ERROR|file name is not UTF-8|400|-");
  EXPECT_EQ(cell("SELECT disposition FROM attempts"), "permanent_failure");
}

TEST_F(JobQueueTest, RetryLaterCountsAnAttemptAndThrottledDoesNot) {
  enqueue({url("a")});
  JobId id = lease(1, "r1", 1000).at(0).id;
  settle({settlement(id, SettleKind::kRetryLater,
                     transport_outcome(id, TransportFailure::kConnectionLost, "reset by peer"),
                     5000)},
         "r1", 1100);
  EXPECT_EQ(job_cell(id, "state || '|' || attempts || '|' || next_attempt_at || '|' || "
                         "api_status || '|' || reason || '|' || coalesce(http_status, '-')"),
            "pending|1|5000|CONNECTION_LOST|reset by peer|-");
  EXPECT_TRUE(lease(1, "r1", 4999).empty());
  std::vector<Job> again = lease(1, "r1", 5000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);

  settle({settlement(id, SettleKind::kThrottled,
                     api_outcome(id, ApiStatus::kRateLimitExceeded), 5200)},
         "r1", 5100);
  EXPECT_EQ(job_cell(id, "state || '|' || attempts || '|' || next_attempt_at"), "pending|1|5200");

  again = lease(1, "r1", 5200);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
  settle({settlement(id, SettleKind::kRetryLater, api_outcome(id, ApiStatus::kInternalError),
                     9000)},
         "r1", 5300);
  EXPECT_EQ(job_cell(id, "attempts"), "2");
  EXPECT_EQ(cell("SELECT group_concat(disposition, ',') FROM (SELECT disposition FROM attempts "
                 "ORDER BY id)"),
            "retry_later,throttled,retry_later");
}

TEST_F(JobQueueTest, ReleaseLeavesTheJobAsItWasApartFromTheLease) {
  enqueue({url("a")}, false, 1000);
  const JobId id = lease(1, "r1", 1000).at(0).id;
  settle({settlement(id, SettleKind::kRelease, api_outcome(id, ApiStatus::kOutOfQuota))}, "r1",
         1500);
  EXPECT_EQ(job_cell(id, "state || '|' || attempts || '|' || next_attempt_at || '|' || "
                         "coalesce(api_status, '-') || '|' || coalesce(lease_owner, '-') || '|' || "
                         "coalesce(lease_expires_at, '-')"),
            "pending|0|1000|-|-|-");
  EXPECT_EQ(cell("SELECT disposition FROM attempts"), "stop_for_quota");
  EXPECT_EQ(lease(1, "r2", 1500).size(), 1u);
}

TEST_F(JobQueueTest, ReleaseAllReleasesOnlyThatOwnersLeases) {
  enqueue(urls(5));
  lease(3, "r1", 1000);
  lease(2, "r2", 1000);
  auto released = queue_->release_all("r1", 1200);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 3);
  EXPECT_EQ(cell("SELECT count(*) FROM jobs WHERE state = 'pending'"), "3");
  EXPECT_EQ(cell("SELECT count(*) FROM jobs WHERE state = 'leased' AND lease_owner = 'r2'"), "2");
}

TEST_F(JobQueueTest, CountsByStateByStatusTotalAndDue) {
  enqueue(urls(6), false, 1000);
  enqueue({url("later")}, false, 50'000);
  std::vector<Job> jobs = lease(4, "r1", 1000);
  ASSERT_EQ(jobs.size(), 4u);
  settle({settlement(jobs[0].id, SettleKind::kDone, ok_outcome(jobs[0].id, 0.9)),
          settlement(jobs[1].id, SettleKind::kDone, ok_outcome(jobs[1].id, 0.2)),
          settlement(jobs[2].id, SettleKind::kFailed,
                     api_outcome(jobs[2].id, ApiStatus::kCorruptImage))},
         "r1");
  auto counts = queue_->counts(2000);
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(counts->total, 7);
  EXPECT_EQ(counts->by_state.at("pending"), 3);
  EXPECT_EQ(counts->by_state.at("leased"), 1);
  EXPECT_EQ(counts->by_state.at("done"), 2);
  EXPECT_EQ(counts->by_state.at("failed"), 1);
  EXPECT_EQ(counts->by_status.at("OK"), 2);
  EXPECT_EQ(counts->by_status.at("CORRUPT_IMAGE"), 1);
  EXPECT_EQ(counts->by_status.size(), 2u);
  EXPECT_EQ(counts->due_now, 2);
  EXPECT_EQ(queue_->counts(50'000)->due_now, 3);
}

TEST_F(JobQueueTest, CountsOfAnEmptyQueueListEveryStateAtZero) {
  auto counts = queue_->counts(0);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->total, 0);
  EXPECT_EQ(counts->by_state.size(), 4u);
  EXPECT_EQ(counts->by_state.at("done"), 0);
}

TEST_F(JobQueueTest, CountersStayExactAfterEveryKindOfChange) {
  expect_counters_exact("nothing");
  enqueue(urls(20));
  expect_counters_exact("enqueue");
  enqueue(urls(25));  // 20 already queued, 5 new
  enqueue({url("https://img.example/0.jpg"), url("dup"), url("dup")}, /*again=*/true);
  enqueue({NewJob{SourceKind::kFileId, "img-1", true, "t"}}, false, 90'000);
  expect_counters_exact("enqueue of duplicates, again and not yet due");

  std::vector<Job> r1 = lease(12, "r1", 1000);
  std::vector<Job> r2 = lease(6, "r2", 1000, 100);
  ASSERT_EQ(r1.size(), 12u);
  ASSERT_EQ(r2.size(), 6u);
  expect_counters_exact("lease");

  settle({settlement(r1[0].id, SettleKind::kDone, ok_outcome(r1[0].id, 0.9)),
          settlement(r1[1].id, SettleKind::kDone, ok_outcome(r1[1].id, 0.1)),
          settlement(r1[2].id, SettleKind::kFailed,
                     api_outcome(r1[2].id, ApiStatus::kCorruptImage, "bad")),
          settlement(r1[3].id, SettleKind::kFailed,
                     transport_outcome(r1[3].id, TransportFailure::kTimeout, "slow")),
          settlement(r1[4].id, SettleKind::kFailed, std::nullopt),
          settlement(r1[5].id, SettleKind::kRetryLater,
                     api_outcome(r1[5].id, ApiStatus::kInternalError), 5000),
          settlement(r1[6].id, SettleKind::kThrottled,
                     api_outcome(r1[6].id, ApiStatus::kRateLimitExceeded), 4000),
          settlement(r1[7].id, SettleKind::kRelease, std::nullopt)},
         "r1");
  expect_counters_exact("every settle kind");
  expect_counters_exact("every settle kind, later", 6000);

  EXPECT_EQ(settle({settlement(r1[0].id, SettleKind::kFailed,
                               api_outcome(r1[0].id, ApiStatus::kCorruptImage))},
                   "r2"),
            1);
  expect_counters_exact("a stale settle");

  auto recovered = queue_->recover_expired_leases(1100);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 6);
  expect_counters_exact("recover");

  auto released = queue_->release_all("r1", 2000);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 4);
  expect_counters_exact("release_all");

  // Writers other than JobQueue go through the triggers.
  ASSERT_TRUE(db_->exec("INSERT INTO jobs (source_kind, source, state, api_status, created_at,"
                        " updated_at) VALUES ('url', 'x', 'done', 'OK', 1, 1),"
                        " ('url', 'y', 'failed', NULL, 1, 1), ('url', 'z', 'pending', 'OK', 1, 1)")
                  .ok());
  expect_counters_exact("an insert by hand");
  ASSERT_TRUE(db_->exec("UPDATE jobs SET api_status = 'NEW' WHERE state = 'done'").ok());
  ASSERT_TRUE(db_->exec("UPDATE jobs SET api_status = 'X' WHERE state = 'pending'").ok());
  expect_counters_exact("an update by hand");
  ASSERT_TRUE(db_->exec("DELETE FROM jobs WHERE id % 3 = 0").ok());
  expect_counters_exact("a delete by hand");
  ASSERT_TRUE(db_->exec("BEGIN; DELETE FROM jobs; ROLLBACK").ok());
  expect_counters_exact("a rolled back delete");
}

TEST_F(JobQueueTest, WorkLeftProbesPendingLeasedAndDue) {
  auto left = queue_->work_left(1000);
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_FALSE(left->pending || left->leased || left->due_now);

  enqueue({url("a")}, false, 5000);
  left = queue_->work_left(1000);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->pending);
  EXPECT_FALSE(left->leased);
  EXPECT_FALSE(left->due_now);
  EXPECT_TRUE(queue_->work_left(5000)->due_now);

  const JobId id = lease(1, "r1", 5000).at(0).id;
  left = queue_->work_left(5000);
  EXPECT_FALSE(left->pending);
  EXPECT_TRUE(left->leased);
  EXPECT_FALSE(left->due_now);

  settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.9))}, "r1");
  left = queue_->work_left(5000);
  EXPECT_FALSE(left->pending || left->leased || left->due_now);
}

TEST_F(JobQueueTest, SettleAndRunCountsJoinTheCallersTransaction) {
  enqueue({url("a")});
  SqliteRunLog runs(*db_);
  const RunId run = runs.start_run("{}", "h", 1, 900).value();
  const JobId id = lease(1, "r1", 1000).at(0).id;
  ASSERT_TRUE(db_->exec("BEGIN IMMEDIATE").ok());
  settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.9))}, "r1", 2000, run);
  ASSERT_TRUE(runs.add_counts(run, 1, 1, 0, 0, 0).ok());
  ASSERT_TRUE(db_->exec("ROLLBACK").ok());
  EXPECT_EQ(job_cell(id, "state"), "leased");
  EXPECT_EQ(cell("SELECT count(*) FROM attempts"), "0");
  EXPECT_EQ(cell("SELECT requests FROM runs"), "0");

  ASSERT_TRUE(db_->exec("BEGIN IMMEDIATE").ok());
  settle({settlement(id, SettleKind::kDone, ok_outcome(id, 0.9))}, "r1", 2000, run);
  ASSERT_TRUE(runs.add_counts(run, 1, 1, 0, 0, 0).ok());
  ASSERT_TRUE(db_->exec("COMMIT").ok());
  EXPECT_EQ(job_cell(id, "state"), "done");
  EXPECT_EQ(cell("SELECT requests || ' ' || done FROM runs"), "1 1");
}

TEST_F(JobQueueTest, ASentAttemptIsOnRecordBeforeItsAnswerAndCompletedByIt) {
  enqueue({url("a"), url("b")});
  SqliteRunLog runs(*db_);
  const RunId run = runs.start_run("{}", "h", 1, 900).value();
  auto jobs = lease(2, "r1", 1000);
  std::vector<SentAttempt> sent = {{jobs[0].id, 1001}, {jobs[1].id, 1002}};
  auto ids = queue_->record_sent(sent, run);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ(cell("SELECT count(*) || ' ' || sum(finished_at IS NULL) || ' ' || "
                 "group_concat(disposition) FROM attempts"),
            "2 2 sent,sent");

  Settlement done = settlement(jobs[0].id, SettleKind::kDone, ok_outcome(jobs[0].id, 0.8, 1001, 1200));
  done.attempt_id = (*ids)[0];
  EXPECT_EQ(settle({done}, "r1", 1300, run), 0);
  EXPECT_EQ(cell("SELECT count(*) FROM attempts"), "2") << "completed in place, not added";
  EXPECT_EQ(cell("SELECT finished_at || '|' || api_status || '|' || disposition || '|' || "
                 "verify_score FROM attempts WHERE id = " + std::to_string((*ids)[0])),
            "1200|OK|done|0.8");
  EXPECT_EQ(job_cell(jobs[0].id, "state || attempts"), "done1");

  // The same settlement again (a replay of unsaved results) changes nothing.
  EXPECT_EQ(settle({done}, "r1", 1400, run), 1);
  EXPECT_EQ(job_cell(jobs[0].id, "state || attempts || finished_at"), "done11300");
}

TEST_F(JobQueueTest, ADeadRunsUnansweredAttemptsBecomeInDoubtAndCountOnTheirJobs) {
  enqueue({url("a"), url("b")});
  SqliteRunLog runs(*db_);
  const RunId dead = runs.start_run("{}", "h", 1, 900).value();
  auto jobs = lease(2, "run-dead", 1000);
  auto ids = queue_->record_sent(std::vector<SentAttempt>{{jobs[0].id, 1001}, {jobs[1].id, 1002}},
                                 dead);
  ASSERT_TRUE(ids.ok());
  Settlement answered =
      settlement(jobs[1].id, SettleKind::kDone, ok_outcome(jobs[1].id, 0.8, 1002, 1100));
  answered.attempt_id = (*ids)[1];
  EXPECT_EQ(settle({answered}, "run-dead", 1200, dead), 0);

  const RunId live = runs.start_run("{}", "h", 2, 2000).value();
  ASSERT_TRUE(queue_->record_sent(std::vector<SentAttempt>{{jobs[0].id, 2001}}, live).ok());

  auto marked = queue_->mark_in_doubt(dead);
  ASSERT_TRUE(marked.ok()) << marked.error().message;
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ(cell("SELECT group_concat(disposition, ',') FROM (SELECT disposition FROM attempts "
                 "ORDER BY id)"),
            "in_doubt,done,sent")
      << "only the dead run's unanswered attempt is in doubt";
  EXPECT_EQ(job_cell(jobs[0].id, "attempts"), "1") << "an attempt in doubt counts on its job";
  EXPECT_EQ(job_cell(jobs[1].id, "attempts"), "1");
  auto counts = queue_->counts(3000);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->in_doubt, 1);
  EXPECT_EQ(*queue_->mark_in_doubt(dead), 0) << "marking twice changes nothing";
}

// ---- pay only for what counts (schema/004_content.sql)

NewJob path_job(const std::string& source, bool auto_rotate = false) {
  NewJob job;
  job.kind = SourceKind::kPath;
  job.source = source;
  job.auto_rotate = auto_rotate;
  return job;
}

TEST_F(JobQueueTest, APreflightRejectionIsQueuedFailedDecidedLocallyAndCounted) {
  NewJob bad = path_job("/a/notes.jpg");
  bad.rejected = LocalVerdict{ApiStatus::kCorruptImage, "not an image (decided locally)"};
  EnqueueCounts counts = enqueue({path_job("/a/ok.jpg"), bad});
  EXPECT_EQ(counts.added, 2);
  EXPECT_EQ(counts.rejected_by_preflight, 1);
  EXPECT_EQ(cell("SELECT state || ' ' || api_status || ' ' || decided_by || ' ' || attempts ||"
                 " ' ' || reason FROM jobs WHERE source = '/a/notes.jpg'"),
            "failed CORRUPT_IMAGE preflight 0 not an image (decided locally)");
  auto c = queue_->counts(1000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->by_state["failed"], 1);
  EXPECT_EQ(c->by_state["pending"], 1);
  EXPECT_EQ(c->by_status["CORRUPT_IMAGE"], 1);
  // Never leased: only the good one is.
  EXPECT_EQ(lease(10, "run-1", 2000).size(), 1u);
}

TEST_F(JobQueueTest, AgainQueuesJobsThatNeverTakeAnEarlierAnswer) {
  enqueue({path_job("/a/1.jpg")});
  enqueue({path_job("/a/1.jpg")}, /*again=*/true);
  EXPECT_EQ(rows("SELECT no_reuse FROM jobs ORDER BY id", 1), "0\n1\n");
  auto jobs = lease(10, "run-1", 2000);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_NE(jobs[0].no_reuse, jobs[1].no_reuse);
}

TEST_F(JobQueueTest, ReusedAndPreflightSettlementsWriteNoAttemptAndKeepTheContentHash) {
  enqueue({path_job("/a/1.jpg"), path_job("/a/2.jpg"), path_job("/a/3.jpg")});
  auto jobs = lease(3, "run-1", 2000);
  ASSERT_EQ(jobs.size(), 3u);
  Settlement sent = settlement(jobs[0].id, SettleKind::kDone, ok_outcome(jobs[0].id, 0.8));
  sent.content_hash = "aaaa";
  Settlement copy = settlement(jobs[1].id, SettleKind::kDone, ok_outcome(jobs[0].id, 0.8));
  copy.decided_by = Decider::kReused;
  copy.reused_from = jobs[0].id;
  copy.content_hash = "aaaa";
  Settlement local = settlement(jobs[2].id, SettleKind::kFailed,
                                api_outcome(jobs[2].id, ApiStatus::kInvalidImageFormatOrSize));
  local.decided_by = Decider::kPreflight;
  EXPECT_EQ(settle({sent, copy, local}, "run-1"), 0);
  EXPECT_EQ(rows("SELECT id, attempts, coalesce(decided_by, 'api'), coalesce(reused_from, '-'),"
                 " coalesce(content_hash, '-'), verify_score FROM jobs ORDER BY id", 6),
            std::to_string(jobs[0].id) + " 1 api - aaaa 0.8\n" +
                std::to_string(jobs[1].id) + " 0 reused " + std::to_string(jobs[0].id) +
                " aaaa 0.8\n" + std::to_string(jobs[2].id) + " 0 preflight - - \n");
  EXPECT_EQ(cell("SELECT count(*) FROM attempts"), "1");
}

TEST_F(JobQueueTest, FindContentTakesTheNewestVerdictOnTheImageAndARecentUpload) {
  // Two hashes sharing their first 64 bits (content_key): only the whole
  // hash matches.
  const std::string h1 = "0123456789abcdef" + std::string(48, '1');
  const std::string twin = "0123456789abcdef" + std::string(48, '2');
  enqueue({path_job("/a/1.jpg"), path_job("/a/2.jpg"), path_job("/a/3.jpg"),
           path_job("/a/4.jpg", /*auto_rotate=*/true)});
  auto jobs = lease(4, "run-1", 2000);
  ASSERT_EQ(jobs.size(), 4u);
  // Job 1: OK with an image_id, answered at 3000. Job 2: same content,
  // INTERNAL_ERROR for good (not a verdict on the image). Job 4: rotated.
  Settlement ok = settlement(jobs[0].id, SettleKind::kDone, ok_outcome(jobs[0].id, 0.9));
  ok.content_hash = h1;
  Settlement flaky = settlement(jobs[1].id, SettleKind::kFailed,
                                api_outcome(jobs[1].id, ApiStatus::kInternalError));
  flaky.content_hash = h1;
  Settlement rotated = settlement(jobs[3].id, SettleKind::kFailed,
                                  api_outcome(jobs[3].id, ApiStatus::kFaceDetectionFailed,
                                              "no face detected"));
  rotated.content_hash = h1;
  settle({ok, flaky, rotated}, "run-1", 3000);

  auto found = queue_->find_content(h1, /*auto_rotate=*/false, true, /*not_before=*/2500);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->answer.has_value());
  EXPECT_EQ(found->answer->job_id, jobs[0].id);  // the INTERNAL_ERROR is skipped
  EXPECT_TRUE(found->answer->done);
  EXPECT_EQ(found->answer->answer.verify_score, 0.9);
  ASSERT_TRUE(found->upload.has_value());
  EXPECT_EQ(found->upload->image_id, "img-" + std::to_string(jobs[0].id));
  EXPECT_EQ(found->upload->uploaded_at, 3000);

  // auto_rotate is part of the content's identity for answers, not for uploads.
  found = queue_->find_content(h1, /*auto_rotate=*/true, true, 2500);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->answer.has_value());
  EXPECT_EQ(found->answer->answer.status, ApiStatus::kFaceDetectionFailed);
  EXPECT_FALSE(found->answer->done);
  EXPECT_TRUE(found->upload.has_value());

  // An upload older than not_before is not offered; no answer when not asked.
  found = queue_->find_content(h1, false, /*want_answer=*/false, 3001);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->answer.has_value());
  EXPECT_FALSE(found->upload.has_value());
  found = queue_->find_content(twin, false, true, 1);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->answer || found->upload);
}

TEST_F(JobQueueTest, AKeptAttemptIsCompletedWhileTheJobStaysLeased) {
  enqueue({path_job("/a/1.jpg")});
  auto jobs = lease(1, "run-1", 2000);
  ASSERT_EQ(jobs.size(), 1u);
  SentAttempt sent;
  sent.job_id = jobs[0].id;
  sent.started_at = 2100;
  sent.sent_image_id = "img-old";
  auto ids = queue_->record_sent(std::vector<SentAttempt>{sent}, 0);
  ASSERT_TRUE(ids.ok());
  Settlement keep = settlement(jobs[0].id, SettleKind::kKeep,
                               api_outcome(jobs[0].id, ApiStatus::kImageIdNotExist));
  keep.attempt_id = (*ids)[0];
  keep.attempt_disposition = "image_id_expired";
  EXPECT_EQ(settle({keep}, "run-1"), 0);
  EXPECT_EQ(cell("SELECT state || ' ' || attempts FROM jobs"), "leased 0");
  EXPECT_EQ(cell("SELECT disposition || ' ' || api_status || ' ' || sent_image_id FROM attempts"),
            "image_id_expired IMAGE_ID_NOT_EXIST img-old");
}

TEST_F(JobQueueTest, RequestsSinceADayStartAreCountedFromTheAttempts) {
  enqueue(urls(3));
  auto jobs = lease(3, "run-1", 2000);
  std::vector<SentAttempt> sent;
  for (UnixMillis at : {900, 1000, 1500}) {
    SentAttempt s;
    s.job_id = jobs[0].id;
    s.started_at = at;
    sent.push_back(s);
  }
  ASSERT_TRUE(queue_->record_sent(sent, 0).ok());
  EXPECT_EQ(*queue_->count_requests_since(1000), 2);
  EXPECT_EQ(*queue_->count_requests_since(0), 3);
  EXPECT_EQ(*queue_->count_requests_since(1501), 0);
}

}  // namespace
}  // namespace lf
