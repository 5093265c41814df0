// `lfbatch run` end to end: the real lfbatch and lfemu binaries over real
// sockets, in temp dirs. Asserts what a user would see: exit codes, and the
// database after the run (every job final, each result the one lfemu gives
// for that image, nothing lost or stored twice across crashes and signals).
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lfbatch_harness.h"
#include "lfemu_harness.h"
#include "emulator/face_model.h"
#include "image/synthetic_image.h"

namespace lf::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kApiId = kE2eApiId;
constexpr const char* kSecret = kE2eSecret;

// A read-only look at the queue's database.
class Db {
 public:
  explicit Db(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    // A runner may be recovering the WAL of a killed one: wait, as lfbatch does.
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }

  std::int64_t scalar(const std::string& sql) {
    auto rows = query(sql);
    return rows.empty() || rows[0].empty() ? -1 : std::stoll(rows[0][0]);
  }
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return rows;
  }
  std::int64_t jobs_in(const std::string& state) {
    return scalar("SELECT count(*) FROM jobs WHERE state = '" + state + "'");
  }

 private:
  sqlite3* db_ = nullptr;
};

class RunE2E : public ::testing::Test {
 protected:
  // Writes `n` small PNGs (each different, so each has its own score), one
  // in `one_face_every` asking lfemu for a single face, and queues them.
  void make_queue(int n, int one_face_every = 0) {
    std::filesystem::create_directories(dir_.path() + "/imgs");
    for (int i = 0; i < n; ++i) {
      std::string marker = "id=" + std::to_string(i);
      if (one_face_every > 0 && i % one_face_every == 0) marker += " LFEMU:faces=1";
      std::string bytes = make_image(ImageFormat::kPng, 16 + i % 7, 16 + i % 5, marker);
      std::string path = dir_.path() + "/imgs/" + std::to_string(i) + ".png";
      std::ofstream(path, std::ios::binary) << bytes;
      images_[path] = bytes;
    }
    ASSERT_EQ(run_sync({"init", "--db", db()}), 0);
    ASSERT_EQ(run_sync({"enqueue", "--db", db(), "--recursive", dir_.path() + "/imgs"}), 0);
  }

  int run_sync(const std::vector<std::string>& args, const std::string& secret = kSecret) {
    LfbatchProcess p(args, dir_.path(), secret, "sync");
    int code = p.wait();
    last_out_ = p.out();
    last_err_ = p.err();
    return code;
  }

  std::vector<std::string> run_args(std::uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {
        "run", "--db", db(), "--endpoint",
        "http://127.0.0.1:" + std::to_string(port) + "/identity/handhold_idcard_verification",
        "--json", "--progress", "none"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::string db() const { return dir_.path() + "/q.db"; }

  nlohmann::json admin_stats(std::uint16_t port) {
    HttpReply r = http_request(port, "GET", "/_admin/stats");
    EXPECT_TRUE(r.ok) << r.error;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  // Every done job's stored score is the one lfemu's face model gives its
  // bytes; every FACE_DETECTION_FAILED job asked for one face.
  void expect_results_match_the_face_model() {
    Db d(db());
    auto rows = d.query("SELECT source, state, api_status, verify_score, reason FROM jobs");
    ASSERT_EQ(rows.size(), images_.size());
    for (const auto& row : rows) {
      const std::string& bytes = images_.at(row[0]);
      FaceVerdict v = judge_faces(bytes);
      if (v.faces == 2) {
        EXPECT_EQ(row[1], "done") << row[0];
        EXPECT_EQ(row[2], "OK") << row[0];
        EXPECT_NEAR(std::stod(row[3]), v.score, 1e-6) << row[0];
      } else {
        EXPECT_EQ(row[1], "failed") << row[0];
        EXPECT_EQ(row[2], "FACE_DETECTION_FAILED") << row[0];
        EXPECT_EQ(row[4], "no two faces detected") << row[0];
      }
    }
  }

  // Nothing stored twice: one final attempt per job, the job's request_id
  // is that attempt's, and the job's attempt count is the attempts rows
  // that count (throttled and released ones do not).
  void expect_each_job_stored_once() {
    Db d(db());
    EXPECT_EQ(d.scalar("SELECT count(*) FROM (SELECT job_id FROM attempts "
                       "WHERE disposition IN ('done', 'permanent_failure') "
                       "GROUP BY job_id HAVING count(*) > 1)"),
              0);
    EXPECT_EQ(d.scalar("SELECT count(*) FROM jobs j WHERE state IN ('done', 'failed') AND "
                       "(SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND "
                       " a.request_id = j.request_id) != 1"),
              0);
    EXPECT_EQ(d.scalar("SELECT count(*) FROM jobs j WHERE j.attempts != (SELECT count(*) FROM "
                       "attempts a WHERE a.job_id = j.id AND a.disposition IN "
                       "('done', 'permanent_failure', 'retry_later', 'in_doubt'))"),
              0);
  }

  TempDir dir_;
  std::map<std::string, std::string> images_;  // path -> bytes
  std::string last_out_, last_err_;
};

TEST_F(RunE2E, FaultyServerEveryJobEndsFinalWithTheAnswerLfemuGives) {
  make_queue(2000, 50);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--fail-rate", "0.05",
                    "--reset-rate", "0.02", "--seed", "11"});
  ASSERT_TRUE(emu.started());
  int code = run_sync(run_args(emu.port(), {"--concurrency", "32", "--max-attempts", "8"}));
  ASSERT_EQ(code, 0) << last_err_;
  auto summary = nlohmann::json::parse(last_out_);
  EXPECT_EQ(summary["ended"], "completed");
  EXPECT_EQ(summary["remaining"], 0);
  EXPECT_GT(summary["by_code"].value("INTERNAL_ERROR", 0), 0);
  Db d(db());
  EXPECT_EQ(d.jobs_in("done") + d.jobs_in("failed"), 2000);
  EXPECT_EQ(d.jobs_in("failed"), 40);
  expect_results_match_the_face_model();
  expect_each_job_stored_once();
  // lfemu's own count of answers: every OK it gave for a job we stored.
  auto stats = admin_stats(emu.port());
  EXPECT_GE(stats["by_status"].value("OK", 0), 1960);
  EXPECT_EQ(d.scalar("SELECT requests FROM runs"), d.scalar("SELECT count(*) FROM attempts"));
}

TEST_F(RunE2E, OutOfQuotaExitsTempfailWithExactlyNStoredAndTheNextRunFinishes) {
  make_queue(400);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--quota", "250"});
  ASSERT_TRUE(emu.started());
  int code = run_sync(run_args(emu.port()));
  EXPECT_EQ(code, 75) << last_err_;
  {
    Db d(db());
    EXPECT_EQ(d.jobs_in("done"), 250);
    EXPECT_EQ(d.jobs_in("pending"), 150);
    EXPECT_EQ(d.jobs_in("leased"), 0);
    EXPECT_EQ(d.scalar("SELECT count(*) FROM jobs WHERE state = 'pending' AND "
                       "(attempts > 0 OR api_status IS NOT NULL)"),
              0);
    EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'out_of_quota'"), 1);
  }
  EXPECT_EQ(nlohmann::json::parse(last_out_)["ended"], "out_of_quota");

  // A new quota period: 250 more calls, enough for the 150 left.
  ASSERT_TRUE(http_request(emu.port(), "POST", "/_admin/reset-quota").ok);
  code = run_sync(run_args(emu.port()));
  EXPECT_EQ(code, 0) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("done"), 400);
  expect_results_match_the_face_model();
  expect_each_job_stored_once();
}

TEST_F(RunE2E, BadCredentialsExitNoPermWithNoJobChanged) {
  make_queue(100);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret});
  ASSERT_TRUE(emu.started());
  int code = run_sync(run_args(emu.port()), "not-the-secret");
  EXPECT_EQ(code, 77) << last_err_;
  EXPECT_NE(last_err_.find("UNAUTHORIZED"), std::string::npos) << last_err_;
  EXPECT_EQ(last_err_.find("not-the-secret"), std::string::npos);
  Db d(db());
  EXPECT_EQ(d.jobs_in("pending"), 100);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM jobs WHERE attempts > 0 OR api_status IS NOT NULL "
                     "OR lease_owner IS NOT NULL"),
            0);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'aborted_credentials'"), 1);
}

TEST_F(RunE2E, UnreachableEndpointStopsTheRunWithEveryJobStillQueued) {
  make_queue(300);
  std::uint16_t closed_port = 0;
  {
    // A port nobody listens on: bound, never listening, closed again.
    LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret});
    ASSERT_TRUE(emu.started());
    closed_port = emu.port();
  }
  int code = run_sync(run_args(closed_port, {"--concurrency", "8", "--outage-limit", "2s"}));
  EXPECT_EQ(code, 75) << last_err_;
  EXPECT_NE(last_err_.find("could not be reached for 2s (--outage-limit"), std::string::npos)
      << last_err_;
  EXPECT_NE(last_err_.find("pausing: one probe at a time"), std::string::npos) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("failed"), 0) << "an outage must not fail the archive";
  EXPECT_EQ(d.jobs_in("pending"), 300);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'unreachable'"), 1);
  // Eight in a row open the circuit; then one probe at a time, a few a
  // second: not hundreds of requests into a dead endpoint.
  const auto tried = d.scalar("SELECT count(*) FROM attempts WHERE api_status = 'CONNECT_FAILED'");
  EXPECT_GE(tried, 8);
  EXPECT_LE(tried, 40);
  // Once it was open, no job was charged an attempt.
  EXPECT_GE(d.scalar("SELECT count(*) FROM attempts WHERE disposition = 'outage'"), 1);
  EXPECT_LE(d.scalar("SELECT count(*) FROM jobs WHERE attempts > 0"), 8);
}

TEST_F(RunE2E, WrongEndpointIsAConfigurationError) {
  make_queue(5);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret});
  ASSERT_TRUE(emu.started());
  std::vector<std::string> args = run_args(emu.port());
  args[4] = "http://127.0.0.1:" + std::to_string(emu.port()) + "/identity/wrong_path";
  EXPECT_EQ(run_sync(args), 78) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("pending"), 5);
}

TEST_F(RunE2E, FiveSigkillsAtRandomMomentsLoseNothingAndStoreNothingTwice) {
  make_queue(1500, 100);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--fail-rate", "0.05",
                    "--latency-ms", "50", "--seed", "5"});
  ASSERT_TRUE(emu.started());
  std::mt19937 rng(std::random_device{}());
  // At most 16 / 50 ms = 320 req/s: 1500 jobs need about 5 s of running,
  // more than five kills of at most 0.7 s allow.
  std::uniform_int_distribution<int> pause_ms(150, 700);
  for (int kill = 0; kill < 5; ++kill) {
    LfbatchProcess p(run_args(emu.port(), {"--concurrency", "16"}), dir_.path(), kSecret,
                     "kill" + std::to_string(kill));
    // The random moment is counted from when the run has recorded itself, so
    // that a slow start (a sanitizer build, a loaded machine) still gives a
    // run that dies mid-way rather than one that never began.
    for (int i = 0; i < 500 && Db(db()).scalar("SELECT count(*) FROM runs") <= kill; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
  }
  {
    Db d(db());
    EXPECT_GT(d.jobs_in("done"), 0) << "the runs were killed before doing anything";
    EXPECT_GT(d.jobs_in("pending") + d.jobs_in("leased"), 0) << "killed too late to matter";
  }
  int code = run_sync(run_args(emu.port(), {"--concurrency", "16"}));
  ASSERT_EQ(code, 0) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("done") + d.jobs_in("failed"), 1500);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'crashed'"), 5);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'completed'"), 1);
  expect_results_match_the_face_model();
  expect_each_job_stored_once();
  // Every call lfemu saw is on record; the unanswered ones of the killed
  // runs are in doubt, at most the requests in flight at each kill.
  const std::int64_t server_calls = admin_stats(emu.port())["requests_total"];
  EXPECT_GE(d.scalar("SELECT count(*) FROM attempts"), server_calls);
  EXPECT_LE(d.scalar("SELECT count(*) FROM attempts WHERE disposition = 'in_doubt'"), 5 * 16);
  EXPECT_EQ(d.scalar("SELECT count(*) FROM attempts WHERE finished_at IS NULL AND "
                     "disposition != 'in_doubt'"),
            0);
  EXPECT_EQ(d.scalar("SELECT sum(requests) FROM runs"), d.scalar("SELECT count(*) FROM attempts"));
}

TEST_F(RunE2E, AtALowRateAKillDropsNoAnswerThatArrived) {
  make_queue(200);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret});
  ASSERT_TRUE(emu.started());
  LfbatchProcess p(run_args(emu.port(), {"--rate", "10", "--concurrency", "4"}), dir_.path());
  for (int i = 0; i < 500 && Db(db()).scalar("SELECT count(*) FROM runs") == 0; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(3s);
  p.signal(SIGKILL);
  EXPECT_EQ(p.wait(), 128 + SIGKILL);
  const std::int64_t answered = admin_stats(emu.port())["requests_total"];
  ASSERT_GT(answered, 10);
  Db d(db());
  // lfemu answers at once: at most the request on the wire at the kill was
  // answered and not stored (before prompt commits: up to 30 s of answers).
  EXPECT_GE(d.scalar("SELECT count(*) FROM attempts WHERE finished_at IS NOT NULL"), answered - 1);
  EXPECT_GE(d.scalar("SELECT count(*) FROM attempts"), answered) << "every call on record";
}

// Holds SQLite's write lock on the queue's database, as another process (a
// user's sqlite3, a long `lfbatch retry`) would.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~WriteLock() {
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST_F(RunE2E, AKillWhileAnotherProcessLocksTheDatabaseLosesNothingPaidFor) {
  make_queue(300);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--latency-ms", "20"});
  ASSERT_TRUE(emu.started());
  {
    LfbatchProcess p(run_args(emu.port(), {"--concurrency", "8", "--rate", "100"}), dir_.path(),
                     kSecret, "locked");
    for (int i = 0; i < 500 && Db(db()).scalar("SELECT count(*) FROM jobs WHERE state = 'done'") <
                                   20;
         ++i) {
      std::this_thread::sleep_for(20ms);
    }
    WriteLock lock(db());
    // The answers of the requests in flight arrive while the lock is held;
    // no new request can be recorded, so none is sent.
    std::this_thread::sleep_for(2s);
    const std::int64_t calls_during_lock = admin_stats(emu.port())["requests_total"];
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(admin_stats(emu.port())["requests_total"], calls_during_lock)
        << "sending pauses while nothing can be recorded";
    p.signal(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
  }
  ASSERT_EQ(run_sync(run_args(emu.port(), {"--concurrency", "8"})), 0) << last_err_;
  EXPECT_NE(last_err_.find("answers an earlier run could not"), std::string::npos) << last_err_;
  auto stats = admin_stats(emu.port());
  Db d(db());
  EXPECT_EQ(d.jobs_in("done"), 300);
  EXPECT_EQ(stats["by_status"].value("OK", 0), 300) << "no answer paid twice";
  EXPECT_EQ(d.scalar("SELECT count(*) FROM attempts WHERE disposition = 'in_doubt'"), 0);
  expect_each_job_stored_once();
}

TEST_F(RunE2E, ADatabaseLockedPastThePatienceExits3WithTheAnswersSavedBesideIt) {
  make_queue(100);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--latency-ms", "300"});
  ASSERT_TRUE(emu.started());
  {
    LfbatchProcess p(run_args(emu.port(), {"--concurrency", "8", "--db-patience", "2s"}),
                     dir_.path(), kSecret, "patience");
    for (int i = 0; i < 500 && Db(db()).scalar("SELECT count(*) FROM attempts") < 8; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    WriteLock lock(db());  // requests of 300 ms are in flight: their answers find it locked
    EXPECT_EQ(p.wait(30s), 3) << p.err();
    const std::string err = p.err();
    EXPECT_NE(err.find("database is locked"), std::string::npos) << err;
    EXPECT_NE(err.find(".unsaved-results.jsonl"), std::string::npos) << err;
    EXPECT_NE(err.find("next `lfbatch run`"), std::string::npos) << err;
  }
  ASSERT_EQ(run_sync({"status", "--db", db(), "--json"}), 0) << last_err_;
  const std::int64_t unsaved = nlohmann::json::parse(last_out_)["unsaved_results"];
  EXPECT_GE(unsaved, 1);
  ASSERT_EQ(run_sync({"init", "--db", db()}), 0) << last_err_;
  EXPECT_NE(last_out_.find("Stored " + std::to_string(unsaved) + " answers"), std::string::npos)
      << last_out_;
  ASSERT_EQ(run_sync(run_args(emu.port(), {"--concurrency", "8"})), 0) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("done"), 100);
  EXPECT_EQ(admin_stats(emu.port())["by_status"].value("OK", 0), 100) << "no answer paid twice";
  expect_each_job_stored_once();
}

TEST_F(RunE2E, SigintStopsCleanlyWithExit130AndTheNextRunFinishes) {
  make_queue(1000);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--latency-ms", "20"});
  ASSERT_TRUE(emu.started());
  LfbatchProcess p(run_args(emu.port(), {"--concurrency", "8"}), dir_.path());
  std::this_thread::sleep_for(1s);
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(30s), 130) << p.err();
  EXPECT_EQ(nlohmann::json::parse(p.out())["ended"], "interrupted");
  {
    Db d(db());
    EXPECT_EQ(d.jobs_in("leased"), 0);  // in-flight finished, the rest released
    EXPECT_GT(d.jobs_in("done"), 0);
    EXPECT_GT(d.jobs_in("pending"), 0);
    EXPECT_EQ(d.jobs_in("done") + d.jobs_in("pending"), 1000);
    EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE ended_how = 'interrupted'"), 1);
  }
  ASSERT_EQ(run_sync(run_args(emu.port())), 0) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("done"), 1000);
  expect_each_job_stored_once();
}

TEST_F(RunE2E, SigtermExits143AndASecondSignalExitsAtOnceLosingNothing) {
  make_queue(100);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--latency-ms", "1000"});
  ASSERT_TRUE(emu.started());
  {
    LfbatchProcess p(run_args(emu.port(), {"--concurrency", "8"}), dir_.path(), kSecret, "term");
    std::this_thread::sleep_for(1500ms);
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(30s), 143) << p.err();
  }
  {
    // Requests take a second: a second signal 150 ms after the first exits
    // before they finish.
    LfbatchProcess p(run_args(emu.port(), {"--concurrency", "8"}), dir_.path(), kSecret, "twice");
    std::this_thread::sleep_for(1500ms);
    p.signal(SIGTERM);
    std::this_thread::sleep_for(150ms);
    p.signal(SIGTERM);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(p.wait(30s), 143) << p.err();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
  }
  ASSERT_EQ(run_sync(run_args(emu.port(), {"--concurrency", "32"})), 0) << last_err_;
  Db d(db());
  EXPECT_EQ(d.jobs_in("done"), 100);
  expect_each_job_stored_once();
}

TEST_F(RunE2E, ASecondRunThroughASymlinkIsRefusedWith69AndLeavesTheFirstRunsLeases) {
  make_queue(40);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--latency-ms", "1000"});
  ASSERT_TRUE(emu.started());
  LfbatchProcess first(run_args(emu.port(), {"--concurrency", "2"}), dir_.path(), kSecret,
                       "first");
  // Requests take a second: the first run holds leases for a while.
  for (int i = 0; i < 500 && Db(db()).jobs_in("leased") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(Db(db()).jobs_in("leased"), 0) << first.err();

  const std::string link = dir_.path() + "/another-name.db";
  std::filesystem::create_symlink(db(), link);
  std::vector<std::string> args = run_args(emu.port());
  args[2] = link;
  EXPECT_EQ(run_sync(args), 69) << last_err_;
  EXPECT_NE(last_err_.find("another lfbatch run (pid " + std::to_string(first.pid()) +
                           ") is working on " + link + "; wait for it or stop it"),
            std::string::npos)
      << last_err_;
  {
    Db d(db());
    EXPECT_EQ(d.scalar("SELECT count(*) FROM runs"), 1) << "the second run started";
    EXPECT_EQ(d.scalar("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"), 0)
        << "the first run was marked finished (crashed) by the second";
    EXPECT_GT(d.jobs_in("leased"), 0) << "the second run released the first run's leases";
  }
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(30s), 143) << first.err();
}

TEST_F(RunE2E, MaxRequestsIsABudgetNeverExceeded) {
  make_queue(300);
  LfemuProcess emu({"--account", std::string(kApiId) + ":" + kSecret, "--fail-rate", "0.3",
                    "--seed", "2"});
  ASSERT_TRUE(emu.started());
  EXPECT_EQ(run_sync(run_args(emu.port(), {"--max-requests", "120"})), 0) << last_err_;
  EXPECT_EQ(nlohmann::json::parse(last_out_)["ended"], "budget");
  auto stats = admin_stats(emu.port());
  EXPECT_EQ(stats["requests_total"], 120);
  Db d(db());
  EXPECT_EQ(d.scalar("SELECT count(*) FROM attempts"), 120);
  EXPECT_EQ(d.jobs_in("leased"), 0);
}

}  // namespace
}  // namespace lf::e2e
