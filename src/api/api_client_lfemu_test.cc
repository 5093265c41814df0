// End to end: ApiClient against the real lfemu binary on an ephemeral port.
// Skipped (with the reason) when lfemu has not been built in LF_BUILD_DIR.
#include "api/api_client.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "image/synthetic_image.h"

namespace lf {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

std::string lfemu_path() {
  if (const char* explicit_path = std::getenv("LF_LFEMU")) return explicit_path;
  const char* build_dir = std::getenv("LF_BUILD_DIR");
  return build_dir ? std::string(build_dir) + "/src/emulator/lfemu" : "";
}

// A running lfemu, stopped (SIGTERM, then waited for) on destruction.
class Lfemu {
 public:
  explicit Lfemu(const std::vector<std::string>& extra_args) {
    int out[2];
    if (::pipe(out) != 0) return;
    std::vector<std::string> args = {lfemu_path(), "--port", "0", "--account", "test-id:s3cr3t",
                                     "--seed", "7", "--log-level", "warn"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    // The first line says where it listens: "lfemu listening on http://H:P".
    FILE* stream = ::fdopen(out[0], "r");
    char line[512] = {};
    if (stream != nullptr && std::fgets(line, sizeof line, stream) != nullptr) {
      const std::string text(line);
      const auto at = text.find("http://");
      if (at != std::string::npos) {
        base_url_ = text.substr(at);
        while (!base_url_.empty() && (base_url_.back() == '\n' || base_url_.back() == '\r')) {
          base_url_.pop_back();
        }
      }
    }
    stdout_ = stream;
  }
  ~Lfemu() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  const std::string& base_url() const { return base_url_; }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string base_url_;
};

class ApiClientLfemuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (lfemu_path().empty() || !fs::exists(lfemu_path())) {
      GTEST_SKIP() << "lfemu not built at '" << lfemu_path() << "' (build target lfemu)";
    }
    std::string templ = (fs::temp_directory_path() / "lf_api_lfemu_XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<ApiClient> client_for(const Lfemu& lfemu, const std::string& secret = "s3cr3t",
                                        const std::string& path =
                                            "/identity/handhold_idcard_verification") {
    EXPECT_FALSE(lfemu.base_url().empty()) << "lfemu did not say where it listens";
    ClientOptions options;
    options.endpoint = lfemu.base_url() + path;
    options.api_id = "test-id";
    options.api_secret = secret;
    auto client = ApiClient::create(ioc_.get_executor(), options);
    if (!client) {
      ADD_FAILURE() << client.error().message;
      return nullptr;
    }
    return std::move(client.value());
  }

  Job image_job(const std::string& name, const std::string& bytes, JobId id = 1) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    Job job;
    job.id = id;
    job.kind = SourceKind::kPath;
    job.source = path.string();
    return job;
  }

  std::vector<Outcome> run_all(ApiClient& client, const std::vector<Job>& jobs) {
    std::vector<std::future<Outcome>> futures;
    for (const Job& job : jobs) {
      futures.push_back(asio::co_spawn(ioc_, client.verify(job), asio::use_future));
    }
    ioc_.restart();
    ioc_.run();  // nothing else is on this io_context: returns when all are done
    std::vector<Outcome> outcomes;
    for (auto& f : futures) outcomes.push_back(f.get());
    return outcomes;
  }

  asio::io_context ioc_;
  fs::path dir_;
};

TEST_F(ApiClientLfemuTest, UploadedPhotoGetsLfemusVerdict) {
  Lfemu lfemu({});
  auto client = client_for(lfemu);
  ASSERT_TRUE(client);
  const Job job = image_job("a.png", make_image(ImageFormat::kPng, 64, 48, "LFEMU:score=0.8312"));
  const Outcome outcome = run_all(*client, {job}).front();
  ASSERT_TRUE(outcome.answer.has_value()) << outcome.failure_detail;
  EXPECT_EQ(outcome.answer->status, ApiStatus::kOk);
  EXPECT_EQ(outcome.answer->http_status, 200);
  ASSERT_TRUE(outcome.answer->verify_score.has_value());
  EXPECT_NEAR(*outcome.answer->verify_score, 0.8312, 1e-9);
  EXPECT_FALSE(outcome.answer->request_id.empty());
  EXPECT_FALSE(outcome.answer->image_id.empty());
}

TEST_F(ApiClientLfemuTest, OneFaceIsFaceDetectionFailedWithReason) {
  Lfemu lfemu({});
  auto client = client_for(lfemu);
  ASSERT_TRUE(client);
  const Job job = image_job("one.jpg", make_image(ImageFormat::kJpeg, 64, 64, "LFEMU:faces=1"));
  const Outcome outcome = run_all(*client, {job}).front();
  ASSERT_TRUE(outcome.answer.has_value()) << outcome.failure_detail;
  EXPECT_EQ(outcome.answer->status, ApiStatus::kFaceDetectionFailed);
  EXPECT_EQ(outcome.answer->http_status, 400);
  EXPECT_EQ(outcome.answer->reason, "no two faces detected");
}

TEST_F(ApiClientLfemuTest, WrongSecretIsUnauthorized) {
  Lfemu lfemu({});
  auto client = client_for(lfemu, "wrong");
  ASSERT_TRUE(client);
  const Job job = image_job("a.png", make_image(ImageFormat::kPng, 32, 32));
  const Outcome outcome = run_all(*client, {job}).front();
  ASSERT_TRUE(outcome.answer.has_value()) << outcome.failure_detail;
  EXPECT_EQ(outcome.answer->status, ApiStatus::kUnauthorized);
  EXPECT_EQ(outcome.answer->http_status, 401);
  EXPECT_EQ(outcome.disposition(), Disposition::kAbortCredentials);
}

TEST_F(ApiClientLfemuTest, WrongPathIsNotFound) {
  Lfemu lfemu({});
  auto client = client_for(lfemu, "s3cr3t", "/identity/no_such_api");
  ASSERT_TRUE(client);
  const Job job = image_job("a.png", make_image(ImageFormat::kPng, 32, 32));
  const Outcome outcome = run_all(*client, {job}).front();
  ASSERT_TRUE(outcome.answer.has_value()) << outcome.failure_detail;
  EXPECT_EQ(outcome.answer->status, ApiStatus::kNotFound);
  EXPECT_EQ(outcome.disposition(), Disposition::kAbortConfiguration);
}

TEST_F(ApiClientLfemuTest, FileIdOfAnEarlierUploadIsAccepted) {
  Lfemu lfemu({});
  auto client = client_for(lfemu);
  ASSERT_TRUE(client);
  const Job upload = image_job("a.png", make_image(ImageFormat::kPng, 64, 64, "LFEMU:score=0.9"));
  const Outcome first = run_all(*client, {upload}).front();
  ASSERT_TRUE(first.answer.has_value()) << first.failure_detail;
  ASSERT_FALSE(first.answer->image_id.empty());
  Job by_id;
  by_id.id = 2;
  by_id.kind = SourceKind::kFileId;
  by_id.source = first.answer->image_id;
  const Outcome second = run_all(*client, {by_id}).front();
  ASSERT_TRUE(second.answer.has_value()) << second.failure_detail;
  EXPECT_EQ(second.answer->status, ApiStatus::kOk);
  Job unknown = by_id;
  unknown.source = "0123456789abcdef0123456789abcdef";
  const Outcome third = run_all(*client, {unknown}).front();
  ASSERT_TRUE(third.answer.has_value()) << third.failure_detail;
  EXPECT_EQ(third.answer->status, ApiStatus::kImageIdNotExist);
}

TEST_F(ApiClientLfemuTest, ManyConcurrentUploadsAllAnswered) {
  Lfemu lfemu({});
  auto client = client_for(lfemu);
  ASSERT_TRUE(client);
  std::vector<Job> jobs;
  for (int i = 0; i < 64; ++i) {
    jobs.push_back(image_job("p" + std::to_string(i) + ".jpg",
                             make_image(ImageFormat::kJpeg, 64, 64,
                                        "LFEMU:score=0.75 id=" + std::to_string(i), 200'000),
                             i + 1));
  }
  int ok = 0;
  for (const Outcome& o : run_all(*client, jobs)) {
    if (o.answer && o.answer->status == ApiStatus::kOk) ++ok;
    else ADD_FAILURE() << (o.answer ? std::string(to_string(o.answer->status)) : o.failure_detail);
  }
  EXPECT_EQ(ok, 64);
}

TEST_F(ApiClientLfemuTest, InjectedFaultsBecomeTransportFailures) {
  Lfemu lfemu({"--bad-json-rate", "1"});
  auto client = client_for(lfemu);
  ASSERT_TRUE(client);
  const Job job = image_job("a.png", make_image(ImageFormat::kPng, 32, 32));
  const Outcome outcome = run_all(*client, {job}).front();
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(*outcome.failure, TransportFailure::kMalformedResponse) << outcome.failure_detail;

  Lfemu resetting({"--reset-rate", "1"});
  auto reset_client = client_for(resetting);
  ASSERT_TRUE(reset_client);
  const Outcome reset = run_all(*reset_client, {job}).front();
  ASSERT_TRUE(reset.failure.has_value());
  EXPECT_EQ(*reset.failure, TransportFailure::kConnectionLost) << reset.failure_detail;
}

}  // namespace
}  // namespace lf
