// The emulated API's decisions, on an injected clock and a seeded RNG.
#include "emulator/verification_service.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "image/synthetic_image.h"

namespace lf {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kBoundary = "----lfemutestboundary";

struct Part {
  std::string name;
  std::string value;
  std::optional<std::string> filename;
};

std::string multipart(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + std::string(kBoundary) + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + p.name + "\"";
    if (p.filename) body += "; filename=\"" + *p.filename + "\"";
    body += "\r\n";
    if (p.filename) body += "Content-Type: application/octet-stream\r\n";
    body += "\r\n" + p.value + "\r\n";
  }
  body += "--" + std::string(kBoundary) + "--\r\n";
  return body;
}

std::string png(std::string_view marker = {}) {
  return make_image(ImageFormat::kPng, 64, 48, marker);
}

class Service : public ::testing::Test {
 protected:
  Service() { settings_.service.seed = 42; }

  AccountSpec& add_account(std::string id, std::string secret) {
    AccountSpec a;
    a.api_id = std::move(id);
    a.api_secret = std::move(secret);
    settings_.accounts.push_back(std::move(a));
    return settings_.accounts.back();
  }

  VerificationService& service() {
    if (!service_) service_ = std::make_unique<VerificationService>(settings_, now_);
    return *service_;
  }

  void advance(std::chrono::steady_clock::duration d) {
    now_.steady += d;
    now_.wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

  ServiceStep raw(std::string method, std::string target, std::string content_type,
                  std::string body, bool truncated = false) {
    method_ = std::move(method);
    target_ = std::move(target);
    content_type_ = std::move(content_type);
    body_ = std::move(body);
    ServiceRequest r;
    r.method = method_;
    r.target = target_;
    if (!content_type_.empty()) r.headers.emplace_back("content-TYPE", content_type_);
    r.body = body_;
    r.body_truncated = truncated;
    return service().handle(r, now_);
  }

  ServiceResponse call(std::string target, std::vector<Part> parts) {
    auto step = raw("POST", std::move(target),
                    "multipart/form-data; boundary=" + std::string(kBoundary), multipart(parts));
    EXPECT_TRUE(std::holds_alternative<ServiceResponse>(step));
    return std::get<ServiceResponse>(std::move(step));
  }

  ServiceResponse upload(std::string id, std::string secret, std::string image,
                         std::string filename = "photo.png") {
    return call(std::string(kVerificationPath),
                {{"api_id", id, {}}, {"api_secret", secret, {}}, {"file", image, filename}});
  }

  ServiceResponse admin(std::string method, std::string path, std::string body = {}) {
    auto step = raw(std::move(method), std::move(path), "application/json", std::move(body));
    return std::get<ServiceResponse>(std::move(step));
  }

  static json body_of(const ServiceResponse& r) { return json::parse(r.body); }
  static std::string status_of(const ServiceResponse& r) {
    return body_of(r)["status"].get<std::string>();
  }

  EmulatorSettings settings_;
  Instant now_{std::chrono::steady_clock::time_point(seconds(1000)),
               std::chrono::system_clock::time_point(seconds(1'800'000'000))};
  std::unique_ptr<VerificationService> service_;
  std::string method_, target_, content_type_, body_;
};

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

TEST_F(Service, AnswersOkWithRequestIdScoreAndImageIdLikeTheSpecExample) {
  add_account("acc", "s3cret");
  auto r = upload("acc", "s3cret", png("LFEMU:score=0.7027"));
  ASSERT_EQ(r.http_status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  json j = body_of(r);
  EXPECT_EQ(j["status"], "OK");
  EXPECT_DOUBLE_EQ(j["verify_score"].get<double>(), 0.7027);
  std::string rid = j["request_id"];
  ASSERT_EQ(rid.size(), 35u);
  EXPECT_EQ(rid.substr(0, 3), "TID");
  EXPECT_TRUE(is_hex(rid.substr(3)));
  std::string image_id = j["image_id"];
  EXPECT_EQ(image_id.size(), 32u);
  EXPECT_TRUE(is_hex(image_id));
  // The spec's key order.
  EXPECT_LT(r.body.find("request_id"), r.body.find("\"status\""));
  EXPECT_LT(r.body.find("verify_score"), r.body.find("image_id"));
}

TEST_F(Service, TakesCredentialsFromTheQueryStringLikeTheCurlSample) {
  add_account("ID", "SECRET");
  auto r = call(std::string(kVerificationPath) + "?api_id=ID&api_secret=SECRET",
                {{"file", png(), "IMAGE"}});
  EXPECT_EQ(status_of(r), "OK");
}

TEST_F(Service, AnswersNotFoundForOtherPaths) {
  add_account("acc", "s");
  auto r = call("/identity/handhold_idcard_verificatio", {{"api_id", "acc", {}}});
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(status_of(r), "NOT_FOUND");
}

TEST_F(Service, RequiresExactlyOneImageSourceWithAReason) {
  add_account("acc", "s");
  auto none = call(std::string(kVerificationPath), {{"api_id", "acc", {}}, {"api_secret", "s", {}}});
  EXPECT_EQ(none.http_status, 400);
  EXPECT_EQ(status_of(none), "INVALID_ARGUMENT");
  EXPECT_NE(body_of(none)["reason"].get<std::string>().find("file_url"), std::string::npos);
  auto two = call(std::string(kVerificationPath), {{"api_id", "acc", {}},
                                                   {"api_secret", "s", {}},
                                                   {"file_id", "abc", {}},
                                                   {"file", png(), "a.png"}});
  EXPECT_EQ(status_of(two), "INVALID_ARGUMENT");
  EXPECT_EQ(body_of(two)["reason"], "only one of file, file_url and file_id may be given, "
                                    "got file and file_id");
}

TEST_F(Service, AcceptsAutoRotateAsBooleanOrDigitAndRejectsOtherValues) {
  add_account("acc", "s");
  for (std::string v : {"true", "false", "1", "0", "TRUE"}) {
    auto r = call(std::string(kVerificationPath),
                  {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"auto_rotate", v, {}},
                   {"file", png(), "a.png"}});
    EXPECT_EQ(status_of(r), "OK") << v;
  }
  auto bad = call(std::string(kVerificationPath),
                  {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"auto_rotate", "yes", {}},
                   {"file", png(), "a.png"}});
  EXPECT_EQ(status_of(bad), "INVALID_ARGUMENT");
  EXPECT_NE(body_of(bad)["reason"].get<std::string>().find("auto_rotate"), std::string::npos);
}

TEST_F(Service, MalformedMultipartIsInvalidArgumentWithTheParsersReason) {
  add_account("acc", "s");
  auto step = raw("POST", std::string(kVerificationPath) + "?api_id=acc&api_secret=s",
                  "multipart/form-data; boundary=xyz", "this is not multipart at all");
  auto r = std::get<ServiceResponse>(step);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(status_of(r), "INVALID_ARGUMENT");
  EXPECT_FALSE(body_of(r)["reason"].get<std::string>().empty());
}

TEST_F(Service, NonUtf8ParameterIsEncodingError) {
  add_account("acc", "s");
  auto form = call(std::string(kVerificationPath),
                   {{"api_id", "acc\xff", {}}, {"api_secret", "s", {}}, {"file", png(), "a"}});
  EXPECT_EQ(form.http_status, 400);
  EXPECT_EQ(status_of(form), "ENCODING_ERROR");
  auto query = call(std::string(kVerificationPath) + "?api_id=acc&api_secret=s&file_id=%C0%AF",
                    {});
  EXPECT_EQ(status_of(query), "ENCODING_ERROR");
}

TEST_F(Service, WrongSecretOrUnknownIdIsUnauthorized) {
  add_account("acc", "right");
  auto wrong = upload("acc", "wrong", png());
  EXPECT_EQ(wrong.http_status, 401);
  EXPECT_EQ(status_of(wrong), "UNAUTHORIZED");
  EXPECT_EQ(status_of(upload("nobody", "right", png())), "UNAUTHORIZED");
}

TEST_F(Service, ExpiredKeyIsKeyExpiredWithAReasonNamingTheTime) {
  add_account("acc", "s").expires_at = now_.wall + seconds(10);
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  advance(seconds(11));
  auto r = upload("acc", "s", png());
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(status_of(r), "KEY_EXPIRED");
  EXPECT_NE(body_of(r)["reason"].get<std::string>().find("expired at 2027-01-15T08:00:10Z"),
            std::string::npos);
}

TEST_F(Service, AccountWithoutPermissionIsNoPermission) {
  add_account("acc", "s").permission = false;
  auto r = upload("acc", "s", png());
  EXPECT_EQ(r.http_status, 403);
  EXPECT_EQ(status_of(r), "NO_PERMISSION");
}

TEST_F(Service, RateLimitRejectsBeyondTheBucketAndRefillsWithTime) {
  auto& a = add_account("acc", "s");
  a.knobs.rps = 2;
  a.knobs.burst = 1;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  auto r = upload("acc", "s", png());
  EXPECT_EQ(r.http_status, 403);
  EXPECT_EQ(status_of(r), "RATE_LIMIT_EXCEEDED");
  EXPECT_TRUE(r.delivery.headers.empty()) << "Retry-After is off by default";
  advance(milliseconds(500));
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
}

TEST_F(Service, RateLimitAdmitsTheConfiguredRateUnderTenSecondsOfOverload) {
  auto& a = add_account("acc", "s");
  a.knobs.rps = 50;
  a.knobs.burst = 5;
  int ok = 0;
  for (int ms = 0; ms < 10'000; ++ms) {  // 1000 attempts/s against 50/s
    if (status_of(upload("acc", "s", png())) == "OK") ++ok;
    advance(milliseconds(1));
  }
  EXPECT_NEAR(ok, 50 * 10 + 5, 1);
}

TEST_F(Service, RetryAfterHeaderWhenEnabled) {
  auto& a = add_account("acc", "s");
  a.knobs.rps = 0.25;
  a.knobs.burst = 1;
  a.knobs.retry_after = true;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  auto r = upload("acc", "s", png());
  ASSERT_EQ(r.delivery.headers.size(), 1u);
  EXPECT_EQ(r.delivery.headers[0].first, "Retry-After");
  EXPECT_EQ(r.delivery.headers[0].second, "4");
}

TEST_F(Service, ConcurrencyLimitHoldsASlotUntilTheAnswerIsDelivered) {
  add_account("acc", "s").knobs.max_concurrent = 1;
  auto first = upload("acc", "s", png());
  EXPECT_EQ(status_of(first), "OK");
  EXPECT_EQ(status_of(upload("acc", "s", png())), "RATE_LIMIT_EXCEEDED");
  first.delivery.in_flight.reset();  // delivered
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
}

TEST_F(Service, AScheduleMovesTheLimitAndPlaysAGatewayOutage) {
  add_account("acc", "s");
  SchedulePhase fast;
  fast.after_seconds = 0;
  fast.knobs.rps = 1000;
  SchedulePhase slow;
  slow.after_seconds = 10;
  slow.knobs.rps = 1;
  slow.knobs.burst = 1;
  SchedulePhase down;
  down.after_seconds = 20;
  down.knobs.outage_status = 503;
  down.knobs.outage_retry_after_s = 7;
  SchedulePhase up;
  up.after_seconds = 30;
  settings_.schedule = {fast, slow, down, up};
  for (int i = 0; i < 20; ++i) {
    advance(std::chrono::milliseconds(10));
    EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  }
  advance(seconds(10));
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  EXPECT_EQ(status_of(upload("acc", "s", png())), "RATE_LIMIT_EXCEEDED");
  advance(seconds(10));
  auto gateway = upload("acc", "s", png());
  EXPECT_EQ(gateway.http_status, 503);
  EXPECT_EQ(gateway.content_type, "text/html");
  EXPECT_NE(gateway.body.find("<title>503 Service Temporarily Unavailable</title>"),
            std::string::npos);
  ASSERT_EQ(gateway.delivery.headers.size(), 1u);
  EXPECT_EQ(gateway.delivery.headers[0].second, "7");
  advance(seconds(10));
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");  // the defaults again: no limit
  json stats = json::parse(service().stats_json(now_));
  EXPECT_EQ(stats["faults"]["gateway_outage"], 1);
  EXPECT_EQ(stats["by_status"]["GATEWAY_503"], 1);
}

TEST_F(Service, ThrottlesCanBeAGateways429Page) {
  auto& a = add_account("acc", "s");
  a.knobs.max_concurrent = 1;
  a.knobs.throttle_http_status = 429;
  auto first = upload("acc", "s", png());
  EXPECT_EQ(status_of(first), "OK");
  auto throttled = upload("acc", "s", png());
  EXPECT_EQ(throttled.http_status, 429);
  EXPECT_NE(throttled.body.find("429 Too Many Requests"), std::string::npos);
}

TEST_F(Service, TheAdminApiSetsAScheduleWhoseClockStartsThen) {
  add_account("acc", "s");
  advance(seconds(100));
  auto set = admin("POST", "/_admin/config",
                   R"({"schedule": [{"after_s": 5, "outage_status": 502}]})");
  ASSERT_EQ(set.http_status, 200) << set.body;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  advance(seconds(5));
  EXPECT_EQ(upload("acc", "s", png()).http_status, 502);
  auto bad = admin("POST", "/_admin/config", R"({"schedule": [{"after_s": 1, "outage_status": 500}]})");
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(bad.body.find("outage_status"), std::string::npos);
}

TEST_F(Service, QuotaRunsOutAndResetsAfterItsPeriod) {
  auto& a = add_account("acc", "s");
  a.knobs.quota = 2;
  a.knobs.quota_reset_seconds = 60;
  a.knobs.retry_after = true;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  EXPECT_EQ(status_of(upload("acc", "s", png("LFEMU:faces=0"))), "FACE_DETECTION_FAILED");
  advance(seconds(20));
  auto out = upload("acc", "s", png());
  EXPECT_EQ(out.http_status, 403);
  EXPECT_EQ(status_of(out), "OUT_OF_QUOTA");
  ASSERT_EQ(out.delivery.headers.size(), 1u);
  EXPECT_EQ(out.delivery.headers[0].second, "40");
  advance(seconds(40));
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
}

TEST_F(Service, AdminResetQuotaGivesTheQuotaBack) {
  add_account("acc", "s").knobs.quota = 1;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OUT_OF_QUOTA");
  auto reset = admin("POST", "/_admin/reset-quota", R"({"account":"acc"})");
  EXPECT_EQ(reset.http_status, 200);
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
}

TEST_F(Service, FailRateAnswersInternalErrorWithoutUsingQuota) {
  auto& a = add_account("acc", "s");
  a.knobs.fail_rate = 1.0;
  a.knobs.quota = 1;
  for (int i = 0; i < 3; ++i) {
    auto r = upload("acc", "s", png());
    EXPECT_EQ(r.http_status, 500);
    EXPECT_EQ(status_of(r), "INTERNAL_ERROR");
  }
  auto ok = admin("POST", "/_admin/config", R"({"accounts":{"acc":{"fail_rate":null}}})");
  ASSERT_EQ(ok.http_status, 200) << ok.body;
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
}

TEST_F(Service, DeliveryFaultsFollowTheirRates) {
  settings_.defaults.reset_rate = 0.2;
  settings_.defaults.stall_rate = 0.2;
  settings_.defaults.truncate_rate = 0.2;
  settings_.defaults.bad_json_rate = 0.2;
  settings_.defaults.stall_ms = 1234;
  add_account("acc", "s");
  std::map<DeliveryFault, int> faults;
  int bad_json = 0;
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    auto r = upload("acc", "s", png());
    ++faults[r.delivery.fault];
    if (r.delivery.fault == DeliveryFault::kStall) {
      EXPECT_EQ(r.delivery.stall, milliseconds(1234));
    }
    if (r.delivery.bad_json) {
      ++bad_json;
      EXPECT_EQ(r.http_status, 200);
      EXPECT_EQ(r.content_type, "text/html");
      EXPECT_FALSE(json::accept(r.body));
    }
  }
  for (auto f : {DeliveryFault::kReset, DeliveryFault::kStall, DeliveryFault::kTruncate}) {
    EXPECT_NEAR(faults[f], n * 0.2, n * 0.03);
  }
  EXPECT_NEAR(bad_json, n * 0.2, n * 0.03);
}

TEST_F(Service, LatencyIsFixedPlusBoundedJitter) {
  settings_.defaults.latency_ms = 100;
  settings_.defaults.latency_jitter_ms = 50;
  add_account("acc", "s");
  bool saw_jitter = false;
  for (int i = 0; i < 50; ++i) {
    auto r = upload("acc", "s", png());
    EXPECT_GE(r.delivery.delay, milliseconds(100));
    EXPECT_LE(r.delivery.delay, milliseconds(150));
    saw_jitter |= r.delivery.delay != milliseconds(100);
  }
  EXPECT_TRUE(saw_jitter);
}

TEST_F(Service, SameSeedGivesTheSameIdsAndFaults) {
  settings_.defaults.fail_rate = 0.5;
  add_account("acc", "s");
  std::vector<std::string> first;
  for (int i = 0; i < 20; ++i) first.push_back(upload("acc", "s", png()).body);
  service_.reset();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(upload("acc", "s", png()).body, first[i]);
}

TEST_F(Service, FaceMarkersGiveTheSpecsReasons) {
  add_account("acc", "s");
  const std::pair<const char*, const char*> cases[] = {
      {"LFEMU:faces=0", "no face detected"},
      {"LFEMU:faces=1", "no two faces detected"},
      {"LFEMU:faces=3", "too many faces"}};
  for (const auto& [marker, reason] : cases) {
    auto r = upload("acc", "s", png(marker));
    EXPECT_EQ(r.http_status, 400);
    EXPECT_EQ(status_of(r), "FACE_DETECTION_FAILED");
    EXPECT_EQ(body_of(r)["reason"], reason);
  }
}

TEST_F(Service, ImageProblemsNameTheUploadedFile) {
  add_account("acc", "s");
  auto corrupt = upload("acc", "s", "not an image at all", "notes.txt");
  EXPECT_EQ(status_of(corrupt), "CORRUPT_IMAGE");
  EXPECT_EQ(body_of(corrupt)["image"], "notes.txt");
  auto tiny = upload("acc", "s", make_image(ImageFormat::kPng, 8, 8), "tiny.png");
  EXPECT_EQ(status_of(tiny), "INVALID_IMAGE_FORMAT_OR_SIZE");
  EXPECT_EQ(body_of(tiny)["image"], "tiny.png");
  auto big = upload("acc", "s", make_image(ImageFormat::kJpeg, 100, 100, {}, 5 * 1024 * 1024 + 1),
                    "big.jpg");
  EXPECT_EQ(status_of(big), "IMAGE_FILE_SIZE_TOO_BIG");
  EXPECT_EQ(body_of(big)["image"], "big.jpg");
}

TEST_F(Service, BodyOverTheServerLimitNamesTheFilePartWhenItCan) {
  add_account("acc", "s");
  std::string head = multipart({{"api_id", "acc", {}}, {"file", "\xff\xd8 partial", "huge.jpg"}});
  head.resize(head.find("partial"));
  auto r = std::get<ServiceResponse>(
      raw("POST", std::string(kVerificationPath),
          "multipart/form-data; boundary=" + std::string(kBoundary), head, true));
  EXPECT_EQ(status_of(r), "IMAGE_FILE_SIZE_TOO_BIG");
  EXPECT_EQ(body_of(r)["image"], "huge.jpg");
  auto other = std::get<ServiceResponse>(
      raw("POST", std::string(kVerificationPath), "text/plain", "xxxx", true));
  EXPECT_EQ(status_of(other), "INVALID_ARGUMENT");
}

TEST_F(Service, FileIdFindsAnEarlierUploadAndUnknownIdsAreNamed) {
  add_account("acc", "s");
  auto first = upload("acc", "s", png("LFEMU:score=0.91"));
  std::string id = body_of(first)["image_id"];
  auto again = call(std::string(kVerificationPath),
                    {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"file_id", id, {}}});
  EXPECT_EQ(status_of(again), "OK");
  EXPECT_DOUBLE_EQ(body_of(again)["verify_score"].get<double>(), 0.91);
  EXPECT_FALSE(body_of(again).contains("image_id"));
  auto missing = call(std::string(kVerificationPath),
                      {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"file_id", "0123", {}}});
  EXPECT_EQ(status_of(missing), "IMAGE_ID_NOT_EXIST");
  EXPECT_EQ(body_of(missing)["image"], "0123");
}

TEST_F(Service, ImageStoreForgetsTheLeastRecentlyUsedBeyondItsCap) {
  settings_.service.image_store_bytes = 3 * png("LFEMU:score=0.10").size();
  add_account("acc", "s");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(body_of(upload("acc", "s", png("LFEMU:score=0.1" + std::to_string(i))))
                      ["image_id"]);
  }
  auto by_id = [&](const std::string& id) {
    return status_of(call(std::string(kVerificationPath),
                          {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"file_id", id, {}}}));
  };
  EXPECT_EQ(by_id(ids[0]), "IMAGE_ID_NOT_EXIST");
  EXPECT_EQ(by_id(ids[3]), "OK");
}

TEST_F(Service, UrlencodedFormWithFileIdIsAccepted) {
  add_account("acc", "s");
  std::string id = body_of(upload("acc", "s", png()))["image_id"];
  auto step = raw("POST", std::string(kVerificationPath), "application/x-www-form-urlencoded",
                  "api_id=acc&api_secret=s&file_id=" + id + "&auto_rotate=true");
  EXPECT_EQ(status_of(std::get<ServiceResponse>(step)), "OK");
}

TEST_F(Service, FileUrlOnLoopbackIsDownloadedByTheServer) {
  add_account("acc", "s");
  auto step = raw("POST", std::string(kVerificationPath) +
                              "?api_id=acc&api_secret=s&file_url=http%3A%2F%2F127.0.0.1%3A9%2Fa.png",
                  "", "");
  ASSERT_TRUE(std::holds_alternative<PendingDownload>(step));
  auto pending = std::get<PendingDownload>(std::move(step));
  EXPECT_EQ(pending.download.url, "http://127.0.0.1:9/a.png");
  EXPECT_FALSE(pending.download.allow_remote);
  EXPECT_EQ(pending.download.max_bytes, 5u * 1024 * 1024);
  DownloadResult ok{DownloadResult::Kind::kOk, png("LFEMU:score=0.5"), ""};
  auto r = service().finish_download(pending, ok, now_);
  EXPECT_EQ(status_of(r), "OK");
  EXPECT_TRUE(body_of(r).contains("image_id"));

  DownloadResult slow{DownloadResult::Kind::kTimeout, "", "timed out"};
  auto t = service().finish_download(pending, slow, now_);
  EXPECT_EQ(status_of(t), "DOWNLOAD_TIMEOUT");
  EXPECT_EQ(body_of(t)["image"], "http://127.0.0.1:9/a.png");
  DownloadResult gone{DownloadResult::Kind::kError, "", "HTTP 404"};
  auto g = service().finish_download(pending, gone, now_);
  EXPECT_EQ(g.http_status, 400);
  EXPECT_EQ(status_of(g), "DOWNLOAD_ERROR");
  EXPECT_EQ(body_of(g)["image"], "http://127.0.0.1:9/a.png");
}

TEST_F(Service, FileUrlOnAnotherHostIsRefusedUnlessAllowed) {
  add_account("acc", "s");
  auto r = call(std::string(kVerificationPath),
                {{"api_id", "acc", {}}, {"api_secret", "s", {}},
                 {"file_url", "http://example.com/a.jpg", {}}});
  EXPECT_EQ(status_of(r), "DOWNLOAD_ERROR");
  EXPECT_EQ(body_of(r)["image"], "http://example.com/a.jpg");
  EXPECT_NE(body_of(r)["reason"].get<std::string>().find("loopback"), std::string::npos);
  auto allow = admin("POST", "/_admin/config", R"({"service":{"allow_remote_downloads":true}})");
  ASSERT_EQ(allow.http_status, 200);
  auto step = raw("POST", std::string(kVerificationPath),
                  "multipart/form-data; boundary=" + std::string(kBoundary),
                  multipart({{"api_id", "acc", {}}, {"api_secret", "s", {}},
                             {"file_url", "http://example.com/a.jpg", {}}}));
  EXPECT_TRUE(std::holds_alternative<PendingDownload>(step));
}

TEST_F(Service, SdkStylePartsWithContentTypeAndContentLengthAreAccepted) {
  add_account("acc", "s");
  std::string image = png();
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"api_id\"\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: 3\r\n\r\nacc\r\n"
      "--B\r\ncontent-disposition: form-data; name=\"api_secret\"\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: 1\r\n\r\ns\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
      "Content-Type: application/octet-stream\r\nContent-Length: " +
      std::to_string(image.size()) + "\r\n\r\n" + image + "\r\n--B--\r\n";
  auto r = std::get<ServiceResponse>(
      raw("POST", std::string(kVerificationPath), "multipart/form-data; boundary=\"B\"", body));
  EXPECT_EQ(status_of(r), "OK") << r.body;
}

TEST_F(Service, AdminConfigChangesLimitsAtRunTimeAndRejectsUnknownKeys) {
  add_account("acc", "s");
  auto bad = admin("POST", "/_admin/config", R"({"defaults":{"rsp":3}})");
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_NE(bad.body.find("rsp"), std::string::npos);
  // A number beyond a double is a 400 too, not an exception out of the handler.
  auto huge = admin("POST", "/_admin/config", R"({"defaults":{"rps":1e999}})");
  EXPECT_EQ(huge.http_status, 400);
  EXPECT_NE(huge.body.find("not valid JSON"), std::string::npos) << huge.body;
  auto add = admin("POST", "/_admin/config",
                   R"({"accounts":{"new":{"api_secret":"n","permission":false}}})");
  ASSERT_EQ(add.http_status, 200) << add.body;
  EXPECT_EQ(add.body.find("\"n\""), std::string::npos) << "secrets are not echoed";
  EXPECT_EQ(status_of(upload("new", "n", png())), "NO_PERMISSION");
  auto limit = admin("POST", "/_admin/config", R"({"defaults":{"rps":1,"burst":1}})");
  ASSERT_EQ(limit.http_status, 200);
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  EXPECT_EQ(status_of(upload("acc", "s", png())), "RATE_LIMIT_EXCEEDED");
}

TEST_F(Service, StatsCountByStatusAndAccountAndPeakPerSecond) {
  add_account("acc", "s");
  for (int i = 0; i < 3; ++i) (void)upload("acc", "s", png());
  advance(seconds(1));
  (void)upload("acc", "wrong", png());
  (void)call("/nope", {});
  auto r = admin("GET", "/_admin/stats");
  ASSERT_EQ(r.http_status, 200);
  json s = body_of(r);
  EXPECT_EQ(s["requests_total"], 5);
  EXPECT_EQ(s["by_status"]["OK"], 3);
  EXPECT_EQ(s["by_status"]["UNAUTHORIZED"], 1);
  EXPECT_EQ(s["by_status"]["NOT_FOUND"], 1);
  EXPECT_EQ(s["by_account"]["acc"]["OK"], 3);
  EXPECT_EQ(s["by_account"]["-"]["UNAUTHORIZED"], 1);
  EXPECT_EQ(s["peak_rps"], 3);
  EXPECT_EQ(s["uploads"]["stored"], 3);
  EXPECT_EQ(s["in_flight"], 0);
}

std::vector<json> lines_of(const std::string& body) {
  std::vector<json> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    out.push_back(json::parse(body.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

TEST_F(Service, CallLogIsOffByDefault) {
  add_account("acc", "s");
  EXPECT_EQ(status_of(upload("acc", "s", png())), "OK");
  auto r = admin("GET", "/_admin/calls");
  EXPECT_EQ(r.http_status, 404);
  EXPECT_NE(body_of(r)["error"].get<std::string>().find("--call-log"), std::string::npos);
  EXPECT_EQ(body_of(admin("GET", "/_admin/stats"))["call_log"]["recorded"], 0);
}

TEST_F(Service, CallLogRecordsEachAnswerWithWhatWasSentAndWhetherItWasBilled) {
  settings_.service.call_log_entries = 100;
  add_account("acc", "s");
  std::string image = png("LFEMU:score=0.8");
  auto ok = upload("acc", "s", image);
  auto bad = upload("acc", "wrong", image);
  auto r = admin("GET", "/_admin/calls");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/jsonl");
  auto calls = lines_of(r.body);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["seq"], 1);
  EXPECT_EQ(calls[0]["request_id"], body_of(ok)["request_id"]);
  EXPECT_EQ(calls[0]["account"], "acc");
  EXPECT_EQ(calls[0]["source"], "file");
  EXPECT_EQ(calls[0]["sha256"], sha256_hex(image));
  EXPECT_EQ(calls[0]["bytes"], image.size());
  EXPECT_EQ(calls[0]["http_status"], 200);
  EXPECT_EQ(calls[0]["api_status"], "OK");
  EXPECT_EQ(calls[0]["billed"], true);
  EXPECT_EQ(calls[0]["faults"], json::array());
  EXPECT_EQ(calls[0]["at_ms"], 1'800'000'000'000);
  EXPECT_EQ(calls[1]["seq"], 2);
  EXPECT_EQ(calls[1]["request_id"], body_of(bad)["request_id"]);
  EXPECT_TRUE(calls[1]["account"].is_null());  // never authenticated
  EXPECT_EQ(calls[1]["sha256"], sha256_hex(image));
  EXPECT_EQ(calls[1]["http_status"], 401);
  EXPECT_EQ(calls[1]["api_status"], "UNAUTHORIZED");
  EXPECT_EQ(calls[1]["billed"], false);
  // Admin requests are not calls.
  auto later = lines_of(admin("GET", "/_admin/calls?since=1").body);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0]["seq"], 2);
  EXPECT_EQ(admin("GET", "/_admin/calls?since=x").http_status, 400);
  EXPECT_EQ(admin("POST", "/_admin/calls").http_status, 405);
  auto stats = body_of(admin("GET", "/_admin/stats"))["call_log"];
  EXPECT_EQ(stats["recorded"], 2);
  EXPECT_EQ(stats["dropped"], 0);
  EXPECT_EQ(stats["capacity"], 100);
}

TEST_F(Service, CallLogMarksInjectedFaultsAndResetsItStillAnswered) {
  settings_.service.call_log_entries = 10'000;
  settings_.defaults.fail_rate = 0.3;
  settings_.defaults.reset_rate = 0.2;
  settings_.defaults.bad_json_rate = 0.2;
  add_account("acc", "s");
  const int n = 400;
  std::vector<ServiceResponse> answers;
  for (int i = 0; i < n; ++i) answers.push_back(upload("acc", "s", png()));
  auto calls = lines_of(admin("GET", "/_admin/calls").body);
  ASSERT_EQ(calls.size(), static_cast<std::size_t>(n));
  int resets = 0, bad_json = 0, internal = 0;
  for (int i = 0; i < n; ++i) {
    const auto& c = calls[static_cast<std::size_t>(i)];
    const auto& a = answers[static_cast<std::size_t>(i)];
    std::vector<std::string> faults = c["faults"];
    bool injected_500 = !faults.empty() && faults.front() == "internal_error";
    bool reset = std::find(faults.begin(), faults.end(), "reset") != faults.end();
    bool garbage = std::find(faults.begin(), faults.end(), "bad_json") != faults.end();
    EXPECT_EQ(reset, a.delivery.fault == DeliveryFault::kReset);
    EXPECT_EQ(garbage, a.delivery.bad_json);
    EXPECT_EQ(injected_500, c["api_status"] == "INTERNAL_ERROR");
    EXPECT_EQ(c["billed"], !injected_500);  // a 500 is never billed; a reset after it was
    EXPECT_EQ(c["http_status"], a.http_status);
    if (!garbage) {
      EXPECT_EQ(c["request_id"], body_of(a)["request_id"]);
    }
    resets += reset;
    bad_json += garbage;
    internal += injected_500;
  }
  EXPECT_GT(resets, 0);
  EXPECT_GT(bad_json, 0);
  EXPECT_GT(internal, 0);
}

TEST_F(Service, CallLogNamesFileIdAndFileUrlWithTheHashOfTheirBytes) {
  settings_.service.call_log_entries = 100;
  add_account("acc", "s");
  std::string image = png("LFEMU:score=0.6");
  std::string image_id = body_of(upload("acc", "s", image))["image_id"];
  auto by_id = call(std::string(kVerificationPath),
                    {{"api_id", "acc", {}}, {"api_secret", "s", {}}, {"file_id", image_id, {}}});
  EXPECT_EQ(status_of(by_id), "OK");
  auto step = raw("POST", std::string(kVerificationPath) +
                              "?api_id=acc&api_secret=s&file_url=http%3A%2F%2F127.0.0.1%3A9%2Fa.png",
                  "", "");
  ASSERT_TRUE(std::holds_alternative<PendingDownload>(step));
  EXPECT_EQ(lines_of(admin("GET", "/_admin/calls").body).size(), 2u)
      << "a call waiting for its download is not answered yet";
  DownloadResult ok{DownloadResult::Kind::kOk, image, ""};
  service().finish_download(std::get<PendingDownload>(std::move(step)), ok, now_);
  auto calls = lines_of(admin("GET", "/_admin/calls?since=1").body);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["source"], "file_id");
  EXPECT_EQ(calls[0]["file_id"], image_id);
  EXPECT_EQ(calls[0]["sha256"], sha256_hex(image));
  EXPECT_EQ(calls[1]["source"], "file_url");
  EXPECT_EQ(calls[1]["file_url"], "http://127.0.0.1:9/a.png");
  EXPECT_EQ(calls[1]["sha256"], sha256_hex(image));
  EXPECT_EQ(calls[1]["api_status"], "OK");
  EXPECT_EQ(calls[1]["billed"], true);
}

TEST_F(Service, CallLogKeepsTheNewestEntriesAndSaysHowManyWereDropped) {
  settings_.service.call_log_entries = 3;
  add_account("acc", "s");
  for (int i = 0; i < 5; ++i) upload("acc", "s", png());
  auto r = admin("GET", "/_admin/calls");
  auto calls = lines_of(r.body);
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls.front()["seq"], 3);
  bool saw_dropped = false;
  for (const auto& [k, v] : r.delivery.headers) {
    if (k == "X-Calls-Dropped") {
      EXPECT_EQ(v, "2");
      saw_dropped = true;
    }
  }
  EXPECT_TRUE(saw_dropped);
  EXPECT_EQ(body_of(admin("GET", "/_admin/stats"))["call_log"]["dropped"], 2);
}

TEST_F(Service, UnknownAdminPathIs404AndNotAnApiAnswer) {
  auto r = admin("GET", "/_admin/nothing");
  EXPECT_EQ(r.http_status, 404);
  EXPECT_TRUE(body_of(r).contains("error"));
}

}  // namespace
}  // namespace lf
