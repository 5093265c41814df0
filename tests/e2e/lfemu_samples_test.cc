// The spec's cURL and HTTPie samples, unchanged but for host and file, run
// against lfemu and get status OK.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "image/synthetic_image.h"
#include "lfemu_harness.h"

namespace lf::e2e {
namespace {

// Runs `command` with sh, returning its stdout (ANSI colour codes removed).
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return std::regex_replace(out, std::regex("\x1b\\[[0-9;]*m"), "");
}

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// The JSON object at the end of `out` (HTTPie on a terminal prints headers first).
nlohmann::json last_json(const std::string& out) {
  auto brace = out.find('{');
  if (brace == std::string::npos) return nullptr;
  return nlohmann::json::parse(out.substr(brace), nullptr, false);
}

class SpecSamples : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = dir_.write("IMAGE.jpg", make_image(ImageFormat::kJpeg, 400, 300));
    ASSERT_TRUE(lfemu_.started()) << lfemu_.listening_line();
    host_ = "http://127.0.0.1:" + std::to_string(lfemu_.port());
  }
  TempDir dir_;
  LfemuProcess lfemu_{{"--account", "ID:SECRET"}};
  std::string image_;
  std::string host_;
};

TEST_F(SpecSamples, CurlSampleGetsOk) {
  if (!on_path("curl")) GTEST_SKIP() << "curl is not installed (scripts/setup.sh installs it)";
  // The spec: curl -X POST "https://cloudapi.linkface.cn/identity/handhold_idcard_verification?api_id=ID&api_secret=SECRET" -F file=@/PATH/TO/IMAGE
  std::string out = run("curl -s -X POST \"" + host_ +
                        "/identity/handhold_idcard_verification?api_id=ID&api_secret=SECRET\" "
                        "-F file=@" + image_);
  auto j = last_json(out);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_EQ(j["status"], "OK") << out;
  EXPECT_TRUE(j["verify_score"].is_number());
}

TEST_F(SpecSamples, HttpieSampleGetsOk) {
  if (!on_path("http")) GTEST_SKIP() << "HTTPie is not installed (scripts/setup.sh installs it)";
  if (!on_path("script")) GTEST_SKIP() << "script(1) is needed to give HTTPie a terminal";
  // The spec: http -f POST "https://cloudapi.linkface.cn/identity/handhold_idcard_verification?api_id=ID&api_secret=SECRET" file@/PATH/TO/IMAGE
  // HTTPie reads stdin when it is not a terminal, so the sample runs, as a
  // user would type it, on a pseudo-terminal made by script(1).
  std::string sample = "http -f POST \"" + host_ +
                       "/identity/handhold_idcard_verification?api_id=ID&api_secret=SECRET\" "
                       "file@" + image_;
  std::string quoted;
  for (char c : sample) {
    if (c == '\'') quoted += "'\\''"; else quoted += c;
  }
  std::string out = run("script -qec '" + quoted + "' /dev/null </dev/null");
  auto j = last_json(out);
  ASSERT_TRUE(j.is_object()) << out;
  EXPECT_EQ(j["status"], "OK") << out;
  EXPECT_TRUE(j["verify_score"].is_number());
}

}  // namespace
}  // namespace lf::e2e
