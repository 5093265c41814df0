// Several `lfbatch run`s sharing one PostgreSQL queue, end to end: the real
// lfbatch and lfemu binaries over real sockets, a throwaway PostgreSQL
// cluster (the CTest fixture "pg", scripts/pg_cluster.sh) with a database of
// each test's own. Asserts what a user would see: every job final once, a
// runner killed with SIGKILL has its jobs finished by the others, nothing
// billed twice but what the killed runner had in flight, and the commands
// that read the queue work on it.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator/face_model.h"
#include "image/synthetic_image.h"
#include "lfbatch_harness.h"
#include "lfemu_harness.h"
#include "store/pg_session.h"

namespace lf::e2e {
namespace {

using namespace std::chrono_literals;

// The cluster's URL (its database "lfbatch"), from the file the fixture wrote.
std::string cluster_url() {
  const char* file = std::getenv("LF_TEST_PG_URL_FILE");
  if (!file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return url;
}

// A database of the test's own in the cluster, dropped at the end.
class TestDatabase {
 public:
  explicit TestDatabase(const std::string& name) : name_(name) {
    admin_url_ = cluster_url();
    if (admin_url_.empty()) return;
    auto admin = PgSession::connect(admin_url_);
    if (!admin) {
      error_ = admin.error().message;
      return;
    }
    (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    if (Status s = (*admin)->exec("CREATE DATABASE " + name_); !s) {
      error_ = s.message();
      return;
    }
    url_ = admin_url_.substr(0, admin_url_.rfind('/') + 1) + name_;
  }
  ~TestDatabase() {
    if (url_.empty()) return;
    if (auto admin = PgSession::connect(admin_url_)) {
      (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
  }
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

  // One query's rows, as text ("" for NULL).
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    if (!session_) {
      auto s = PgSession::connect(url_);
      EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
      if (!s) return rows;
      session_ = std::move(s).value();
    }
    auto n = session_->query(sql, {}, [&](const SqlRow& row) {
      std::vector<std::string> cells;
      for (int i = 0; i < row.columns(); ++i) cells.push_back(row.string(i));
      rows.push_back(std::move(cells));
      return Status::Ok();
    });
    EXPECT_TRUE(n.ok()) << sql << ": " << (n.ok() ? "" : n.error().message);
    return rows;
  }
  std::int64_t scalar(const std::string& sql) {
    auto rows = query(sql);
    return rows.empty() || rows[0].empty() ? -1 : std::stoll(rows[0][0]);
  }

 private:
  std::string name_, admin_url_, url_, error_;
  std::unique_ptr<PgSession> session_;
};

class PgRunE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cluster_url().empty()) GTEST_SKIP() << "LF_TEST_PG_URL_FILE is not set (run through ctest)";
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string name = "e2e_";
    for (char c : test) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    db_ = std::make_unique<TestDatabase>(name.substr(0, 60));
    ASSERT_TRUE(db_->error().empty()) << db_->error();
  }

  // `n` small distinct PNGs, queued in the test's database.
  void make_queue(int n) {
    std::filesystem::create_directories(dir_.path() + "/imgs");
    for (int i = 0; i < n; ++i) {
      std::string bytes = make_image(ImageFormat::kPng, 16 + i % 7, 16 + i % 5,
                                     "id=" + std::to_string(i));
      std::string path = dir_.path() + "/imgs/" + std::to_string(i) + ".png";
      std::ofstream(path, std::ios::binary) << bytes;
      images_[path] = bytes;
    }
    ASSERT_EQ(run_sync({"init", "--db", url()}), 0) << last_err_;
    ASSERT_EQ(run_sync({"enqueue", "--db", url(), "--recursive", dir_.path() + "/imgs"}), 0)
        << last_err_;
  }

  int run_sync(const std::vector<std::string>& args) {
    LfbatchProcess p(args, dir_.path(), kE2eSecret, "sync");
    int code = p.wait();
    last_out_ = p.out();
    last_err_ = p.err();
    return code;
  }

  std::vector<std::string> run_args(std::uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {
        "run", "--db", url(), "--endpoint",
        "http://127.0.0.1:" + std::to_string(port) + "/identity/handhold_idcard_verification",
        "--json", "--progress", "none"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  const std::string& url() const { return db_->url(); }

  // lfemu's own record of what it billed: content hash -> calls.
  std::map<std::string, int> billed_by_content(std::uint16_t port) {
    HttpReply r = http_request(port, "GET", "/_admin/calls?limit=100000");
    EXPECT_TRUE(r.ok) << r.error;
    std::map<std::string, int> billed;
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      auto call = nlohmann::json::parse(line, nullptr, false);
      if (call.is_discarded() || !call.value("billed", false)) continue;
      ++billed[call.value("sha256", std::string())];
    }
    return billed;
  }

  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;
  std::map<std::string, std::string> images_;  // path -> bytes
  std::string last_out_, last_err_;
};

TEST_F(PgRunE2E, ThreeRunnersShareTheQueueAndAKilledOnesJobsFinishOnTheOthers) {
  make_queue(400);
  LfemuProcess emu({"--account", std::string(kE2eApiId) + ":" + kE2eSecret, "--call-log",
                    "100000", "--latency-ms", "20"});
  ASSERT_TRUE(emu.started());
  // A short lease, so the killed runner's jobs come back within seconds.
  const std::vector<std::string> flags = {"--concurrency", "4", "--rate", "60", "--lease", "3s"};
  auto a = std::make_unique<LfbatchProcess>(run_args(emu.port(), flags), dir_.path(), kE2eSecret,
                                            "a");
  LfbatchProcess b(run_args(emu.port(), flags), dir_.path(), kE2eSecret, "b");
  LfbatchProcess c(run_args(emu.port(), flags), dir_.path(), kE2eSecret, "c");
  // Kill `a` once it has answers stored and jobs leased.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline &&
         db_->scalar("SELECT count(*) FROM jobs WHERE state = 'done'") < 60) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GT(db_->scalar("SELECT count(*) FROM runs WHERE finished_at IS NULL"), 0);
  a->signal(SIGKILL);
  EXPECT_EQ(a->wait(), 128 + SIGKILL);
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(c.wait(), 0) << c.err();

  // Every job final, done once.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs"), 400);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'done'"), 400);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM (SELECT job_id FROM attempts WHERE disposition = "
                        "'done' GROUP BY job_id HAVING count(*) > 1) AS twice"),
            0);
  // Each stored score is the one lfemu's face model gives the job's bytes.
  for (const auto& row : db_->query("SELECT source, verify_score FROM jobs")) {
    EXPECT_NEAR(std::stod(row[1]), judge_faces(images_.at(row[0])).score, 1e-6) << row[0];
  }
  // The three runs: the killed one taken for dead and marked so; all three
  // did some of the work.
  auto runs = db_->query("SELECT ended_how, done FROM runs ORDER BY id");
  ASSERT_EQ(runs.size(), 3u);
  int crashed = 0;
  for (const auto& run : runs) {
    crashed += run[0] == "crashed";
    EXPECT_GT(std::stoll(run[1]), 0) << "a runner that did nothing";
  }
  EXPECT_EQ(crashed, 1);
  // Billed twice: only content the killed runner had in flight (its
  // attempts in doubt), never more.
  int twice = 0;
  for (const auto& [hash, n] : billed_by_content(emu.port())) twice += n - 1;
  EXPECT_LE(twice, db_->scalar("SELECT count(*) FROM attempts WHERE disposition = 'in_doubt'"));
  EXPECT_LE(twice, 4) << "more than the killed runner's requests in flight";
}

TEST_F(PgRunE2E, OutOfQuotaStopsEveryRunnerWithTheRestQueued) {
  make_queue(200);
  LfemuProcess emu({"--account", std::string(kE2eApiId) + ":" + kE2eSecret, "--quota", "90"});
  ASSERT_TRUE(emu.started());
  const std::vector<std::string> flags = {"--concurrency", "4", "--lease", "3s"};
  LfbatchProcess a(run_args(emu.port(), flags), dir_.path(), kE2eSecret, "a");
  LfbatchProcess b(run_args(emu.port(), flags), dir_.path(), kE2eSecret, "b");
  LfbatchProcess c(run_args(emu.port(), flags), dir_.path(), kE2eSecret, "c");
  EXPECT_EQ(a.wait(), 75) << a.err();
  EXPECT_EQ(b.wait(), 75) << b.err();
  EXPECT_EQ(c.wait(), 75) << c.err();
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'done'"), 90);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'pending'"), 110);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'leased'"), 0);
}

TEST_F(PgRunE2E, StatusAndReportReadThePostgresqlQueue) {
  make_queue(30);
  LfemuProcess emu({"--account", std::string(kE2eApiId) + ":" + kE2eSecret});
  ASSERT_TRUE(emu.started());
  ASSERT_EQ(run_sync(run_args(emu.port(), {"--concurrency", "4"})), 0) << last_err_;
  ASSERT_EQ(run_sync({"status", "--db", url(), "--json"}), 0) << last_err_;
  auto status = nlohmann::json::parse(last_out_, nullptr, false);
  ASSERT_FALSE(status.is_discarded()) << last_out_;
  EXPECT_EQ(status["total"], 30);
  EXPECT_EQ(status["by_state"]["done"], 30);
  // The CSV: a header and a row per job, each with its source.
  ASSERT_EQ(run_sync({"report", "--db", url()}), 0) << last_err_;
  EXPECT_EQ(lines_of(last_out_).size(), 31u) << last_out_;
  EXPECT_NE(last_out_.find(dir_.path() + "/imgs/7.png"), std::string::npos);
  ASSERT_EQ(run_sync({"report", "--db", url(), "--format", "json"}), 0) << last_err_;
  auto summary = nlohmann::json::parse(last_out_, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << last_out_;
  ASSERT_EQ(run_sync({"report", "--db", url(), "--format", "html"}), 0) << last_err_;
  EXPECT_NE(last_out_.find("</html>"), std::string::npos);
  EXPECT_NE(last_out_.find("<b>30</b><span>jobs</span>"), std::string::npos) << "the jobs card";
  ASSERT_EQ(run_sync({"jobs", "show", "--db", url(), "1"}), 0) << last_err_;
  EXPECT_NE(last_out_.find("imgs/"), std::string::npos) << last_out_;
  // Re-queue them all, and a second run answers them again.
  ASSERT_EQ(run_sync({"retry", "--db", url(), "--state", "done"}), 0) << last_err_;
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'pending'"), 30);
  ASSERT_EQ(run_sync(run_args(emu.port(), {"--concurrency", "4", "--no-reuse"})), 0) << last_err_;
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM jobs WHERE state = 'done'"), 30);
}

TEST_F(PgRunE2E, AQueueNeverInitialisedSaysToRunInit) {
  EXPECT_NE(run_sync({"status", "--db", url()}), 0);
  EXPECT_NE(last_err_.find("lfbatch init"), std::string::npos) << last_err_;
}

TEST_F(PgRunE2E, APasswordInTheUrlIsNeverPrinted) {
  // The cluster trusts loopback, so any password is accepted and ignored.
  std::string with_password = url();
  const std::size_t at = with_password.find('@');
  ASSERT_NE(at, std::string::npos) << with_password;
  with_password.insert(at, ":Sw0rdfish-in-url");
  ASSERT_EQ(run_sync({"init", "--db", with_password}), 0) << last_err_;
  EXPECT_EQ(last_out_.find("Sw0rdfish"), std::string::npos) << last_out_;
  EXPECT_EQ(last_err_.find("Sw0rdfish"), std::string::npos) << last_err_;
  std::string unreachable = with_password;
  unreachable.replace(unreachable.rfind(':'), std::string::npos, ":1/nothing");
  EXPECT_NE(run_sync({"status", "--db", unreachable}), 0);
  EXPECT_EQ(last_err_.find("Sw0rdfish"), std::string::npos) << last_err_;
}

}  // namespace
}  // namespace lf::e2e
