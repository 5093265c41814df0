// Paying only for what counts, end to end: the real lfbatch against the real
// lfemu over sockets, with lfemu's call log as the bill. Each test asserts
// what lfemu received (how many calls, which bytes, which file names) and
// what the database says about each job.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/content_hash.h"
#include "image/synthetic_image.h"
#include "lfbatch_harness.h"
#include "lfemu_harness.h"

namespace lf::e2e {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr const char* kApiId = "economy";
constexpr const char* kSecret = "economy-secret-42";

// Rows of a read-only query, as text.
std::vector<std::vector<std::string>> query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::vector<std::string>> rows;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

std::int64_t scalar(const std::string& db_path, const std::string& sql) {
  auto rows = query(db_path, sql);
  return rows.empty() || rows[0].empty() || rows[0][0].empty() ? -1 : std::stoll(rows[0][0]);
}

class EconomyE2E : public ::testing::Test {
 protected:
  void SetUp() override { start_lfemu(); }

  void start_lfemu() {
    lfemu_ = std::make_unique<LfemuProcess>(std::vector<std::string>{
        "--account", std::string(kApiId) + ":" + kSecret, "--call-log", "10000", "--log-level",
        "warn"});
    ASSERT_TRUE(lfemu_->started());
  }

  std::string db() const { return dir_.path() + "/q.db"; }
  std::string photo(const std::string& name) const { return dir_.path() + "/photos/" + name; }

  std::string put(const std::string& name, const std::string& bytes) {
    std::filesystem::create_directories(dir_.path() + "/photos");
    std::ofstream(photo(name), std::ios::binary) << bytes;
    return photo(name);
  }

  ProcessResult lfbatch(std::vector<std::string> args) {
    RunOptions options;
    options.env = {{"LINKFACE_API_ID", kApiId}, {"LINKFACE_API_SECRET", kSecret}};
    options.cwd = dir_.path();
    return run_lfbatch(args, options);
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(lfemu_->port()) +
           "/identity/handhold_idcard_verification";
  }

  ProcessResult run(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", "--db", db(), "--endpoint", endpoint(), "--json",
                                     "--progress", "none", "--concurrency", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return lfbatch(args);
  }

  // lfemu's call log since the last call of this function.
  std::vector<Json> new_calls() {
    HttpReply r = http_request(lfemu_->port(), "GET",
                               "/_admin/calls?since=" + std::to_string(last_seq_));
    EXPECT_TRUE(r.ok) << r.error;
    std::vector<Json> calls;
    for (const std::string& line : lines_of(r.body)) {
      if (line.empty()) continue;
      calls.push_back(Json::parse(line));
      last_seq_ = calls.back()["seq"].get<std::uint64_t>();
    }
    return calls;
  }

  static int billed(const std::vector<Json>& calls) {
    int n = 0;
    for (const Json& c : calls) n += c["billed"].get<bool>() ? 1 : 0;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<LfemuProcess> lfemu_;
  std::uint64_t last_seq_ = 0;
};

TEST_F(EconomyE2E, OneCallPerDistinctValidImageAndNoLocalFileNameSent) {
  std::map<std::string, std::string> distinct;  // sha256 -> a file with those bytes
  for (int i = 0; i < 12; ++i) {
    const std::string bytes = make_image(ImageFormat::kPng, 40 + i, 30, "id=" + std::to_string(i));
    // Names as ID archives have them: a person's name and ID number.
    distinct[sha256_hex(bytes)] =
        put("\xe5\xbc\xa0\xe4\xb8\x89-11010119900307" + std::to_string(1000 + i) + ".png", bytes);
  }
  // Byte-identical copies under other names, one with a GBK name (not UTF-8),
  // one a PNG named .jpg (the Content-Type must come from the bytes).
  const std::string first = distinct.begin()->second;
  std::ifstream in(first, std::ios::binary);
  const std::string copy_bytes((std::istreambuf_iterator<char>(in)), {});
  put("copy-1.png", copy_bytes);
  put("\xd5\xc5\xc8\xfd.png", copy_bytes);
  put("copy-3.jpg", copy_bytes);
  // What the API would reject, at no cost: not images, too wide, too small.
  put("notes.jpg", "minutes of the meeting, not a photo");
  put("empty.png", "");
  put("wide.png", make_image(ImageFormat::kPng, 4001, 30));
  put("tiny.gif", make_image(ImageFormat::kGif, 8, 8));
  // Valid when queued, damaged before the run: the runner's own check.
  const std::string later = put("later.jpg", make_image(ImageFormat::kJpeg, 64, 64, "later"));

  ASSERT_EQ(lfbatch({"init", "--db", db()}).exit_code, 0);
  ProcessResult enq = lfbatch({"enqueue", "--db", db(), "--recursive", dir_.path() + "/photos"});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  EXPECT_THAT(enq.out, HasSubstr("added 20 (4 failed pre-flight"));
  put("later.jpg", make_image(ImageFormat::kJpeg, 64, 64, "later").substr(0, 300));

  ProcessResult r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json summary = Json::parse(lines_of(r.out).back());
  EXPECT_EQ(summary["requests"], 12);
  EXPECT_EQ(summary["saved"]["reused"], 3);
  EXPECT_EQ(summary["saved"]["decided_locally"], 1);  // later.jpg; the other 4 at enqueue

  const std::vector<Json> calls = new_calls();
  ASSERT_EQ(calls.size(), 12u);
  EXPECT_EQ(billed(calls), 12);
  std::set<std::string> hashes;
  for (const Json& c : calls) {
    EXPECT_EQ(c["source"], "file");
    hashes.insert(c["sha256"].get<std::string>());
    // No local name leaves the machine: the part is named after its format.
    EXPECT_EQ(c["file_name"], "image.png");
    EXPECT_EQ(c["file_content_type"], "image/png");
  }
  EXPECT_EQ(hashes.size(), distinct.size());
  for (const auto& [hash, path] : distinct) EXPECT_TRUE(hashes.count(hash)) << path;

  // Every job final; the copies took the answer of the job that was sent.
  EXPECT_EQ(scalar(db(), "SELECT count(*) FROM jobs WHERE state NOT IN ('done','failed')"), 0);
  EXPECT_EQ(scalar(db(), "SELECT count(*) FROM attempts"), 12);
  auto reused = query(db(), "SELECT r.verify_score = o.verify_score, r.content_hash = o.content_hash,"
                            " o.decided_by IS NULL, r.attempts FROM jobs r JOIN jobs o"
                            " ON o.id = r.reused_from WHERE r.decided_by = 'reused'");
  ASSERT_EQ(reused.size(), 3u);
  for (const auto& row : reused) EXPECT_EQ(row, (std::vector<std::string>{"1", "1", "1", "0"}));
  auto local = query(db(), "SELECT api_status, attempts, (SELECT count(*) FROM attempts a WHERE"
                           " a.job_id = jobs.id) FROM jobs WHERE decided_by = 'preflight'"
                           " ORDER BY source");
  ASSERT_EQ(local.size(), 5u);
  for (const auto& row : local) EXPECT_EQ(row[1] + row[2], "00") << row[0];
  EXPECT_EQ(scalar(db(), "SELECT count(*) FROM jobs WHERE decided_by = 'preflight' AND source = '" +
                             later + "' AND api_status = 'CORRUPT_IMAGE'"),
            1);
}

TEST_F(EconomyE2E, LocalFileNamesGoOutOnlyWhenAskedAndAGbkNameIsTheApisEncodingError) {
  const std::string bytes = make_image(ImageFormat::kJpeg, 64, 48, "gbk");
  put("\xd5\xc5\xc8\xfd.jpg", bytes);  // 张三 in GBK
  put("li-si.jpg", make_image(ImageFormat::kJpeg, 64, 48, "utf8"));
  ASSERT_EQ(lfbatch({"init", "--db", db()}).exit_code, 0);
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), "-r", dir_.path() + "/photos"}).exit_code, 0);
  ProcessResult r = run({"--send-file-names"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> status_by_name;
  for (const Json& c : new_calls()) {
    status_by_name[c["file_name"].get<std::string>()] = c["api_status"].get<std::string>();
  }
  EXPECT_EQ(status_by_name["li-si.jpg"], "OK");
  ASSERT_EQ(status_by_name.size(), 2u);
  EXPECT_EQ(scalar(db(), "SELECT count(*) FROM jobs WHERE api_status = 'ENCODING_ERROR'"), 1);
}

TEST_F(EconomyE2E, LaterRunsReuseAnswersAndReverifyByImageIdFallingBackToAnUpload) {
  const std::string a = put("a.png", make_image(ImageFormat::kPng, 50, 50, "a"));
  ASSERT_EQ(lfbatch({"init", "--db", db()}).exit_code, 0);
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), a}).exit_code, 0);
  ASSERT_EQ(run().exit_code, 0);
  ASSERT_EQ(new_calls().size(), 1u);

  // The same bytes under a new name, another day: no call at all.
  std::ifstream in(a, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), put("a-copy.png", bytes)}).exit_code, 0);
  ASSERT_EQ(run().exit_code, 0);
  EXPECT_TRUE(new_calls().empty());
  const std::int64_t original = scalar(db(), "SELECT id FROM jobs WHERE source LIKE '%/a.png'");
  const std::int64_t copy = scalar(db(), "SELECT id FROM jobs WHERE source LIKE '%a-copy.png'");
  EXPECT_EQ(scalar(db(), "SELECT reused_from FROM jobs WHERE id = " + std::to_string(copy)),
            original);
  ProcessResult show = lfbatch({"jobs", "show", "--db", db(), std::to_string(copy)});
  EXPECT_THAT(show.out, HasSubstr("reused: the answer of job " + std::to_string(original) +
                                  " for identical content (nothing sent)"));

  // --again verifies for real, sending the earlier upload's image_id.
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), "--again", a}).exit_code, 0);
  ProcessResult r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Json> calls = new_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["source"], "file_id");
  EXPECT_EQ(calls[0]["api_status"], "OK");
  EXPECT_EQ(calls[0]["sha256"], sha256_hex(bytes));
  EXPECT_EQ(Json::parse(lines_of(r.out).back())["saved"]["sent_by_image_id"], 1);

  // A restarted lfemu has forgotten its uploads: IMAGE_ID_NOT_EXIST, then the
  // bytes, and the job's attempts count one request, not two.
  lfemu_.reset();
  start_lfemu();
  last_seq_ = 0;
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), "--again", a}).exit_code, 0);
  r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  calls = new_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["source"], "file_id");
  EXPECT_EQ(calls[0]["api_status"], "IMAGE_ID_NOT_EXIST");
  EXPECT_EQ(calls[1]["source"], "file");
  EXPECT_EQ(calls[1]["api_status"], "OK");
  auto job = query(db(), "SELECT state, attempts, api_status FROM jobs ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(job[0], (std::vector<std::string>{"done", "1", "OK"}));
  EXPECT_EQ(query(db(), "SELECT group_concat(disposition) FROM (SELECT disposition FROM attempts"
                        " WHERE job_id = (SELECT max(id) FROM jobs) ORDER BY id)")[0][0],
            "image_id_expired,done");
  EXPECT_EQ(Json::parse(lines_of(r.out).back())["saved"]["image_ids_expired"], 1);

  // --no-reuse: a real call even for content answered before.
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), put("a-third.png", bytes)}).exit_code, 0);
  ASSERT_EQ(run({"--no-reuse", "--image-id-max-age", "0"}).exit_code, 0);
  calls = new_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["source"], "file");
}

TEST_F(EconomyE2E, TheDailyBudgetStopsRunsWithExit75AndSaysWhenItResets) {
  for (int i = 0; i < 8; ++i) {
    put(std::to_string(i) + ".png", make_image(ImageFormat::kPng, 20 + i, 20, std::to_string(i)));
  }
  const std::string config = dir_.write("lfbatch.json", R"({"max_requests_per_day": 5,
                                                            "budget_time_zone": "UTC"})");
  ASSERT_EQ(lfbatch({"init", "--db", db()}).exit_code, 0);
  ASSERT_EQ(lfbatch({"enqueue", "--db", db(), "-r", dir_.path() + "/photos"}).exit_code, 0);
  ProcessResult r = run({"--config", config});
  EXPECT_EQ(r.exit_code, 75) << r.err;
  const Json summary = Json::parse(lines_of(r.out).back());
  EXPECT_EQ(summary["ended"], "daily_budget");
  EXPECT_EQ(summary["requests"], 5);
  EXPECT_THAT(summary["detail"].get<std::string>(), HasSubstr("resets at"));
  EXPECT_THAT(summary["detail"].get<std::string>(), HasSubstr("00:00 +00:00"));
  EXPECT_EQ(new_calls().size(), 5u);
  // The next run the same day sends nothing and says so.
  r = run({"--config", config});
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_THAT(r.err, HasSubstr("max_requests_per_day 5 spent (5 requests since"));
  EXPECT_TRUE(new_calls().empty());
  EXPECT_EQ(scalar(db(), "SELECT count(*) FROM jobs WHERE state = 'pending'"), 3);
  // A bad zone is a usage error before anything runs.
  const std::string bad = dir_.write("bad.json", R"({"max_requests_per_day": 5,
                                                     "budget_time_zone": "Mars/Olympus"})");
  r = run({"--config", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Mars/Olympus"));
}

}  // namespace
}  // namespace lf::e2e
