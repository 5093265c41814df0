// The engine against a real SQLite queue and a scripted API client: every
// way a run can end, and what it leaves in the database.
#include "runner/runner.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "image/synthetic_image.h"
#include "store/database.h"
#include "store/job_queue.h"
#include "store/sqlite_job_queue.h"
#include "store/run_log.h"
#include "store/sqlite_run_log.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

namespace asio = boost::asio;

// Answers each request with script(job, n) where n counts requests from 0,
// after `latency`.
class ScriptedClient : public ApiClient {
 public:
  using Script = std::function<Outcome(const Job&, int)>;
  ScriptedClient(Script script, std::chrono::milliseconds latency, int* max_in_flight_out)
      : script_(std::move(script)), latency_(latency), max_in_flight_out_(max_in_flight_out) {}
  ~ScriptedClient() override { *max_in_flight_out_ = max_in_flight_; }

  asio::awaitable<Outcome> verify(const Job& job, const Payload&) override {
    int n = calls_++;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    asio::steady_timer timer(co_await asio::this_coro::executor, latency_);
    co_await timer.async_wait(asio::use_awaitable);
    --in_flight_;
    ++per_job_[job.id];
    co_return script_(job, n);
  }
  void close_idle() override {}

  int calls() const { return calls_; }
  int max_in_flight() const { return max_in_flight_; }

 private:
  Script script_;
  std::chrono::milliseconds latency_;
  int calls_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::map<JobId, int> per_job_;
  int* max_in_flight_out_;
};

Outcome answer(const Job& job, ApiStatus status) {
  Outcome o;
  o.job_id = job.id;
  ApiAnswer a;
  a.status = status;
  a.http_status = http_status_of(status);
  a.request_id = "TID" + std::to_string(job.id);
  if (status == ApiStatus::kOk) {
    a.verify_score = 0.5 + static_cast<double>(job.id % 100) / 1000.0;
    a.image_id = "img" + std::to_string(job.id);
  }
  o.answer = a;
  return o;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.file("q.db");
    auto db = Database::open(db_path_, true);
    ASSERT_TRUE(db.ok()) << db.error().message;
  }

  void enqueue(int n) {
    auto db = Database::open(db_path_, false);
    ASSERT_TRUE(db.ok());
    SqliteJobQueue queue(**db);
    std::vector<NewJob> jobs;
    for (int i = 0; i < n; ++i) {
      jobs.push_back({SourceKind::kFileId, "file-" + std::to_string(i), false, ""});
    }
    auto counts = queue.enqueue(jobs, false, 1000);
    ASSERT_TRUE(counts.ok()) << counts.error().message;
    ASSERT_EQ(counts->added, n);
  }

  RunOptions options(ScriptedClient::Script script,
                     std::chrono::milliseconds latency = std::chrono::milliseconds(2)) {
    RunOptions o;
    o.db_path = db_path_;
    o.client.endpoint = "http://127.0.0.1:1/identity/handhold_idcard_verification";
    o.concurrency = 8;
    o.retry.base_delay = std::chrono::milliseconds(5);
    o.retry.max_delay = std::chrono::milliseconds(20);
    o.retry.throttle_min = std::chrono::milliseconds(1);
    o.retry.throttle_max = std::chrono::milliseconds(5);
    o.retry.max_attempts = 3;
    o.progress = ProgressStyle::kNone;
    o.handle_signals = false;
    o.seed = 42;
    o.make_client = [this, script, latency](asio::any_io_executor, const ClientOptions&)
        -> Result<std::unique_ptr<ApiClient>> {
      auto client = std::make_unique<ScriptedClient>(script, latency, &max_in_flight_);
      return std::unique_ptr<ApiClient>(std::move(client));
    };
    return o;
  }

  std::int64_t scalar(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  std::int64_t jobs_in(const std::string& state) {
    return scalar("SELECT count(*) FROM jobs WHERE state = '" + state + "'");
  }

  TempDirForTest dir_;
  std::string db_path_;
  int max_in_flight_ = 0;  // the scripted client's, after a run
};

TEST_F(RunnerTest, AllAnsweredOkEndCompletedWithOneAttemptEach) {
  enqueue(300);
  FinishedRun s = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kOk); }));
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(s.exit_code(), 0);
  EXPECT_EQ(s.total, 300);
  EXPECT_EQ(s.stats.done, 300);
  EXPECT_EQ(s.stats.requests, 300);
  EXPECT_EQ(s.remaining, 0);
  EXPECT_EQ(jobs_in("done"), 300);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 300);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE verify_score IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(DISTINCT run_id) FROM attempts"), 1);
  EXPECT_EQ(scalar("SELECT done FROM runs"), 300);
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE ended_how = 'completed'"), 1);
}

TEST_F(RunnerTest, NeverMoreThanConcurrencyInFlight) {
  enqueue(200);
  RunOptions o = options([](const Job& j, int) { return answer(j, ApiStatus::kOk); },
                         std::chrono::milliseconds(5));
  o.concurrency = 5;
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kCompleted);
  EXPECT_EQ(jobs_in("done"), 200);
  EXPECT_EQ(max_in_flight_, 5);
}

TEST_F(RunnerTest, TransientFailuresAreRetriedAndCounted) {
  enqueue(100);
  std::map<JobId, int> seen;
  FinishedRun s = run_queue(options([&seen](const Job& j, int) {
    return seen[j.id]++ == 0 ? answer(j, ApiStatus::kInternalError) : answer(j, ApiStatus::kOk);
  }));
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 100);
  EXPECT_EQ(s.stats.retried, 100);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 200);
  EXPECT_EQ(scalar("SELECT min(attempts) FROM jobs"), 2);
  EXPECT_EQ(scalar("SELECT max(attempts) FROM jobs"), 2);
}

TEST_F(RunnerTest, AfterMaxAttemptsAJobFailsWithTheLastCode) {
  enqueue(20);
  FinishedRun s = run_queue(options([](const Job& j, int) {
    Outcome o;
    o.job_id = j.id;
    o.failure = TransportFailure::kMalformedResponse;
    o.failure_detail = "HTTP 200 with body 'hello': not a JSON object";
    return o;
  }));
  EXPECT_EQ(s.end, RunEnd::kCompleted);
  EXPECT_EQ(jobs_in("failed"), 20);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE api_status = 'MALFORMED_RESPONSE'"), 20);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 60);  // max_attempts 3
}

TEST_F(RunnerTest, IsolatedResetsAreRetriedPerJobButAnOutageChargesNoJob) {
  // Every fifth request reset: the service answers in between, so each
  // reset is the job's own retry, and every job ends done.
  enqueue(40);
  std::map<JobId, int> seen;
  FinishedRun s = run_queue(options([&seen](const Job& j, int) {
    if (seen[j.id]++ == 0 && j.id % 5 == 0) {
      Outcome o;
      o.job_id = j.id;
      o.failure = TransportFailure::kConnectionLost;
      return o;
    }
    return answer(j, ApiStatus::kOk);
  }));
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 40);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts WHERE disposition = 'outage'"), 0);
}

TEST_F(RunnerTest, AnOutageLongerThanTheLimitStopsTheRunWithEveryJobQueued) {
  enqueue(30);
  RunOptions o = options([](const Job& j, int) {
    Outcome out;
    out.job_id = j.id;
    out.failure = TransportFailure::kGatewayError;
    out.failure_detail = "HTTP 502: '502 Bad Gateway' instead of the API's answer";
    return out;
  });
  o.outage.outage_limit = std::chrono::milliseconds(600);
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kUnreachable) << s.detail;
  EXPECT_NE(s.detail.find("502 Bad Gateway"), std::string::npos) << s.detail;
  EXPECT_EQ(jobs_in("failed"), 0);
  EXPECT_EQ(jobs_in("pending"), 30);
  // The requests that opened the circuit were charged; none after.
  EXPECT_LE(scalar("SELECT count(*) FROM jobs WHERE attempts > 0"), 8);
  EXPECT_GE(scalar("SELECT count(*) FROM attempts WHERE disposition = 'outage'"), 1);
  // One probe at a time: a few dozen requests at most in 0.6 s, not thousands.
  EXPECT_LE(scalar("SELECT count(*) FROM attempts"), 40);
}

TEST_F(RunnerTest, AnOutageThatEndsResumesAndFinishesEveryJob) {
  enqueue(60);
  auto start = std::chrono::steady_clock::now();
  RunOptions o = options([start](const Job& j, int) {
    // Down from 20 ms to 400 ms after the start, answering before and after.
    auto t = std::chrono::steady_clock::now() - start;
    if (t > std::chrono::milliseconds(20) && t < std::chrono::milliseconds(400)) {
      Outcome out;
      out.job_id = j.id;
      out.failure = TransportFailure::kConnectFailed;
      out.failure_detail = "connection refused";
      return out;
    }
    return answer(j, ApiStatus::kOk);
  });
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 60);
  EXPECT_EQ(jobs_in("failed"), 0);
}

TEST_F(RunnerTest, TheSameInvalidArgumentManyTimesInARowStopsTheRun) {
  enqueue(100);
  RunOptions o = options([](const Job& j, int) {
    Outcome out = answer(j, ApiStatus::kInvalidArgument);
    out.answer->reason = "api_secret is required";
    return out;
  });
  o.invalid_argument_streak = 10;
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kAbortedConfiguration) << s.detail;
  EXPECT_NE(s.detail.find("INVALID_ARGUMENT"), std::string::npos) << s.detail;
  EXPECT_NE(s.detail.find("lfbatch retry --status INVALID_ARGUMENT"), std::string::npos);
  // The streak and what was in flight failed; the archive did not.
  EXPECT_LE(jobs_in("failed"), 10 + 8);
  EXPECT_GE(jobs_in("pending"), 100 - 18);
}

TEST_F(RunnerTest, ThrottledCallsGoBackWithoutUsingAttempts) {
  enqueue(50);
  std::map<JobId, int> seen;
  RunOptions o = options([&seen](const Job& j, int) {
    return seen[j.id]++ < 4 ? answer(j, ApiStatus::kRateLimitExceeded) : answer(j, ApiStatus::kOk);
  });
  o.rate.min_rate = 500;  // the controller backs off; keep the test quick
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 50);  // 4 throttles > max_attempts 3, still done
  EXPECT_EQ(s.stats.throttled, 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 250);
  EXPECT_EQ(scalar("SELECT max(attempts) FROM jobs"), 1);
}

TEST_F(RunnerTest, OutOfQuotaAfterNCallsStoresExactlyNAndLeavesTheRestPending) {
  enqueue(200);
  RunOptions o = options([](const Job& j, int n) {
    return n < 37 ? answer(j, ApiStatus::kOk) : answer(j, ApiStatus::kOutOfQuota);
  });
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kOutOfQuota);
  EXPECT_EQ(s.exit_code(), 75);
  EXPECT_EQ(jobs_in("done"), 37);
  EXPECT_EQ(jobs_in("pending"), 163);
  EXPECT_EQ(jobs_in("leased"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'pending' AND attempts > 0"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'pending' AND api_status IS NOT NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE ended_how = 'out_of_quota'"), 1);
  // The next run, with quota again, finishes the rest.
  FinishedRun again = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kOk); }));
  EXPECT_EQ(again.end, RunEnd::kCompleted);
  EXPECT_EQ(jobs_in("done"), 200);
}

TEST_F(RunnerTest, OnQuotaWaitProbesAgainAndResumes) {
  enqueue(60);
  RunOptions o = options([](const Job& j, int n) {
    return (n >= 10 && n < 25) ? answer(j, ApiStatus::kOutOfQuota) : answer(j, ApiStatus::kOk);
  });
  o.quota_wait = std::chrono::milliseconds(20);
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 60);
}

TEST_F(RunnerTest, BadCredentialsAbortWithNoJobChanged) {
  enqueue(100);
  FinishedRun s = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kUnauthorized); }));
  EXPECT_EQ(s.end, RunEnd::kAbortedCredentials);
  EXPECT_EQ(s.exit_code(), 77);
  EXPECT_EQ(jobs_in("pending"), 100);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE attempts > 0 OR api_status IS NOT NULL"), 0);
  EXPECT_LE(s.stats.requests, 8);  // at most what was in flight when the first answer came
}

TEST_F(RunnerTest, NotFoundIsAConfigurationError) {
  enqueue(10);
  FinishedRun s = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kNotFound); }));
  EXPECT_EQ(s.end, RunEnd::kAbortedConfiguration);
  EXPECT_EQ(s.exit_code(), 78);
  EXPECT_EQ(jobs_in("pending"), 10);
}

TEST_F(RunnerTest, MaxRequestsIsNeverExceeded) {
  enqueue(100);
  std::atomic<int> calls = 0;
  RunOptions o = options([&calls](const Job& j, int) {
    ++calls;
    return answer(j, ApiStatus::kInternalError);
  });
  o.max_requests = 33;
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kBudget);
  EXPECT_EQ(s.exit_code(), 0);
  EXPECT_EQ(calls.load(), 33);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 33);
  EXPECT_EQ(jobs_in("leased"), 0);
}

TEST_F(RunnerTest, DeadlineStopsDispatching) {
  enqueue(100000);
  RunOptions o = options([](const Job& j, int) { return answer(j, ApiStatus::kOk); });
  o.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count() + 300;
  FinishedRun s = run_queue(o);
  EXPECT_EQ(s.end, RunEnd::kDeadline);
  EXPECT_GT(jobs_in("done"), 0);
  EXPECT_GT(jobs_in("pending"), 0);
  EXPECT_EQ(jobs_in("leased"), 0);
  EXPECT_EQ(jobs_in("done") + jobs_in("pending"), 100000);
}

TEST_F(RunnerTest, LeasesOfACrashedRunAreRecoveredAndTheRunMarked) {
  enqueue(50);
  {
    auto db = Database::open(db_path_, false);
    ASSERT_TRUE(db.ok());
    SqliteRunLog log(**db);
    SqliteJobQueue queue(**db);
    auto id = log.start_run("{}", "h", 1, 1000);
    ASSERT_TRUE(id.ok());
    // A lease that would not expire for an hour.
    auto leased = queue.lease(20, lease_owner_of(*id), 2000, 3'600'000'000'000);
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 20u);
  }
  FinishedRun s = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kOk); }));
  EXPECT_EQ(s.end, RunEnd::kCompleted);
  EXPECT_EQ(jobs_in("done"), 50);
  EXPECT_EQ(scalar("SELECT count(*) FROM runs WHERE ended_how = 'crashed'"), 1);
}

TEST_F(RunnerTest, PermanentFailuresAreStoredWithTheirReason) {
  enqueue(10);
  FinishedRun s = run_queue(options([](const Job& j, int) {
    Outcome o = answer(j, ApiStatus::kFaceDetectionFailed);
    o.answer->reason = "no face detected";
    return o;
  }));
  EXPECT_EQ(s.end, RunEnd::kCompleted);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE state = 'failed' AND reason = 'no face detected' "
                   "AND api_status = 'FACE_DETECTION_FAILED' AND http_status = 400"), 10);
  EXPECT_EQ(s.stats.by_code["FACE_DETECTION_FAILED"], 10);
}

// Path jobs: `copies` files with identical bytes (a real PNG) and
// `distinct` files of their own.
void write_photos(const std::string& dir, int copies, int distinct) {
  std::filesystem::create_directories(dir);
  const std::string same = make_image(ImageFormat::kPng, 32, 32, "same");
  for (int i = 0; i < copies; ++i) {
    std::ofstream(dir + "/copy" + std::to_string(i) + ".png", std::ios::binary) << same;
  }
  for (int i = 0; i < distinct; ++i) {
    std::ofstream(dir + "/own" + std::to_string(i) + ".png", std::ios::binary)
        << make_image(ImageFormat::kPng, 32, 32, "own" + std::to_string(i));
  }
}

TEST_F(RunnerTest, IdenticalFilesShareOneRequestEvenWhenItsFirstAnswerIsAThrottle) {
  const std::string photos = dir_.file("photos");
  write_photos(photos, 6, 2);
  {
    auto db = Database::open(db_path_, false);
    ASSERT_TRUE(db.ok());
    SqliteJobQueue queue(**db);
    std::vector<NewJob> jobs;
    for (const auto& entry : std::filesystem::directory_iterator(photos)) {
      NewJob job;
      job.source = entry.path().string();
      jobs.push_back(job);
    }
    ASSERT_TRUE(queue.enqueue(jobs, false, 1000).ok());
  }
  std::map<JobId, int> calls_per_job;
  // The first request is throttled: its followers go back to the queue and
  // the content is sent again once, not once per copy.
  bool throttled = false;
  FinishedRun s = run_queue(options([&](const Job& j, int) {
    ++calls_per_job[j.id];
    if (!throttled && j.source.find("copy") != std::string::npos) {
      throttled = true;
      return answer(j, ApiStatus::kRateLimitExceeded);
    }
    return answer(j, ApiStatus::kOk);
  }));
  EXPECT_TRUE(throttled);
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(jobs_in("done"), 8);
  // 2 distinct + the shared content once, + the throttled try.
  EXPECT_EQ(s.stats.requests, 4);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts WHERE disposition <> 'throttled'"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE decided_by = 'reused'"), 5);
  EXPECT_EQ(s.stats.reused, 5);
  // Each copy carries the score of the one request that answered for it.
  EXPECT_EQ(scalar("SELECT count(DISTINCT verify_score) FROM jobs WHERE source LIKE '%copy%'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs j JOIN jobs o ON o.id = j.reused_from"
                   " WHERE j.verify_score = o.verify_score AND o.decided_by IS NULL"),
            5);
}

TEST_F(RunnerTest, AFileThatVanishedOrBrokeAfterEnqueueFailsItsOwnJobWithoutARequest) {
  const std::string photos = dir_.file("photos");
  write_photos(photos, 0, 3);
  {
    auto db = Database::open(db_path_, false);
    ASSERT_TRUE(db.ok());
    SqliteJobQueue queue(**db);
    std::vector<NewJob> jobs;
    for (int i = 0; i < 3; ++i) {
      NewJob job;
      job.source = photos + "/own" + std::to_string(i) + ".png";
      jobs.push_back(job);
    }
    ASSERT_TRUE(queue.enqueue(jobs, false, 1000).ok());
  }
  std::filesystem::remove(photos + "/own0.png");
  std::ofstream(photos + "/own1.png", std::ios::binary | std::ios::trunc) << "garbage";
  FinishedRun s = run_queue(options([](const Job& j, int) { return answer(j, ApiStatus::kOk); }));
  EXPECT_EQ(s.end, RunEnd::kCompleted) << s.detail;
  EXPECT_EQ(s.stats.requests, 1);
  EXPECT_EQ(s.stats.decided_locally, 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM attempts"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM jobs WHERE decided_by = 'preflight' AND state = 'failed'"
                   " AND ((source LIKE '%own0.png' AND api_status = 'LOCAL_FILE_ERROR') OR"
                   "      (source LIKE '%own1.png' AND api_status = 'CORRUPT_IMAGE'))"),
            2);
}

}  // namespace
}  // namespace lf
