// lfbatch doctor and the run's metrics file end to end: the real lfbatch
// against a real lfemu over loopback sockets (and, for TLS, a throwaway
// `openssl s_server` with a self-signed certificate made in a temp dir).
// Asserts what an operator sees: exit codes, one line per check naming the
// fix, that the doctor's probe was not billed, and the metrics file.
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lfbatch_harness.h"
#include "lfemu_harness.h"

extern char** environ;

namespace lf::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kApiPath = "/identity/handhold_idcard_verification";

// A loopback port nobody listens on (bound, then closed).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The line of `out` for `check` ("ok   api ..."), or "" if none.
std::string line_of(const std::string& out, const std::string& check) {
  for (const auto& line : lines_of(out)) {
    if (line.size() > 5 && line.compare(5, check.size() + 1, check + " ") == 0) return line;
  }
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

class OpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lfemu_ = new LfemuProcess({"--account", "demo:demo-secret", "--call-log", "100", "--log-level", "warn"});
    ASSERT_TRUE(lfemu_->started()) << "lfemu did not start: " << lfemu_binary();
  }
  static void TearDownTestSuite() {
    delete lfemu_;
    lfemu_ = nullptr;
  }
  void SetUp() override { db_ = dir_.path() + "/q.db"; }

  std::string endpoint(std::uint16_t port, const char* path = kApiPath) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  // A config with `extra` JSON members added (",\"key\": value" each).
  std::string config(const std::string& endpoint_url, const std::string& extra = "") const {
    return dir_.write("lfbatch.json", "{\"endpoint\": \"" + endpoint_url + "\", \"database\": \"" + db_ +
                                          "\"" + extra + "}");
  }
  std::string secrets(mode_t mode) const {
    const std::string path = dir_.write("secrets.json", R"({"api_id": "demo", "api_secret": "demo-secret"})");
    ::chmod(path.c_str(), mode);
    return path;
  }
  void init() {
    const auto r = run_lfbatch({"init", "--db", db_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ProcessResult doctor(const std::string& config_path, std::map<std::string, std::string> env = {}) {
    RunOptions o;
    o.env = std::move(env);
    o.cwd = dir_.path();
    o.timeout = std::chrono::seconds(60);
    return run_lfbatch({"doctor", "--config", config_path, "--min-free-mb", "1"}, o);
  }

  static LfemuProcess* lfemu_;
  TempDir dir_;
  std::string db_;
};

LfemuProcess* OpsTest::lfemu_ = nullptr;

TEST_F(OpsTest, DoctorPassesWhenEverythingIsInPlaceAndItsProbeIsNotBilled) {
  init();
  const auto cfg = config(endpoint(lfemu_->port()), ",\"secrets_file\": \"" + secrets(0600) + "\"");
  const auto since = http_request(lfemu_->port(), "GET", "/_admin/calls").headers["x-calls-last-seq"];
  const auto r = doctor(cfg);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(line_of(r.out, "config"), StartsWith("ok "));
  EXPECT_THAT(line_of(r.out, "credentials"), HasSubstr("mode 0600"));
  EXPECT_THAT(line_of(r.out, "database"), HasSubstr("schema version"));
  EXPECT_THAT(line_of(r.out, "connect"), StartsWith("ok "));
  EXPECT_THAT(line_of(r.out, "tls"), StartsWith("warn"));  // http:// on loopback
  EXPECT_THAT(line_of(r.out, "api"), HasSubstr("HTTP 400 INVALID_ARGUMENT"));
  EXPECT_THAT(line_of(r.out, "disk"), StartsWith("ok "));

  // lfemu saw one call from the doctor: no account, not billed.
  const auto calls = http_request(lfemu_->port(), "GET", "/_admin/calls?since=" + (since.empty() ? "0" : since));
  ASSERT_EQ(calls.status, 200);
  const auto lines = lines_of(calls.body);
  ASSERT_EQ(lines.size(), 1u) << calls.body;
  const auto call = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(call["billed"], false) << lines[0];
  EXPECT_TRUE(call["account"].is_null()) << lines[0];
}

TEST_F(OpsTest, DoctorFailsWithoutCredentialsAndSaysWhichVariables) {
  init();
  const auto r = doctor(config(endpoint(lfemu_->port())));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto line = line_of(r.out, "credentials");
  EXPECT_THAT(line, StartsWith("FAIL"));
  EXPECT_THAT(line, HasSubstr("fix: set LINKFACE_API_ID and LINKFACE_API_SECRET"));
}

TEST_F(OpsTest, DoctorPassesWithCredentialsFromTheEnvironment) {
  init();
  const auto r = doctor(config(endpoint(lfemu_->port())),
                        {{"LINKFACE_API_ID", "demo"}, {"LINKFACE_API_SECRET", "demo-secret"}});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(line_of(r.out, "credentials"), HasSubstr("from LINKFACE_API_ID"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("demo-secret")));
}

TEST_F(OpsTest, DoctorRefusesAWorldReadableSecretsFileAndNamesChmod) {
  init();
  const auto r = doctor(config(endpoint(lfemu_->port()), ",\"secrets_file\": \"" + secrets(0644) + "\""));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto line = line_of(r.out, "credentials");
  EXPECT_THAT(line, StartsWith("FAIL"));
  EXPECT_THAT(line, HasSubstr("mode 0644"));
  EXPECT_THAT(line, HasSubstr("fix: chmod 600 " + dir_.path() + "/secrets.json"));
}

TEST_F(OpsTest, DoctorFailsOnAMissingDatabaseAndNamesInit) {
  const auto r = doctor(config(endpoint(lfemu_->port()), ",\"secrets_file\": \"" + secrets(0600) + "\""));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto line = line_of(r.out, "database");
  EXPECT_THAT(line, StartsWith("FAIL"));
  EXPECT_THAT(line, HasSubstr("fix: run `lfbatch init --db " + db_));
  EXPECT_FALSE(fs::exists(db_)) << "doctor must not create the database";
}

TEST_F(OpsTest, DoctorFailsOnARefusedEndpoint) {
  init();
  const auto r = doctor(config(endpoint(closed_port()), ",\"secrets_file\": \"" + secrets(0600) + "\""));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto line = line_of(r.out, "connect");
  EXPECT_THAT(line, StartsWith("FAIL"));
  EXPECT_THAT(line, HasSubstr("refused"));
  EXPECT_THAT(line, HasSubstr("fix: check the host and port"));
}

TEST_F(OpsTest, DoctorFailsOnAWrongApiPath) {
  init();
  const auto r = doctor(config(endpoint(lfemu_->port(), "/wrong/path"), ",\"secrets_file\": \"" + secrets(0600) + "\""));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto line = line_of(r.out, "api");
  EXPECT_THAT(line, StartsWith("FAIL"));
  EXPECT_THAT(line, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(line, HasSubstr("fix: the endpoint must be the API's full URL"));
}

TEST_F(OpsTest, DoctorFailsOnABadConfigAndSkipsTheRest) {
  const auto r = doctor(dir_.write("bad.json", R"({"endpoint": "http://x/", "concurrence": 3})"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(line_of(r.out, "config"), HasSubstr("unknown key \"concurrence\""));
  EXPECT_THAT(line_of(r.out, "others"), StartsWith("skip"));
}

// `openssl s_server` on a loopback port with a self-signed certificate for
// 127.0.0.1 (made in `dir`); killed on destruction.
class TlsServer {
 public:
  explicit TlsServer(const std::string& dir) : cert_(dir + "/cert.pem") {
    const std::string key = dir + "/key.pem";
    const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                             "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert_ +
                             " >/dev/null 2>&1";
    if (std::system(make.c_str()) != 0) return;
    port_ = closed_port();
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {"openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:" + port,
                                     "-cert", cert_, "-key", key};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 100 && pid_ > 0; ++i) {  // until it listens
      HttpConnection probe(port_);
      if (probe.connected()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    port_ = 0;
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  const std::string& cert() const { return cert_; }

 private:
  std::string cert_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

TEST_F(OpsTest, DoctorVerifiesTheTlsCertificateAgainstCaFile) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  init();
  TlsServer server(dir_.path());
  ASSERT_TRUE(server.started()) << "openssl s_server did not start";
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + kApiPath;
  const std::string creds = ",\"secrets_file\": \"" + secrets(0600) + "\"";

  // Self-signed and not trusted: the handshake fails, and the fix names ca_file.
  auto r = doctor(config(url, creds));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(line_of(r.out, "tls"), StartsWith("FAIL"));
  EXPECT_THAT(line_of(r.out, "tls"), HasSubstr("certificate verification"));
  EXPECT_THAT(line_of(r.out, "tls"), HasSubstr("ca_file"));

  // Trusted through ca_file: verified, and s_server -www answers the GET.
  r = doctor(config(url, creds + ",\"ca_file\": \"" + server.cert() + "\""));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(line_of(r.out, "tls"), HasSubstr("verified"));
  EXPECT_THAT(line_of(r.out, "api"), HasSubstr("HTTP 200"));
}

TEST_F(OpsTest, RunThatCannotStartStillWritesItsExitCodeToTheMetricsFile) {
  init();
  const std::string metrics = dir_.path() + "/lfbatch.prom";
  RunOptions o;
  o.cwd = dir_.path();
  const auto r = run_lfbatch({"run", "--config", config(endpoint(lfemu_->port())), "--metrics-file", metrics}, o);
  EXPECT_EQ(r.exit_code, 78) << r.err;  // no credentials
  const std::string text = read_file(metrics);
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_exit_code 78\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_ended{how=\"not_started\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_jobs{state=\"pending\"} 0\n"));
  EXPECT_FALSE(fs::exists(metrics + ".tmp"));
}

TEST_F(OpsTest, RunWritesTheMetricsFileNamedInTheConfig) {
  init();
  const std::string metrics = dir_.path() + "/from-config.prom";
  RunOptions o;
  o.cwd = dir_.path();
  o.env = {{"LINKFACE_API_ID", "demo"}, {"LINKFACE_API_SECRET", "demo-secret"}};
  const auto cfg = config(endpoint(lfemu_->port()), ",\"metrics_file\": \"from-config.prom\"");
  const auto r = run_lfbatch({"run", "--config", cfg, "--progress", "none", "--json"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(metrics);
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_exit_code 0\n"));
  EXPECT_THAT(text, HasSubstr("lfbatch_last_run_ended{how=\"completed\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("lfbatch_last_success_timestamp_seconds 0\n")));
}

}  // namespace
}  // namespace lf::e2e
