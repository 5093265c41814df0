// The report queries on each store. Built twice: report_queries_test runs
// them on SQLite (and the tests that need no database), and
// pg_report_queries_test, built with LF_REPORT_TESTS_ON_POSTGRESQL, runs the
// same ReportQueries tests on PostgreSQL (the CTest fixture's cluster).
#include "report/report_queries.h"

#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "report/csv_export.h"
#include "report/run_history.h"
#include "store/source_text.h"
#include "store/sqlite_session.h"
#ifdef LF_REPORT_TESTS_ON_POSTGRESQL
#include "store/pg_database_for_test.h"
#include "store/pg_migrations.h"
#endif

namespace lf {
namespace {

constexpr UnixMillis kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

enum class StoreKind { kSqlite, kPostgresql };

std::string store_name(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kSqlite ? "sqlite" : "postgresql";
}

class ReportQueries : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kPostgresql) {
#ifdef LF_REPORT_TESTS_ON_POSTGRESQL
      pg_ = std::make_unique<PgDatabaseForTest>();
      ASSERT_TRUE(pg_->ok());
      std::unique_ptr<PgSession> pg = pg_->connect();
      ASSERT_TRUE(pg);
      Status migrated = migrate_postgresql(*pg, nullptr);
      ASSERT_TRUE(migrated.ok()) << migrated.message();
      session_ = std::move(pg);
#else
      FAIL() << "built without LF_REPORT_TESTS_ON_POSTGRESQL";
#endif
    } else {
      std::string tmpl = (std::filesystem::temp_directory_path() / "lf_report_XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      auto db = Database::open(dir_ + "/q.db", true);
      ASSERT_TRUE(db.ok()) << db.error().message;
      db_ = std::move(*db);
      session_ = std::make_unique<SqliteSession>(*db_);
    }
    // Run 1 completed; run 2 ran out of quota.
    exec("INSERT INTO runs (id, started_at, finished_at, ended_how) VALUES "
         "(1, " + t(0) + ", " + t(100'000) + ", 'completed'), "
         "(2, " + t(200'000) + ", " + t(210'000) + ", 'out_of_quota')");
    // Jobs: 1 done pass, 2 done below, 3 failed FACE_DETECTION_FAILED, 4 pending,
    // 5 failed CORRUPT_IMAGE with a tag that looks like SQL, 6 done in run 2.
    add_job(1, "/a/1.jpg", "done", "0.91", "OK", "", "batch-a", t(1000), t(10'000));
    add_job(2, "/a/2.jpg", "done", "0.42", "OK", "", "batch-a", t(1000), t(20'000));
    add_job(3, "/a/3.jpg", "failed", "NULL", "FACE_DETECTION_FAILED", "no face detected", "batch-b", t(2000),
            t(30'000));
    add_job(4, "/a/4.jpg", "pending", "NULL", "", "", "batch-b", t(3000), "NULL");
    add_job(5, "/a/张三,\"5\".jpg", "failed", "NULL", "CORRUPT_IMAGE", "", "x' OR 1=1 --", t(3000), t(40'000));
    add_job(6, "/a/6.jpg", "done", "0.7", "OK", "", "batch-a", t(4000), t(205'000));
    // Attempts: job 1 throttled then retried after a 500, then OK (run 1).
    add_attempt(1, 1, 5000, "RATE_LIMIT_EXCEEDED", "throttled");
    add_attempt(1, 1, 7000, "INTERNAL_ERROR", "retry_later");
    add_attempt(1, 1, 9000, "OK", "done");
    add_attempt(2, 1, 19'000, "OK", "done");
    add_attempt(3, 1, 28'000, "TIMEOUT", "retry_later");
    add_attempt(3, 1, 29'000, "FACE_DETECTION_FAILED", "permanent_failure");
    add_attempt(5, 1, 39'000, "CORRUPT_IMAGE", "permanent_failure");
    add_attempt(6, 2, 201'000, "OUT_OF_QUOTA", "stop_for_quota");
    add_attempt(6, 2, 204'000, "OK", "done");
  }

  void TearDown() override {
    session_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
#ifdef LF_REPORT_TESTS_ON_POSTGRESQL
    pg_.reset();
#endif
  }

  // A source as the store keeps it: PostgreSQL text only holds UTF-8.
  std::string stored(const std::string& source) const {
    return GetParam() == StoreKind::kPostgresql ? encode_source_for_text(source) : source;
  }

  static std::string t(std::int64_t offset) { return std::to_string(kT0 + offset); }

  void exec(const std::string& sql) {
    Status s = session_->exec(sql);
    ASSERT_TRUE(s.ok()) << s.message() << "\n" << sql;
  }

  void add_job(int id, const std::string& source, const std::string& state, const std::string& score,
               const std::string& status, const std::string& reason, const std::string& tag,
               const std::string& created, const std::string& finished) {
    auto q = [](const std::string& v) {
      if (v.empty()) return std::string("NULL");
      std::string out = "'";
      for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
      return out + "'";
    };
    exec("INSERT INTO jobs (id, source_kind, source, tag, state, attempts, verify_score, image_id, request_id, "
         "api_status, reason, http_status, created_at, updated_at, finished_at) VALUES (" +
         std::to_string(id) + ", 'path', " + q(source) + ", " + q(tag) + ", '" + state + "', " +
         (state == "pending" ? "0" : "1") + ", " + score + ", " + q(state == "done" ? "img" + std::to_string(id) : "") +
         ", " + q(state == "pending" ? "" : "TID" + std::to_string(id)) + ", " + q(status) + ", " + q(reason) +
         ", " + (status.empty() ? "NULL" : status == "OK" ? "200" : "400") + ", " + created + ", " + created +
         ", " + finished + ")");
  }

  void add_attempt(int job, int run, std::int64_t started, const std::string& status,
                   const std::string& disposition) {
    exec("INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status, disposition) VALUES (" +
         std::to_string(job) + ", " + std::to_string(run) + ", " + t(started) + ", " + t(started + 500) +
         ", '" + status + "', '" + disposition + "')");
  }

  // What schema 004 saves, tagged 'batch-c': job 7 failed by pre-flight at
  // enqueue (no run, no attempt); run 3, in which job 9 was failed by
  // pre-flight, job 8 took job 1's answer (identical content), job 10 sent
  // an image_id that had expired and then uploaded the bytes, and job 11 was
  // sent by image_id; job 12, once reused, was re-queued and is pending.
  void add_savings() {
    exec("INSERT INTO runs (id, started_at, finished_at, ended_how, decided_locally, reused, sent_by_image_id) "
         "VALUES (3, " + t(300'000) + ", " + t(310'000) + ", 'completed', 1, 1, 2)");
    add_job(7, "/c/7.jpg", "failed", "NULL", "CORRUPT_IMAGE", "truncated JPEG", "batch-c", t(290'000), t(290'000));
    add_job(8, "/c/8.jpg", "done", "0.91", "OK", "", "batch-c", t(290'000), t(301'000));
    add_job(9, "/c/9.jpg", "failed", "NULL", "INVALID_IMAGE_FORMAT_OR_SIZE", "too small", "batch-c", t(290'000),
            t(302'000));
    add_job(10, "/c/10.jpg", "done", "0.8", "OK", "", "batch-c", t(290'000), t(305'000));
    add_job(11, "/c/11.jpg", "done", "0.75", "OK", "", "batch-c", t(290'000), t(306'000));
    add_job(12, "/c/12.jpg", "pending", "NULL", "", "", "batch-c", t(290'000), "NULL");
    exec("UPDATE jobs SET decided_by = 'preflight', attempts = 0 WHERE id IN (7, 9)");
    exec("UPDATE jobs SET decided_by = 'reused', reused_from = 1, attempts = 0 WHERE id IN (8, 12)");
    exec("INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status, disposition, sent_image_id) "
         "VALUES (10, 3, " + t(303'000) + ", " + t(303'100) + ", 'IMAGE_ID_NOT_EXIST', 'image_id_expired', 'old10'), "
         "(10, 3, " + t(304'000) + ", " + t(304'500) + ", 'OK', 'done', NULL), "
         "(11, 3, " + t(305'500) + ", " + t(305'600) + ", 'OK', 'done', 'img2')");
  }

  std::vector<JobId> ids(const JobFilter& f) {
    std::vector<JobId> out;
    auto n = for_each_job(*session_, f, [&](const JobRowView& row) {
      out.push_back(row.id);
      return Status::Ok();
    });
    EXPECT_TRUE(n.ok()) << n.error().message;
    if (n.ok()) {
      EXPECT_EQ(*n, static_cast<std::int64_t>(out.size()));
    }
    return out;
  }

  // The first column of the one row of `sql`, as text.
  std::string text(const std::string& sql) {
    std::string out;
    auto n = session_->query(sql, {}, [&](const SqlRow& row) {
      out = row.string(0);
      return Status::Ok();
    });
    EXPECT_TRUE(n.ok() && *n == 1) << (n.ok() ? "rows: " + std::to_string(*n) : n.error().message);
    return out;
  }

  // Each line "a|b|c" of the rows of `sql`.
  std::vector<std::string> lines(const std::string& sql) {
    std::vector<std::string> out;
    auto n = session_->query(sql, {}, [&](const SqlRow& row) {
      std::string line;
      for (int c = 0; c < row.columns(); ++c) line += (c ? "|" : "") + row.string(c);
      out.push_back(line);
      return Status::Ok();
    });
    EXPECT_TRUE(n.ok()) << n.error().message;
    return out;
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
#ifdef LF_REPORT_TESTS_ON_POSTGRESQL
  std::unique_ptr<PgDatabaseForTest> pg_;
#endif
  std::unique_ptr<SqlSession> session_;
};

using Ids = std::vector<JobId>;

TEST_P(ReportQueries, NoFilterListsEveryJobInIdOrder) {
  EXPECT_EQ(ids({}), (Ids{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(JobFilter{}.describe(), "all jobs");
}

TEST_P(ReportQueries, FiltersByStateStatusAndTag) {
  JobFilter f;
  f.states = {"failed"};
  EXPECT_EQ(ids(f), (Ids{3, 5}));
  f.statuses = {"FACE_DETECTION_FAILED"};
  EXPECT_EQ(ids(f), (Ids{3}));
  JobFilter tag;
  tag.tag = "batch-a";
  EXPECT_EQ(ids(tag), (Ids{1, 2, 6}));
}

TEST_P(ReportQueries, ValuesAreBoundNeverPastedIntoSql) {
  JobFilter f;
  f.tag = "x' OR 1=1 --";
  EXPECT_EQ(ids(f), (Ids{5}));
  const SqlConditions c = filter_conditions(f);
  EXPECT_EQ(c.where().find("OR 1=1"), std::string::npos);
  EXPECT_EQ(c.where(), " WHERE j.tag = ?1");
}

TEST_P(ReportQueries, FiltersByScoreRangeInclusive) {
  JobFilter f;
  f.min_score = 0.7;
  EXPECT_EQ(ids(f), (Ids{1, 6}));
  f.max_score = 0.7;
  EXPECT_EQ(ids(f), (Ids{6}));
}

TEST_P(ReportQueries, SinceIsInclusiveUntilExclusiveOnFinishedOrCreated) {
  JobFilter f;
  f.since = kT0 + 20'000;
  f.until = kT0 + 40'000;
  EXPECT_EQ(ids(f), (Ids{2, 3}));
  f.time_field = JobFilter::TimeField::kCreated;
  f.since = kT0 + 3000;
  f.until.reset();
  EXPECT_EQ(ids(f), (Ids{4, 5, 6}));
}

TEST_P(ReportQueries, RunFilterSelectsJobsAttemptedInThatRun) {
  JobFilter f;
  f.run_id = 2;
  EXPECT_EQ(ids(f), (Ids{6}));
  f.run_id = 1;
  EXPECT_EQ(ids(f), (Ids{1, 2, 3, 5}));
}

TEST_P(ReportQueries, JobRowsGiveFirstAndLastAttemptTimes) {
  JobFilter f;
  f.states = {"done", "pending"};
  struct Seen {
    JobId id;
    std::optional<UnixMillis> first, last;
    std::optional<double> score;
    std::string source;
  };
  std::vector<Seen> seen;
  JobScanOptions options;
  options.with_attempt_times = true;
  auto n = for_each_job(
      *session_, f,
      [&](const JobRowView& r) {
        seen.push_back({r.id, r.first_attempt_at, r.last_attempt_at, r.verify_score, std::string(r.source)});
        return Status::Ok();
      },
      options);
  ASSERT_TRUE(n.ok()) << n.error().message;
  ASSERT_EQ(*n, 4);  // 1, 2, 4, 6
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].id, 1);
  EXPECT_EQ(seen[0].first, kT0 + 5000);  // the throttled one counts
  EXPECT_EQ(seen[0].last, kT0 + 9000);
  EXPECT_EQ(seen[0].score, 0.91);
  EXPECT_EQ(seen[0].source, "/a/1.jpg");
  EXPECT_EQ(seen[1].id, 2);
  EXPECT_EQ(seen[2].id, 4);
  EXPECT_FALSE(seen[2].first.has_value());
  EXPECT_FALSE(seen[2].score.has_value());
}

TEST_P(ReportQueries, JobRowsHonourTheLimit) {
  JobScanOptions options;
  options.limit = 2;
  int calls = 0;
  auto n = for_each_job(
      *session_, {},
      [&](const JobRowView&) {
        ++calls;
        return Status::Ok();
      },
      options);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(calls, 2);
}

TEST_P(ReportQueries, ACallbackErrorStopsTheJobRows) {
  int calls = 0;
  auto n = for_each_job(*session_, {}, [&](const JobRowView&) -> Status {
    if (++calls == 3) return Error{"disk full"};
    return Status::Ok();
  });
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message, "disk full");
  EXPECT_EQ(calls, 3);
}

TEST_P(ReportQueries, SummaryCountsStatesStatusesScoresAndFailures) {
  auto s = summarize(*session_, {}, 0.7, kT0 + 1'000'000);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->jobs, 6);
  ASSERT_EQ(s->by_state.size(), 4u);
  EXPECT_EQ(s->by_state[0].name, "pending");
  EXPECT_EQ(s->by_state[0].count, 1);
  EXPECT_EQ(s->by_state[2].count, 3);  // done
  EXPECT_EQ(s->by_state[3].count, 2);  // failed
  ASSERT_FALSE(s->by_status.empty());
  EXPECT_EQ(s->by_status[0].name, "OK");
  EXPECT_EQ(s->by_status[0].count, 3);
  EXPECT_EQ(s->scores.count(), 3);
  EXPECT_EQ(s->passed, 2);  // 0.91 and 0.7 (>= threshold)
  EXPECT_EQ(s->below_threshold, 1);
  EXPECT_EQ(s->failures_total, 2);
  ASSERT_EQ(s->failures.size(), 2u);
  EXPECT_EQ(s->failures[0].reason, "no face detected");
  ASSERT_EQ(s->failure_reasons.size(), 2u);
  EXPECT_EQ(s->failure_reasons[0].name, "CORRUPT_IMAGE");
  EXPECT_EQ(s->failure_reasons[1].name, "FACE_DETECTION_FAILED: no face detected");
}

TEST_P(ReportQueries, SummaryComputesPerRunFiguresFromAttempts) {
  auto s = summarize(*session_, {}, 0.7, kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->runs.size(), 2u);
  const RunSummary& r1 = s->runs[0];
  EXPECT_EQ(r1.id, 1);
  EXPECT_EQ(r1.requests, 7);
  EXPECT_EQ(r1.throttled, 1);
  EXPECT_EQ(r1.transport_failures, 1);  // the TIMEOUT
  EXPECT_EQ(r1.quota_used, 5);          // 7 minus the throttled one and the timeout
  EXPECT_EQ(r1.done, 2);
  EXPECT_EQ(r1.failed, 2);
  EXPECT_DOUBLE_EQ(r1.duration_seconds(), 100);
  EXPECT_DOUBLE_EQ(r1.requests_per_second(), 0.07);
  const RunSummary& r2 = s->runs[1];
  EXPECT_EQ(r2.ended_how, "out_of_quota");
  EXPECT_EQ(r2.requests, 2);
  EXPECT_EQ(r2.quota_used, 1);  // OUT_OF_QUOTA was not counted by the server
}

TEST_P(ReportQueries, SummaryCountsFinalJobsByWhoDecidedRunOrNot) {
  add_savings();
  auto s = summarize(*session_, {}, 0.7, kT0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->by_decider.size(), 3u);
  EXPECT_EQ(s->by_decider[0].name, "api");
  EXPECT_EQ(s->by_decider[0].count, 7);  // 1, 2, 3, 5, 6, 10, 11
  EXPECT_EQ(s->by_decider[1].name, "preflight");
  EXPECT_EQ(s->by_decider[1].count, 2);  // 7 at enqueue (no run) and 9 in run 3
  EXPECT_EQ(s->by_decider[2].name, "reused");
  EXPECT_EQ(s->by_decider[2].count, 1);  // 8; 12 is pending again, whatever it says
  EXPECT_EQ(s->calls_saved(), 3);
  EXPECT_EQ(s->jobs, 12);
  EXPECT_EQ(s->by_state[0].count, 2);  // pending: 4 and 12

  JobFilter tag;
  tag.tag = "batch-c";
  auto c = summarize(*session_, tag, 0.7, kT0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->decided_by("api"), 2);  // 10, 11
  EXPECT_EQ(c->decided_by("preflight"), 2);
  EXPECT_EQ(c->decided_by("reused"), 1);

  // The run filter selects jobs attempted in the run: a job decided without
  // a request never is. The run's own counters still say what it saved.
  JobFilter run;
  run.run_id = 3;
  auto r = summarize(*session_, run, 0.7, kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decided_by("api"), 2);
  EXPECT_EQ(r->calls_saved(), 0);
  ASSERT_EQ(r->runs.size(), 1u);
  EXPECT_EQ(r->runs[0].decided_locally, 1);
  EXPECT_EQ(r->runs[0].reused, 1);
}

TEST_P(ReportQueries, SummaryGivesEachRunWhatItSavedAndExpiredImageIds) {
  add_savings();
  auto s = summarize(*session_, {}, 0.7, kT0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->runs.size(), 3u);
  for (int i : {0, 1}) {  // runs from before schema 004's counters had anything to count
    EXPECT_EQ(s->runs[i].decided_locally, 0);
    EXPECT_EQ(s->runs[i].reused, 0);
    EXPECT_EQ(s->runs[i].sent_by_image_id, 0);
    EXPECT_EQ(s->runs[i].image_ids_expired, 0);
  }
  const RunSummary& r3 = s->runs[2];
  EXPECT_EQ(r3.id, 3);
  EXPECT_EQ(r3.decided_locally, 1);
  EXPECT_EQ(r3.reused, 1);
  EXPECT_EQ(r3.sent_by_image_id, 2);   // the expired id and job 11's
  EXPECT_EQ(r3.image_ids_expired, 1);  // job 10's
  EXPECT_EQ(r3.requests, 3);
  EXPECT_EQ(r3.quota_used, 3);         // the server answered IMAGE_ID_NOT_EXIST: counted
  EXPECT_EQ(r3.done, 2);
  EXPECT_EQ(s->sent_by_image_id(), 2);
  EXPECT_EQ(s->image_ids_expired(), 1);
}

TEST_P(ReportQueries, SummaryWithoutSavingsSaysZeroForEachDecider) {
  auto s = summarize(*session_, {}, 0.7, kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->by_decider.size(), 3u);
  EXPECT_EQ(s->decided_by("api"), 5);  // every final job of the fixture
  EXPECT_EQ(s->decided_by("preflight"), 0);
  EXPECT_EQ(s->decided_by("reused"), 0);
  EXPECT_EQ(s->calls_saved(), 0);
}

TEST_P(ReportQueries, SummaryHonoursTheFilterAndRun) {
  JobFilter f;
  f.run_id = 2;
  auto s = summarize(*session_, f, 0.8, kT0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->jobs, 1);
  EXPECT_EQ(s->below_threshold, 1);  // 0.7 < 0.8
  ASSERT_EQ(s->runs.size(), 1u);
  EXPECT_EQ(s->runs[0].id, 2);
}

TEST_P(ReportQueries, RequeueResetsMatchingFinishedJobsAndKeepsHistory) {
  JobFilter f;
  f.statuses = {"FACE_DETECTION_FAILED"};
  auto n = requeue(*session_, f, kT0 + 500'000);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  auto d = job_detail(*session_, 3);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  const JobDetail& job = **d;
  EXPECT_EQ(job.state, "pending");
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.next_attempt_at, kT0 + 500'000);
  EXPECT_EQ(job.api_status, "");
  EXPECT_FALSE(job.finished_at.has_value());
  EXPECT_EQ(job.attempt_rows.size(), 2u);  // history kept
  // Other jobs untouched.
  auto other = job_detail(*session_, 5);
  EXPECT_EQ((*other)->state, "failed");
}

TEST_P(ReportQueries, RequeueNeverTouchesPendingOrLeasedJobs) {
  exec("UPDATE jobs SET state = 'leased', lease_owner = 'r1', lease_expires_at = " + t(999'999) + " WHERE id = 2");
  JobFilter f;
  f.tag = "batch-b";  // jobs 3 (failed) and 4 (pending)
  auto n = requeue(*session_, f, kT0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  JobFilter all;
  auto everything = requeue(*session_, all, kT0);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(*everything, 3);  // 1, 5, 6; 2 is leased, 3 and 4 already pending
  EXPECT_EQ((*job_detail(*session_, 2))->state, "leased");
}

TEST_P(ReportQueries, RequeueOfManyIdRangesCountsEachJobOnceAndKeepsTheCountersExact) {
  // 9,000 more jobs over ids 100..18,098 (several re-queue transactions):
  // every other one failed, the rest done; one in 3 of the failed ones
  // tried by run 2.
  exec("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 8999)"
       " INSERT INTO jobs (id, source_kind, source, state, api_status, attempts, created_at,"
       " updated_at, finished_at) SELECT 100 + 2 * i, 'url', 'u' || i,"
       " CASE WHEN i % 2 = 1 THEN 'failed' ELSE 'done' END,"
       " CASE WHEN i % 2 = 1 THEN 'CORRUPT_IMAGE' ELSE 'OK' END, 1, 1, 1, 1 FROM s");
  exec("INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status)"
       " SELECT id, 2, 1, 2, api_status FROM jobs WHERE id >= 100 AND state = 'failed' AND id % 3 = 0");
  // PostgreSQL's job_counts is append-only (a key's count is the sum of its
  // rows); the sum is also right for SQLite's one row per key.
  const std::string counters =
      "SELECT state, api_status, sum(n) FROM job_counts GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2";
  const std::string group_by =
      "SELECT state, CASE WHEN state IN ('done', 'failed') THEN coalesce(api_status, '') ELSE '' END,"
      " count(*) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2";
  EXPECT_EQ(lines(counters), lines(group_by));

  JobFilter by_run;
  by_run.run_id = 2;
  by_run.statuses = {"CORRUPT_IMAGE"};
  auto n = requeue(*session_, by_run, kT0);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1500);
  EXPECT_EQ(text("SELECT count(*) FROM jobs WHERE id >= 100 AND state = 'pending'"), "1500");
  EXPECT_EQ(lines(counters), lines(group_by));

  JobFilter failed;
  failed.states = {"failed"};
  n = requeue(*session_, failed, kT0);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 3000 + 2);  // the rest of the new failed jobs, and jobs 3 and 5
  EXPECT_EQ(lines(counters), lines(group_by));
  n = requeue(*session_, {}, kT0);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 4500 + 3);  // the new done jobs, and jobs 1, 2 and 6
  EXPECT_EQ(text("SELECT count(*) FROM jobs WHERE state <> 'pending'"), "0");
  EXPECT_EQ(lines(counters), lines(group_by));
}

TEST_P(ReportQueries, JobDetailHasAllAttemptsOldestFirst) {
  auto d = job_detail(*session_, 1);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  const auto& rows = (*d)->attempt_rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].api_status, "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(rows[2].api_status, "OK");
  EXPECT_EQ(rows[2].run_id, 1);
  auto missing = job_detail(*session_, 999);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ReportQueries, CsvExportWritesHeaderAndOneRowPerJob) {
  std::ostringstream out;
  CsvExportOptions options;
  options.columns = *parse_report_columns("id,source,verify_score,decision,first_attempt_at");
  JobFilter f;
  f.states = {"done", "failed"};
  auto rows = export_csv(*session_, f, options, out);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows, 5);
  EXPECT_EQ(out.str(),
            "id,source,verify_score,decision,first_attempt_at\r\n"
            "1,/a/1.jpg,0.91,pass,2025-11-24T16:00:05.000Z\r\n"
            "2,/a/2.jpg,0.42,fail,2025-11-24T16:00:19.000Z\r\n"
            "3,/a/3.jpg,,,2025-11-24T16:00:28.000Z\r\n"
            "5,\"/a/张三,\"\"5\"\".jpg\",,,2025-11-24T16:00:39.000Z\r\n"
            "6,/a/6.jpg,0.7,pass,2025-11-24T16:03:21.000Z\r\n");
}

TEST_P(ReportQueries, ASourceThatIsNotUtf8ReadsBackAsItsBytes) {
  const std::string latin1 = "/a/caf\xE9.jpg";  // ISO-8859-1
  auto added = session_->run(
      "INSERT INTO jobs (id, source_kind, source, tag, state, attempts, api_status, created_at, updated_at, "
      "finished_at) VALUES (20, 'path', ?1, 'latin1', 'failed', 1, 'CORRUPT_IMAGE', ?2, ?2, ?3)",
      {stored(latin1), std::int64_t{kT0}, std::int64_t{kT0 + 1}});
  ASSERT_TRUE(added.ok()) << added.error().message;
  JobFilter f;
  f.tag = "latin1";
  std::vector<std::string> sources;
  ASSERT_TRUE(for_each_job(*session_, f, [&](const JobRowView& r) {
                sources.emplace_back(r.source);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(sources, (std::vector<std::string>{latin1}));
  auto d = job_detail(*session_, 20);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->source, latin1);
  auto s = summarize(*session_, f, 0.7, kT0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->failures.size(), 1u);
  EXPECT_EQ(s->failures[0].source, latin1);
  std::ostringstream out;
  CsvExportOptions options;
  options.columns = *parse_report_columns("id,source");
  ASSERT_TRUE(export_csv(*session_, f, options, out).ok());
  EXPECT_EQ(out.str(), "id,source\r\n20," + latin1 + "\r\n");
}

TEST_P(ReportQueries, RunHistorySumsEveryRunAndFindsTheLastSuccess) {
  exec("UPDATE runs SET requests = 7, throttled = 1 WHERE id = 1");
  exec("UPDATE runs SET requests = 2 WHERE id = 2");
  auto h = run_history(*session_);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->runs, 2);
  EXPECT_EQ(h->requests, 9);
  EXPECT_EQ(h->throttled, 1);
  EXPECT_EQ(h->last_success_at, kT0 + 100'000);  // run 2 ran out of quota
}

#ifdef LF_REPORT_TESTS_ON_POSTGRESQL
INSTANTIATE_TEST_SUITE_P(Postgresql, ReportQueries, ::testing::Values(StoreKind::kPostgresql), store_name);
#else
INSTANTIATE_TEST_SUITE_P(Sqlite, ReportQueries, ::testing::Values(StoreKind::kSqlite), store_name);

// The tests below need no database: they run once, with SQLite's.

// A PostgreSQL session as the report sees one: the dialect, and canned rows
// of text for the statements that start with a given prefix (every other
// statement returns no rows). Records the SQL it was given.
class CannedPostgresSession : public SqlSession {
 public:
  using Row = std::vector<std::optional<std::string>>;

  void answer(std::string prefix, std::vector<Row> rows) { canned_.emplace_back(std::move(prefix), std::move(rows)); }
  const std::vector<std::string>& statements() const { return statements_; }

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }
  const std::string& name() const override { return name_; }
  Status exec(std::string_view sql) override {
    statements_.emplace_back(sql);
    return Status::Ok();
  }
  Result<std::int64_t> query(std::string_view sql, const std::vector<SqlParam>&,
                             const SqlRowCallback& on_row) override {
    statements_.emplace_back(sql);
    std::int64_t n = 0;
    for (const auto& [prefix, rows] : canned_) {
      if (!sql.starts_with(prefix)) continue;
      for (const Row& row : rows) {
        if (Status ok = on_row(TextRow(row)); !ok) return ok.error();
        ++n;
      }
      break;
    }
    return n;
  }
  Status begin_read() override { return Status::Ok(); }
  Status begin_write() override { return Status::Ok(); }
  Status commit() override { return Status::Ok(); }
  void rollback() override {}
  bool in_transaction() const override { return false; }

 private:
  class TextRow : public SqlRow {
   public:
    explicit TextRow(const Row& row) : row_(row) {}
    int columns() const override { return static_cast<int>(row_.size()); }
    bool is_null(int c) const override { return !row_[c]; }
    std::int64_t integer(int c) const override { return row_[c] ? std::stoll(*row_[c]) : 0; }
    double real(int c) const override { return row_[c] ? std::stod(*row_[c]) : 0; }
    std::string_view text(int c) const override { return row_[c] ? std::string_view(*row_[c]) : ""; }

   private:
    const Row& row_;
  };

  std::string name_ = "postgresql://lf@db.example/lf";
  std::vector<std::pair<std::string, std::vector<Row>>> canned_;
  std::vector<std::string> statements_;
};

TEST(ReportOnPostgresql, SourcesStoredAsHexReadAsTheirBytes) {
  CannedPostgresSession pg;
  const std::string latin1 = "/photos/caf\xE9.jpg";
  const std::string stored = "\\x2f70686f746f732f636166e92e6a7067";  // encode_source_for_text(latin1)
  using Row = CannedPostgresSession::Row;
  pg.answer("SELECT j.id, j.source, j.source_kind,",
            {Row{"1", stored, "path", "done", "0.9", "img", "r1", "OK", std::nullopt, "200", "1", std::nullopt,
                 "5", "6", std::nullopt, std::nullopt, std::nullopt},
             Row{"2", "/plain/\xE5\xBC\xA0.jpg", "path", "failed", std::nullopt, std::nullopt, std::nullopt,
                 "CORRUPT_IMAGE", std::nullopt, "400", "1", std::nullopt, "5", "6", std::nullopt, std::nullopt,
                 std::nullopt}});
  std::vector<std::string> sources;
  auto n = for_each_job(pg, {}, [&](const JobRowView& r) {
    sources.emplace_back(r.source);
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(sources, (std::vector<std::string>{latin1, "/plain/\xE5\xBC\xA0.jpg"}));

  std::ostringstream csv;
  CsvExportOptions options;
  options.columns = *parse_report_columns("id,source");
  ASSERT_TRUE(export_csv(pg, {}, options, csv).ok());
  EXPECT_EQ(csv.str(), "id,source\r\n1," + latin1 + "\r\n2,/plain/\xE5\xBC\xA0.jpg\r\n");

  pg.answer("SELECT id, source_kind, source,",
            {Row{"7", "path", stored, "1", std::nullopt, "failed", "1", "0", std::nullopt, std::nullopt,
                 std::nullopt, std::nullopt, std::nullopt, "CORRUPT_IMAGE", std::nullopt, "400", std::nullopt, "5",
                 "6", "7", std::nullopt, std::nullopt}});
  auto d = job_detail(pg, 7);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->source, latin1);
  EXPECT_TRUE((*d)->auto_rotate);

  pg.answer("SELECT j.id, j.source, j.api_status,",
            {Row{"7", stored, "CORRUPT_IMAGE", std::nullopt, "1", "7", std::nullopt}});
  auto s = summarize(pg, {}, 0.7, kT0);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->failures.size(), 1u);
  EXPECT_EQ(s->failures[0].source, latin1);
  EXPECT_EQ(s->database, "postgresql://lf@db.example/lf");
}

TEST(ReportOnPostgresql, TextIsOrderedByBytesAsOnSqlite) {
  CannedPostgresSession pg;
  ASSERT_TRUE(summarize(pg, {}, 0.7, kT0).ok());
  int ordered = 0;
  for (const std::string& sql : pg.statements()) {
    EXPECT_EQ(sql.find(" ? "), std::string::npos) << sql;
    if (sql.find("GROUP BY j.api_status") != std::string::npos) {
      EXPECT_NE(sql.find("j.api_status COLLATE \"C\" NULLS FIRST"), std::string::npos) << sql;
      ++ordered;
    }
  }
  EXPECT_EQ(ordered, 2);  // by status, and the failure reasons
}

TEST(ReportFilters, UnknownStatusListsTheValidCodes) {
  auto r = parse_statuses("FACE_DETECTION_FAIL");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'FACE_DETECTION_FAIL'"), std::string::npos);
  EXPECT_NE(r.error().message.find("FACE_DETECTION_FAILED"), std::string::npos);
  EXPECT_NE(r.error().message.find("CONNECTION_LOST"), std::string::npos);
  EXPECT_EQ(*parse_statuses("face_detection_failed, timeout"),
            (std::vector<std::string>{"FACE_DETECTION_FAILED", "TIMEOUT"}));
}

TEST(ReportFilters, UnknownStateAndColumnListTheValidOnes) {
  auto s = parse_states("done,finished");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("pending, leased, done, failed"), std::string::npos);
  auto c = parse_report_columns("source,score");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("'score'"), std::string::npos);
  EXPECT_NE(c.error().message.find("verify_score"), std::string::npos);
}

TEST(ReportFilters, DescribeSaysWhatIsSelected) {
  JobFilter f;
  f.states = {"failed"};
  f.statuses = {"CORRUPT_IMAGE"};
  f.min_score = 0.5;
  EXPECT_EQ(f.describe(), "state in (failed), status in (CORRUPT_IMAGE), verify_score >= 0.5");
}

TEST(ReportFilters, ParametersAreNumberedForEitherStore) {
  JobFilter f;
  f.states = {"done", "failed"};
  f.statuses = {"OK"};
  f.tag = "batch-a";
  f.since = kT0;
  f.run_id = 1;
  f.min_score = 0.5;
  const SqlConditions c = filter_conditions(f, 4);
  EXPECT_EQ(c.where(),
            " WHERE j.state IN (?4,?5) AND j.api_status IN (?6) AND j.tag = ?7 AND j.finished_at >= ?8"
            " AND j.id IN (SELECT a.job_id FROM attempts a WHERE a.run_id = ?9) AND j.verify_score >= ?10");
  ASSERT_EQ(c.params.size(), 7u);
  EXPECT_EQ(std::get<std::string>(c.params[0]), "done");
  EXPECT_EQ(std::get<double>(c.params[6]), 0.5);
}

#endif  // LF_REPORT_TESTS_ON_POSTGRESQL

}  // namespace
}  // namespace lf
