// lfemu end to end: the real binary on an ephemeral port, spoken to over real
// sockets. Every row of the spec's error table, file_id and file_url round
// trips, SDK-style multipart, limits of the server, injected faults, the
// admin endpoint, and a clean stop.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/api_status.h"
#include "image/synthetic_image.h"
#include "lfemu_harness.h"

namespace lf::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kApi = "/identity/handhold_idcard_verification";

// Accounts for every row of the table; the config also checks the file format.
const char* const kConfig = R"({
  "server": {"header_timeout_ms": 1500, "body_timeout_ms": 5000},
  "service": {"seed": 7, "download_timeout_ms": 700},
  "accounts": [
    {"api_id": "ok", "api_secret": "ok-secret"},
    {"api_id": "expired", "api_secret": "e", "expires_at": "2021-06-01T00:00:00Z"},
    {"api_id": "noperm", "api_secret": "n", "permission": false},
    {"api_id": "limited", "api_secret": "l", "rps": 0.5, "burst": 1},
    {"api_id": "quota", "api_secret": "q", "quota": 1},
    {"api_id": "failing", "api_secret": "f", "fail_rate": 1.0},
    {"api_id": "resets", "api_secret": "r", "reset_rate": 1.0},
    {"api_id": "stalls", "api_secret": "s", "stall_rate": 1.0, "stall_ms": 400},
    {"api_id": "truncates", "api_secret": "t", "truncate_rate": 1.0},
    {"api_id": "badjson", "api_secret": "b", "bad_json_rate": 1.0},
    {"api_id": "slow", "api_secret": "w", "latency_ms": 300}
  ]
})";

class Lfemu : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string config = dir_->write("lfemu.json", kConfig);
    lfemu_ = new LfemuProcess({"--config", config, "--threads", "2", "--log-level", "warn"});
    files_ = new FileServer();
  }
  static void TearDownTestSuite() {
    delete lfemu_;
    delete files_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(lfemu_->started()) << "lfemu did not print its listening line; got \""
                                   << lfemu_->listening_line() << "\" from " << lfemu_binary();
  }

  static std::uint16_t port() { return lfemu_->port(); }

  // POST with credentials in the form, as the SDK samples send them.
  static HttpReply post(std::vector<FormField> fields, const std::string& target = kApi) {
    std::string content_type;
    std::string body = multipart_body(fields, &content_type);
    return http_request(port(), "POST", target, content_type, body);
  }
  static HttpReply upload(const std::string& id, const std::string& secret,
                          const std::string& image, const std::string& filename = "photo.jpg") {
    return post({{"api_id", id, {}, {}},
                 {"api_secret", secret, {}, {}},
                 {"file", image, filename, "image/jpeg"}});
  }
  static json body_of(const HttpReply& r) {
    return json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }
  static json stats() { return body_of(http_request(port(), "GET", "/_admin/stats")); }

  static TempDir* dir_;
  static LfemuProcess* lfemu_;
  static FileServer* files_;
};

TempDir* Lfemu::dir_ = nullptr;
LfemuProcess* Lfemu::lfemu_ = nullptr;
FileServer* Lfemu::files_ = nullptr;

std::string jpeg(const std::string& marker = {}) {
  return make_image(ImageFormat::kJpeg, 320, 240, marker);
}

bool is_hex32(const json& v) {
  if (!v.is_string()) return false;
  std::string s = v;
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// One row of the spec's table: a request that must get `status`, with the
// reason and image the spec says come with it.
struct Row {
  ApiStatus status;
  std::function<HttpReply()> send;
  std::optional<std::string> reason;  // exact, when given
  std::optional<std::string> image;   // exact, when given
  bool reason_present = false;        // a non-empty reason, wording free
};

TEST_F(Lfemu, PrintsExactlyTheListeningLine) {
  EXPECT_EQ(lfemu_->listening_line(),
            "lfemu listening on http://127.0.0.1:" + std::to_string(port()));
}

TEST_F(Lfemu, ReproducesEveryRowOfTheSpecsErrorTable) {
  files_->serve("/gone.jpg", 404, "nope");
  files_->hang("/hang.jpg");
  std::string ct;
  std::vector<Row> rows = {
      {ApiStatus::kOk, [] { return upload("ok", "ok-secret", jpeg()); }, {}, {}},
      {ApiStatus::kFaceDetectionFailed,
       [] { return upload("ok", "ok-secret", jpeg("LFEMU:faces=0")); }, "no face detected", {}},
      {ApiStatus::kFaceDetectionFailed,
       [] { return upload("ok", "ok-secret", jpeg("LFEMU:faces=1")); }, "no two faces detected",
       {}},
      {ApiStatus::kFaceDetectionFailed,
       [] { return upload("ok", "ok-secret", jpeg("LFEMU:faces=3")); }, "too many faces", {}},
      {ApiStatus::kEncodingError,
       [] { return upload("ok\xc3\x28", "ok-secret", jpeg()); }, {}, {}},
      {ApiStatus::kDownloadTimeout,
       [] {
         return post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                      {"file_url", files_->url("/hang.jpg"), {}, {}}});
       },
       {}, files_->url("/hang.jpg")},
      {ApiStatus::kDownloadError,
       [] {
         return post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                      {"file_url", files_->url("/gone.jpg"), {}, {}}});
       },
       {}, files_->url("/gone.jpg")},
      {ApiStatus::kImageFileSizeTooBig,
       [] {
         return upload("ok", "ok-secret",
                       make_image(ImageFormat::kJpeg, 100, 100, {}, 5 * 1024 * 1024 + 10),
                       "big.jpg");
       },
       {}, "big.jpg"},
      {ApiStatus::kImageIdNotExist,
       [] {
         return post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                      {"file_id", "00000000000000000000000000000000", {}, {}}});
       },
       {}, "00000000000000000000000000000000"},
      {ApiStatus::kCorruptImage,
       [] { return upload("ok", "ok-secret", make_corrupt(ImageFormat::kPng, 64, 64), "bad.png"); },
       {}, "bad.png"},
      {ApiStatus::kInvalidImageFormatOrSize,
       [] {
         return upload("ok", "ok-secret", make_image(ImageFormat::kPng, 4001, 20), "wide.png");
       },
       {}, "wide.png"},
      {ApiStatus::kInvalidArgument,
       [] { return post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}}}); },
       "one of file, file_url or file_id is required", {}},
      {ApiStatus::kUnauthorized, [] { return upload("ok", "wrong", jpeg()); }, {}, {}},
      {ApiStatus::kKeyExpired, [] { return upload("expired", "e", jpeg()); },
       "api_id expired expired at 2021-06-01T00:00:00Z", {}},
      {ApiStatus::kRateLimitExceeded,
       [] {
         (void)upload("limited", "l", jpeg());
         return upload("limited", "l", jpeg());
       },
       {}, {}},
      {ApiStatus::kNoPermission, [] { return upload("noperm", "n", jpeg()); }, {}, {}},
      {ApiStatus::kOutOfQuota,
       [] {
         (void)upload("quota", "q", jpeg());
         return upload("quota", "q", jpeg());
       },
       {}, {}},
      {ApiStatus::kNotFound,
       [] { return post({{"api_id", "ok", {}, {}}}, "/identity/idcard_verification"); }, {}, {}},
      {ApiStatus::kInternalError, [] { return upload("failing", "f", jpeg()); }, {}, {}},
  };

  std::set<ApiStatus> seen;
  for (const Row& row : rows) {
    std::string name(to_string(row.status));
    HttpReply r = row.send();
    ASSERT_TRUE(r.ok) << name << ": " << r.error;
    EXPECT_EQ(r.status, http_status_of(row.status)) << name;
    EXPECT_EQ(r.headers["content-type"], "application/json") << name;
    json j = body_of(r);
    ASSERT_TRUE(j.is_object()) << name << ": " << r.body;
    EXPECT_EQ(j.value("status", ""), name) << r.body;
    std::string rid = j.value("request_id", "");
    EXPECT_EQ(rid.size(), 35u) << name;
    EXPECT_EQ(rid.rfind("TID", 0), 0u) << name;
    if (row.reason) {
      EXPECT_EQ(j.value("reason", ""), *row.reason) << name;
    }
    if (row.image) {
      EXPECT_EQ(j.value("image", ""), *row.image) << name;
    }
    if (row.status == ApiStatus::kOk) {
      EXPECT_TRUE(j["verify_score"].is_number()) << r.body;
      EXPECT_GE(j["verify_score"].get<double>(), 0.0);
      EXPECT_LE(j["verify_score"].get<double>(), 1.0);
      EXPECT_TRUE(is_hex32(j["image_id"])) << r.body;
    } else {
      EXPECT_FALSE(j.contains("verify_score")) << name;
    }
    seen.insert(row.status);
  }
  for (ApiStatus s : kAllApiStatuses) {
    EXPECT_TRUE(seen.contains(s)) << to_string(s) << " was not reproduced";
  }
}

TEST_F(Lfemu, FileIdFindsAnEarlierUploadWithTheSameScore) {
  HttpReply first = upload("ok", "ok-secret", jpeg("LFEMU:score=0.8123"));
  ASSERT_TRUE(first.ok);
  json j = body_of(first);
  ASSERT_EQ(j["status"], "OK");
  EXPECT_DOUBLE_EQ(j["verify_score"].get<double>(), 0.8123);
  HttpReply again = post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                          {"file_id", j["image_id"].get<std::string>(), {}, {}}});
  json k = body_of(again);
  EXPECT_EQ(k["status"], "OK") << again.body;
  EXPECT_DOUBLE_EQ(k["verify_score"].get<double>(), 0.8123);
}

TEST_F(Lfemu, FileUrlIsDownloadedFromALoopbackServer) {
  files_->serve("/face.jpg", 200, jpeg("LFEMU:score=0.66"));
  int before = files_->requests();
  HttpReply r = post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                      {"file_url", files_->url("/face.jpg"), {}, {}},
                      {"auto_rotate", "true", {}, {}}});
  json j = body_of(r);
  EXPECT_EQ(j["status"], "OK") << r.body;
  EXPECT_DOUBLE_EQ(j["verify_score"].get<double>(), 0.66);
  EXPECT_TRUE(is_hex32(j["image_id"]));
  EXPECT_EQ(files_->requests(), before + 1);
}

TEST_F(Lfemu, FileUrlOnANonLoopbackHostIsRefusedWithoutFetching) {
  HttpReply r = post({{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
                      {"file_url", "http://198.51.100.7/face.jpg", {}, {}}});
  json j = body_of(r);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(j["status"], "DOWNLOAD_ERROR");
  EXPECT_EQ(j["image"], "http://198.51.100.7/face.jpg");
  EXPECT_NE(j.value("reason", "").find("loopback"), std::string::npos);
}

TEST_F(Lfemu, CredentialsInTheQueryStringAndAnSdkStyleBody) {
  // LinkFace's mobile SDK: text/plain parts with charset and Content-Length,
  // the file part's filename "file", lower-case header names.
  std::string image = jpeg();
  std::string body =
      "--sdkBoundary\r\ncontent-disposition: form-data; name=\"auto_rotate\"\r\n"
      "content-type: text/plain; charset=UTF-8\r\ncontent-length: 4\r\n\r\ntrue\r\n"
      "--sdkBoundary\r\ncontent-disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
      "content-type: application/octet-stream\r\ncontent-length: " +
      std::to_string(image.size()) + "\r\n\r\n" + image + "\r\n--sdkBoundary--\r\n";
  HttpReply r = http_request(port(), "POST", kApi + "?api_id=ok&api_secret=ok-secret",
                             "multipart/form-data; boundary=sdkBoundary", body);
  EXPECT_EQ(body_of(r)["status"], "OK") << r.body;
}

TEST_F(Lfemu, MalformedMultipartIsInvalidArgumentWithAReason) {
  HttpReply r = http_request(port(), "POST", kApi + "?api_id=ok&api_secret=ok-secret",
                             "multipart/form-data; boundary=abc", "--abc\r\nno end here");
  json j = body_of(r);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(j["status"], "INVALID_ARGUMENT");
  EXPECT_FALSE(j.value("reason", "").empty());
}

TEST_F(Lfemu, KeepsTheConnectionAliveAcrossRequests) {
  HttpConnection c(port());
  for (int i = 0; i < 5; ++i) {
    std::string ct;
    std::string body = multipart_body({{"api_id", "ok", {}, {}},
                                       {"api_secret", "ok-secret", {}, {}},
                                       {"file", jpeg(), "a.jpg", {}}},
                                      &ct);
    HttpReply r = c.request("POST", kApi, ct, body);
    ASSERT_TRUE(r.ok) << "request " << i << ": " << r.error;
    EXPECT_EQ(body_of(r)["status"], "OK");
  }
}

TEST_F(Lfemu, BodyOverTheLimitIsAnsweredNamingTheFile) {
  std::string ct;
  std::string body = multipart_body(
      {{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}},
       {"file", std::string(7 * 1024 * 1024, 'x'), "huge.jpg", "image/jpeg"}},
      &ct);
  HttpConnection c(port());
  HttpReply r = c.request("POST", kApi, ct, body, 20s);
  ASSERT_TRUE(r.ok) << r.error;
  json j = body_of(r);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(j["status"], "IMAGE_FILE_SIZE_TOO_BIG");
  EXPECT_EQ(j["image"], "huge.jpg");
  // The body was drained: the connection still works.
  HttpReply next = c.request("GET", "/_admin/stats", "", "");
  EXPECT_TRUE(next.ok) << next.error;
}

TEST_F(Lfemu, NotHttpIsAnsweredInvalidArgumentAndClosed) {
  HttpConnection c(port());
  ASSERT_TRUE(c.send("HELLO THERE\x01\x02\r\n\r\n"));
  HttpReply r = c.read_reply(5s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_of(r)["status"], "INVALID_ARGUMENT");
  EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST_F(Lfemu, SilentClientIsDisconnectedAfterTheHeaderTimeout) {
  HttpConnection c(port());
  ASSERT_TRUE(c.send("POST " + kApi + " HTTP/1.1\r\nHost: x\r\n"));  // never finishes
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer(6s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(Lfemu, ResetFaultClosesWithoutAnAnswer) {
  HttpReply r = upload("resets", "r", jpeg());
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.error == "reset" || r.error == "closed") << r.error;
  EXPECT_EQ(r.bytes_received, 0u);
}

TEST_F(Lfemu, StallFaultSendsHeadersThenNothing) {
  std::string ct;
  std::string body = multipart_body(
      {{"api_id", "stalls", {}, {}}, {"api_secret", "s", {}, {}}, {"file", jpeg(), "a.jpg", {}}},
      &ct);
  HttpConnection c(port());
  HttpReply r = c.request("POST", kApi, ct, body, 5s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 200);  // the headers came
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.error, "truncated") << "closed after stall_ms";
}

TEST_F(Lfemu, TruncateFaultCutsTheBodyShort) {
  HttpReply r = upload("truncates", "t", jpeg());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "truncated");
  ASSERT_TRUE(r.headers.contains("content-length"));
  EXPECT_LT(r.body.size(), std::stoul(r.headers["content-length"]));
  EXPECT_FALSE(r.body.empty());
}

TEST_F(Lfemu, BadJsonFaultAnswers200WithAnHtmlPage) {
  HttpReply r = upload("badjson", "b", jpeg());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(json::accept(r.body));
}

TEST_F(Lfemu, LatencyFaultDelaysTheAnswer) {
  auto start = std::chrono::steady_clock::now();
  HttpReply r = upload("slow", "w", jpeg());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(body_of(r)["status"], "OK");
}

TEST_F(Lfemu, AdminChangesFaultsAtRunTimeAndCountsRequests) {
  json before = stats();
  ASSERT_TRUE(before.is_object());
  HttpReply set = http_request(port(), "POST", "/_admin/config", "application/json",
                               R"({"accounts": {"ok2": {"api_secret": "x", "fail_rate": 1}}})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body_of(upload("ok2", "x", jpeg()))["status"], "INTERNAL_ERROR");
  http_request(port(), "POST", "/_admin/config", "application/json",
               R"({"accounts": {"ok2": {"fail_rate": 0}}})");
  EXPECT_EQ(body_of(upload("ok2", "x", jpeg()))["status"], "OK");
  json after = stats();
  EXPECT_EQ(after["by_account"]["ok2"]["INTERNAL_ERROR"], 1);
  EXPECT_EQ(after["by_account"]["ok2"]["OK"], 1);
  EXPECT_GE(after["requests_total"].get<int>(), before["requests_total"].get<int>() + 2);
  EXPECT_GE(after["peak_rps"].get<int>(), 1);
  EXPECT_GE(after["uploads"]["stored"].get<int>(), 1);
  // The slot is freed just after the answer is written: give it a moment.
  for (int i = 0; i < 100 && stats()["in_flight"] != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(stats()["in_flight"], 0);

  HttpReply bad = http_request(port(), "POST", "/_admin/config", "application/json",
                               R"({"defaults": {"fail_rat": 1}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("fail_rat"), std::string::npos);
}

TEST_F(Lfemu, AdminResetQuotaLetsAnAccountGoOn) {
  HttpReply set = http_request(port(), "POST", "/_admin/config", "application/json",
                               R"({"accounts": {"q2": {"api_secret": "x", "quota": 1}}})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body_of(upload("q2", "x", jpeg()))["status"], "OK");
  EXPECT_EQ(body_of(upload("q2", "x", jpeg()))["status"], "OUT_OF_QUOTA");
  HttpReply reset = http_request(port(), "POST", "/_admin/reset-quota", "application/json",
                                 R"({"account": "q2"})");
  EXPECT_EQ(reset.status, 200);
  EXPECT_EQ(body_of(upload("q2", "x", jpeg()))["status"], "OK");
}

TEST_F(Lfemu, ServesTwoThousandConcurrentConnections) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  const int n = limit.rlim_cur >= 4500 ? 2000 : static_cast<int>(limit.rlim_cur / 2 - 100);
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<HttpConnection>(port()));
    ASSERT_TRUE(conns.back()->connected()) << "connection " << i;
  }
  std::string ct;
  std::string body = multipart_body(
      {{"api_id", "ok", {}, {}}, {"api_secret", "ok-secret", {}, {}}, {"file", jpeg(), "a", {}}},
      &ct);
  std::string req = "POST " + kApi + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (auto& c : conns) ASSERT_TRUE(c->send(req));
  int ok = 0;
  for (auto& c : conns) {
    HttpReply r = c->read_reply(30s);
    if (r.ok && body_of(r)["status"] == "OK") ++ok;
  }
  EXPECT_EQ(ok, n);
}

TEST(LfemuProcessTest, StopsCleanlyOnSigterm) {
  LfemuProcess p({"--account", "a:b"});
  ASSERT_TRUE(p.started()) << p.listening_line();
  EXPECT_EQ(http_request(p.port(), "GET", "/_admin/stats").status, 200);
  EXPECT_EQ(p.stop(), 0);
}

TEST(LfemuProcessTest, RefusesABadConfigNamingTheKey) {
  TempDir dir;
  std::string config = dir.write("bad.json", R"({"defaults": {"rsp": 1}})");
  LfemuProcess p({"--config", config});
  EXPECT_FALSE(p.started());
  EXPECT_EQ(p.stop(), 2);
}

}  // namespace
}  // namespace lf::e2e
