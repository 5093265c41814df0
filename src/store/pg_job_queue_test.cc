// PgJobQueue and PgRunLog against a real PostgreSQL (the CTest fixture
// "pg"): what only several runners on one queue bring — disjoint leases,
// settlements refused once a lease moved, dead runs reaped by the living —
// and what PostgreSQL makes different: text that must be UTF-8, counts
// appended, lease times on the server's clock.
#include "store/pg_job_queue.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/outcomes_for_test.h"
#include "store/pg_database_for_test.h"
#include "store/pg_store.h"

namespace lf {
namespace {

class PgJobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    auto a = PgStore::open(db_.url(), /*create=*/true);
    ASSERT_TRUE(a.ok()) << a.error().message;
    a_ = std::move(a).value();
    auto b = PgStore::open(db_.url(), /*create=*/false);
    ASSERT_TRUE(b.ok()) << b.error().message;
    b_ = std::move(b).value();
  }

  void enqueue(int n) {
    std::vector<NewJob> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back({SourceKind::kFileId, "id" + std::to_string(i), false, ""});
    auto added = a_->queue().enqueue(jobs, false, 100);
    ASSERT_TRUE(added.ok()) << added.error().message;
    ASSERT_EQ(added->added, n);
  }

  std::int64_t scalar(const std::string& sql) {
    std::int64_t value = -1;
    auto rows = a_->sql().query(sql, {}, [&](const SqlRow& row) {
      value = row.integer(0);
      return Status::Ok();
    });
    EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.error().message);
    return value;
  }

  PgDatabaseForTest db_;
  std::unique_ptr<PgStore> a_, b_;  // two connections: two runners
};

TEST_F(PgJobQueueTest, TwoRunnersLeasingAtOnceGetDisjointJobs) {
  enqueue(200);
  std::vector<Job> got_a, got_b;
  std::thread other([&] {
    for (int i = 0; i < 10; ++i) {
      auto jobs = b_->queue().lease(10, "run-2", 200, 60'000);
      ASSERT_TRUE(jobs.ok()) << jobs.error().message;
      got_b.insert(got_b.end(), jobs->begin(), jobs->end());
    }
  });
  for (int i = 0; i < 10; ++i) {
    auto jobs = a_->queue().lease(10, "run-1", 200, 60'000);
    ASSERT_TRUE(jobs.ok()) << jobs.error().message;
    got_a.insert(got_a.end(), jobs->begin(), jobs->end());
  }
  other.join();
  std::set<JobId> ids;
  for (const Job& j : got_a) ids.insert(j.id);
  for (const Job& j : got_b) EXPECT_TRUE(ids.insert(j.id).second) << "job " << j.id << " twice";
  EXPECT_EQ(ids.size(), 200u);
  auto counts = a_->queue().counts(300);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_state["leased"], 200);
  EXPECT_EQ(counts->by_state["pending"], 0);
}

TEST_F(PgJobQueueTest, ASettlementOfALeaseThatMovedIsIgnoredButItsAttemptKept) {
  enqueue(1);
  auto leased = a_->queue().lease(1, "run-1", 200, 60'000);
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 1u);
  const JobId job = (*leased)[0].id;
  auto ids = a_->queue().record_sent(std::vector<SentAttempt>{{job, 300}}, 0);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  // The lease goes elsewhere (expired and recovered, leased by run-2).
  ASSERT_TRUE(b_->queue().release_all("run-1", 400).ok());
  ASSERT_EQ(b_->queue().lease(1, "run-2", 500, 60'000)->size(), 1u);
  Settlement late;
  late.job_id = job;
  late.kind = SettleKind::kDone;
  late.attempt_id = (*ids)[0];
  late.outcome = ok_outcome(job, 0.9);
  auto ignored = a_->queue().settle(std::span(&late, 1), "run-1", 0, 600);
  ASSERT_TRUE(ignored.ok()) << ignored.error().message;
  EXPECT_EQ(*ignored, 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'leased' AND lease_owner = 'run-2'"),
            1);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts WHERE disposition = 'done'"), 1);
  // The holder's settlement applies; replaying it changes nothing.
  auto sent = b_->queue().record_sent(std::vector<SentAttempt>{{job, 700}}, 0);
  ASSERT_TRUE(sent.ok());
  Settlement done = late;
  done.attempt_id = (*sent)[0];
  ASSERT_EQ(*b_->queue().settle(std::span(&done, 1), "run-2", 0, 800), 0);
  ASSERT_EQ(*b_->queue().settle(std::span(&done, 1), "run-2", 0, 800), 1);
  auto counts = a_->queue().counts(900);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_state["done"], 1);
  EXPECT_EQ(counts->by_status["OK"], 1);
  EXPECT_EQ(counts->total, 1);
}

TEST_F(PgJobQueueTest, ADeadRunsWorkIsReapedByALiveOneAndTheLiveOneKeepsItsOwn) {
  enqueue(6);
  auto dead = a_->log().start_run("{}", "host-a", 1, 100);
  auto live = b_->log().start_run("{}", "host-b", 2, 100);
  ASSERT_TRUE(dead.ok() && live.ok());
  ASSERT_TRUE(a_->log().heartbeat(*dead, 2'000).ok());    // dead after 2 s without a beat
  ASSERT_TRUE(b_->log().heartbeat(*live, 60'000).ok());
  const std::string dead_owner = lease_owner_of(*dead), live_owner = lease_owner_of(*live);
  auto mine = a_->queue().lease(3, dead_owner, 200, 600'000);
  auto theirs = b_->queue().lease(3, live_owner, 200, 600'000);
  ASSERT_EQ(mine->size(), 3u);
  ASSERT_EQ(theirs->size(), 3u);
  ASSERT_TRUE(a_->queue().record_sent(std::vector<SentAttempt>{{(*mine)[0].id, 300}}, *dead).ok());
  // Nothing is reaped while the dead run's heartbeat is fresh.
  EXPECT_EQ(*b_->queue().recover_expired_leases(400), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2'300));
  ASSERT_TRUE(b_->log().heartbeat(*live, 60'000).ok());
  auto recovered = b_->queue().recover_expired_leases(500);
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  EXPECT_EQ(*recovered, 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'pending'"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'leased' AND lease_owner = '" +
                   live_owner + "'"),
            3);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts WHERE disposition = 'in_doubt'"), 1);
  EXPECT_EQ(scalar("SELECT attempts FROM jobs WHERE id = " + std::to_string((*mine)[0].id)), 1);
  auto run = b_->log().run(*dead);
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->ended_how, "crashed");
  EXPECT_FALSE((*b_->log().run(*live))->finished_at.has_value());
  // The dead run, should it wake, learns it was taken for dead.
  Status beat = a_->log().heartbeat(*dead, 2'000);
  ASSERT_FALSE(beat.ok());
  EXPECT_NE(beat.message().find("taken for dead"), std::string::npos) << beat.message();
}

TEST_F(PgJobQueueTest, ASourceThatIsNotUtf8IsLeasedBackByteForByte) {
  const std::string latin1 = std::string("/photos/caf") + '\xe9' + ".jpg";
  std::vector<NewJob> jobs = {{SourceKind::kPath, latin1, false, ""},
                             {SourceKind::kPath, "/photos/ok.jpg", false, ""}};
  auto added = a_->queue().enqueue(jobs, false, 100);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(added->added, 2);
  // Queued again: recognised, not added twice.
  auto again = a_->queue().enqueue(jobs, false, 100);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->already_queued, 2);
  auto leased = a_->queue().lease(2, "run-1", 200, 60'000);
  ASSERT_TRUE(leased.ok());
  std::set<std::string> sources;
  for (const Job& j : *leased) sources.insert(j.source);
  EXPECT_EQ(sources, (std::set<std::string>{latin1, "/photos/ok.jpg"}));
}

TEST_F(PgJobQueueTest, CountsStayExactAcrossFoldsAndManyWriters) {
  enqueue(50);
  for (int round = 0; round < 5; ++round) {
    auto jobs = (round % 2 ? a_ : b_)->queue().lease(10, "run-1", 200, 60'000);
    ASSERT_TRUE(jobs.ok());
    std::vector<Settlement> settled;
    for (const Job& j : *jobs) {
      Settlement s;
      s.job_id = j.id;
      s.kind = j.id % 2 ? SettleKind::kDone : SettleKind::kRetryLater;
      s.next_attempt_at = 100;
      s.outcome = ok_outcome(j.id, 0.5);
      settled.push_back(s);
    }
    ASSERT_TRUE(a_->queue().settle(settled, "run-1", 0, 300).ok());
    ASSERT_TRUE(b_->queue().recover_expired_leases(300).ok());  // folds the counts
  }
  auto counts = a_->queue().counts(1'000);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->total, 50);
  EXPECT_EQ(counts->by_state["done"] + counts->by_state["pending"] + counts->by_state["leased"],
            50);
  EXPECT_EQ(counts->by_state["done"], scalar("SELECT count(*) FROM jobs WHERE state = 'done'"));
  EXPECT_EQ(counts->by_state["pending"],
            scalar("SELECT count(*) FROM jobs WHERE state = 'pending'"));
  EXPECT_LT(scalar("SELECT count(*) FROM job_counts"), 10) << "the folds left rows behind";
}

}  // namespace
}  // namespace lf
