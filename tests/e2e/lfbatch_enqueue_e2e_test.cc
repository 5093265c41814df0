// lfbatch init / enqueue / status end to end: the real binary on a database
// in a temp dir; asserts what a user sees (stderr lines, stdout summary,
// exit codes, `status --json`).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/synthetic_image.h"
#include "lfbatch_harness.h"

namespace lf::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

class LfbatchEnqueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lf_enqueue_e2e_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_ = (dir_ / "q.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A small real image (PNG, whatever the name says), which pre-flight passes.
  std::string touch(const std::string& rel) { return write(rel, make_image(ImageFormat::kPng, 32, 24, rel)); }
  std::string write(const std::string& rel, const std::string& bytes) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  ProcessResult lfbatch(std::vector<std::string> args, RunOptions options = {}) {
    if (options.cwd.empty()) options.cwd = dir_.string();
    return run_lfbatch(args, options);
  }
  void init() {
    const auto r = lfbatch({"init", "--db", db_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json status_json() {
    const auto r = lfbatch({"status", "--db", db_, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  // The messages of stderr's log lines.
  static std::vector<std::string> messages(const ProcessResult& r) {
    std::vector<std::string> m;
    for (const auto& line : lines_of(r.err)) m.push_back(log_message(line));
    return m;
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(LfbatchEnqueueTest, VersionPrintsTheProjectVersion) {
  const auto r = lfbatch({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "lfbatch " LF_VERSION "\n");
}

TEST_F(LfbatchEnqueueTest, InitCreatesTheDatabaseAndSaysWhere) {
  const auto r = lfbatch({"init", "--db", "sub.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(path("sub.db")));
  EXPECT_TRUE(fs::exists(path("sub.db")));
  const auto again = lfbatch({"init", "--db", "sub.db"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("Up to date"));
}

TEST_F(LfbatchEnqueueTest, EachBadSourceGetsOneLineAndTheRestAreQueued) {
  init();
  const std::string good = touch("photos/a.jpg");
  touch("photos/sub/b.PNG");
  std::ofstream(path("list.txt")) << "# sources\r\n"
                                     "http://127.0.0.1:1/img/1.jpg\r\n"
                                     "\r\n"
                                     "gopher://example.com/x.jpg\r\n"
                                  << path("gone.jpg") << "\r\n";
  const auto r = lfbatch({"enqueue", "--db", db_, good, "photos", "missing.jpg",
                          "ftp://example.com/a.jpg", "https://example.com/b.jpg", "--file-id",
                          "b379f72402624858b895a955ec31ed8f", "--from-file", "list.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(messages(r),
              UnorderedElementsAreArray({
                  std::string("rejected photos: is a directory; add --recursive to enqueue the images in it"),
                  std::string("rejected missing.jpg: no such file or directory; check the path (relative "
                              "paths are taken from the current directory)"),
                  std::string("rejected ftp://example.com/a.jpg: URL scheme \"ftp\" is not supported: the API "
                              "fetches only http:// and https:// URLs (download the file and enqueue its "
                              "local path instead)"),
                  std::string("rejected gopher://example.com/x.jpg (list.txt:4): URL scheme \"gopher\" is not "
                              "supported: the API fetches only http:// and https:// URLs (download the file "
                              "and enqueue its local path instead)"),
                  "rejected " + path("gone.jpg") +
                      " (list.txt:5): no such file or directory; check the path (relative paths are "
                      "taken from the current directory)",
              }));
  for (const auto& line : lines_of(r.err)) EXPECT_THAT(line, HasSubstr(" warn "));
  EXPECT_EQ(r.out, "added 4, already queued/done/failed 0/0/0, rejected 5\n");

  const auto status = status_json();
  EXPECT_EQ(status["total"], 4);
  EXPECT_EQ(status["by_state"]["pending"], 4);
  EXPECT_EQ(status["by_state"]["done"], 0);
  EXPECT_EQ(status["due_now"], 4);
  EXPECT_TRUE(status["by_status"].is_object());
}

TEST_F(LfbatchEnqueueTest, AllGoodSourcesExitZero) {
  init();
  const auto r = lfbatch({"enqueue", "--db", db_, touch("a.jpg"), "http://h.example/1.jpg"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "added 2, already queued/done/failed 0/0/0, rejected 0\n");
}

TEST_F(LfbatchEnqueueTest, RecursiveQueuesImagesOnceAndAgainRequeues) {
  init();
  touch("photos/a.jpg");
  touch("photos/x/b.jpeg");
  touch("photos/x/notes.txt");
  auto r = lfbatch({"enqueue", "--db", db_, "--recursive", "photos", "--tag", "t1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "added 2, already queued/done/failed 0/0/0, rejected 0, skipped 1 non-image file\n");

  r = lfbatch({"enqueue", "--db", db_, "-r", "photos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "added 0, already queued/done/failed 2/0/0 (use --again to re-verify), rejected 0, "
            "skipped 1 non-image file\n");

  r = lfbatch({"enqueue", "--db", db_, "-r", "photos", "--again"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("added 2,"));
  EXPECT_EQ(status_json()["total"], 4);
}

TEST_F(LfbatchEnqueueTest, ListFromStdinIsRead) {
  init();
  RunOptions options;
  options.stdin_text = "http://h.example/1.jpg\nhttp://h.example/2.jpg\n# done\n";
  const auto r = lfbatch({"enqueue", "--db", db_, "--from-file", "-"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(status_json()["total"], 2);
}

TEST_F(LfbatchEnqueueTest, GlobalOptionsWorkBeforeAndAfterTheSubcommand) {
  init();
  auto after = lfbatch({"status", "--json", "--db", db_});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  auto before = lfbatch({"--db", db_, "status", "--json"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(nlohmann::json::parse(after.out), nlohmann::json::parse(before.out));
  RunOptions env;
  env.env["LFBATCH_DB"] = db_;
  auto from_env = lfbatch({"status", "--json"}, env);
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
}

TEST_F(LfbatchEnqueueTest, FlagBeatsEnvironmentBeatsConfigFile) {
  std::ofstream(path("c.json")) << R"({"database": "from_file.db"})";
  RunOptions options;
  auto r = lfbatch({"init", "--config", "c.json"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(path("from_file.db")));
  options.env["LFBATCH_DB"] = path("from_env.db");
  r = lfbatch({"init", "--config", "c.json"}, options);
  EXPECT_THAT(r.out, HasSubstr(path("from_env.db")));
  r = lfbatch({"init", "--config", "c.json", "--db", "from_flag.db"}, options);
  EXPECT_THAT(r.out, HasSubstr(path("from_flag.db")));
}

TEST_F(LfbatchEnqueueTest, StatusOfAMissingDatabaseSaysToInit) {
  const auto r = lfbatch({"status", "--db", "nope.db"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("lfbatch init"));
  EXPECT_FALSE(fs::exists(path("nope.db")));
}

TEST_F(LfbatchEnqueueTest, UsageAndConfigErrorsExitTwo) {
  init();
  auto r = lfbatch({"enqueue", "--db", db_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nothing to enqueue"));
  r = lfbatch({"enqueue", "--db", db_, "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  std::ofstream(path("bad.json")) << R"({"concurency": 4})";
  r = lfbatch({"status", "--db", db_, "--config", "bad.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown key \"concurency\""));
}

TEST_F(LfbatchEnqueueTest, LogJsonWritesOneJsonObjectPerLine) {
  init();
  const auto r = lfbatch({"enqueue", "--db", db_, "--log-json", "a.jpg", "b.jpg"});
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["level"], "warn");
    EXPECT_THAT(j["msg"].get<std::string>(), HasSubstr("no such file"));
    EXPECT_TRUE(j.contains("ts"));
  }
}

TEST_F(LfbatchEnqueueTest, QuietPrintsNoSummaryButStillWarns) {
  init();
  const auto r = lfbatch({"enqueue", "--db", db_, "--quiet", "http://h.example/1.jpg", "nope.jpg"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines_of(r.err).size(), 1u);
}

TEST_F(LfbatchEnqueueTest, FilesTheApiWouldRejectAreQueuedFailedAndNeverSent) {
  init();
  touch("photos/ok.jpg");
  write("photos/notes.jpg", "not an image, whatever the extension says");
  write("photos/wide.png", make_image(ImageFormat::kPng, 4001, 20));
  write("photos/tiny.gif", make_image(ImageFormat::kGif, 8, 100));
  auto r = lfbatch({"enqueue", "--db", db_, "--recursive", "photos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("added 4 (3 failed pre-flight: the API would reject them, so they "
                               "are never sent"));
  const auto status = status_json();
  EXPECT_EQ(status["by_state"]["pending"], 1);
  EXPECT_EQ(status["by_state"]["failed"], 3);
  EXPECT_EQ(status["by_status"]["CORRUPT_IMAGE"], 1);
  EXPECT_EQ(status["by_status"]["INVALID_IMAGE_FORMAT_OR_SIZE"], 2);
  // Each says why, and that it was decided locally.
  r = lfbatch({"report", "--db", db_, "--state", "failed", "--columns",
               "source,api_status,decided_by,reason"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wide.png,INVALID_IMAGE_FORMAT_OR_SIZE,preflight,"));
  EXPECT_THAT(r.out, HasSubstr("4001"));
  EXPECT_THAT(r.out, HasSubstr("decided locally, nothing sent"));
  // A second enqueue counts them as failed, like any other failed job.
  r = lfbatch({"enqueue", "--db", db_, "--recursive", "photos"});
  EXPECT_THAT(r.out, HasSubstr("already queued/done/failed 1/0/3"));
}

TEST_F(LfbatchEnqueueTest, NoPreflightQueuesEveryFileForTheRunnerToJudge) {
  init();
  write("photos/notes.jpg", "not an image");
  const auto r = lfbatch({"enqueue", "--db", db_, "--no-preflight", "-r", "photos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "added 1, already queued/done/failed 0/0/0, rejected 0\n");
  EXPECT_EQ(status_json()["by_state"]["pending"], 1);
}

}  // namespace
}  // namespace lf::e2e
