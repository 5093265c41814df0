// Tests of parsing the API's answers and Retry-After.
#include "api/response_parser.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

// 2024-01-01T00:00:00Z in unix ms.
constexpr UnixMillis kNow = 1'704'067'200'000;

TEST(ParseApiResponse, OkAnswerCarriesScoreIdsAndHttpStatus) {
  auto a = parse_api_response(200, R"({
    "request_id": "TID3923f103e1ca49b7b434bdddefb680d8",
    "status": "OK",
    "verify_score": 0.7027237415313721,
    "image_id": "b379f72402624858b895a955ec31ed8f"
  })", std::nullopt, kNow);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->http_status, 200);
  EXPECT_EQ(a->status, ApiStatus::kOk);
  EXPECT_EQ(a->request_id, "TID3923f103e1ca49b7b434bdddefb680d8");
  ASSERT_TRUE(a->verify_score.has_value());
  EXPECT_DOUBLE_EQ(*a->verify_score, 0.7027237415313721);
  EXPECT_EQ(a->image_id, "b379f72402624858b895a955ec31ed8f");
  EXPECT_FALSE(a->retry_after_seconds.has_value());
}

TEST(ParseApiResponse, EveryErrorStatusOfTheSpecIsRecognised) {
  for (ApiStatus status : kAllApiStatuses) {
    if (status == ApiStatus::kOk) continue;
    const std::string name(to_string(status));
    const std::string body = R"({"request_id":"r1","status":")" + name +
                             R"(","reason":"why","image":"img"})";
    auto a = parse_api_response(http_status_of(status), body, std::nullopt, kNow);
    ASSERT_TRUE(a.ok()) << name << ": " << a.error().message;
    EXPECT_EQ(a->status, status) << name;
    EXPECT_EQ(a->http_status, http_status_of(status)) << name;
    EXPECT_EQ(a->request_id, "r1");
    EXPECT_EQ(a->reason, "why");
    EXPECT_EQ(a->image, "img");
    EXPECT_FALSE(a->verify_score.has_value());
  }
}

TEST(ParseApiResponse, FaceDetectionFailedKeepsReason) {
  auto a = parse_api_response(
      400, R"({"status":"FACE_DETECTION_FAILED","reason":"no two faces detected"})",
      std::nullopt, kNow);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, ApiStatus::kFaceDetectionFailed);
  EXPECT_EQ(a->reason, "no two faces detected");
}

TEST(ParseApiResponse, RateLimitedAnswerTakesRetryAfterSeconds) {
  auto a = parse_api_response(403, R"({"status":"RATE_LIMIT_EXCEEDED"})", "7", kNow);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, ApiStatus::kRateLimitExceeded);
  ASSERT_TRUE(a->retry_after_seconds.has_value());
  EXPECT_DOUBLE_EQ(*a->retry_after_seconds, 7.0);
}

TEST(ParseApiResponse, StatusIsTakenFromTheBodyNotTheHttpCode) {
  // A server that answers 200 with an error status still means the status.
  auto a = parse_api_response(200, R"({"status":"INTERNAL_ERROR"})", std::nullopt, kNow);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, ApiStatus::kInternalError);
}

TEST(ParseApiResponse, NonJsonBodyIsMalformedAndQuotesTheBody) {
  auto a = parse_api_response(200, "<html>bad gateway</html>", std::nullopt, kNow);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("HTTP 200"), std::string::npos);
  EXPECT_NE(a.error().message.find("<html>bad gateway"), std::string::npos);
  EXPECT_NE(a.error().message.find("not a JSON object"), std::string::npos);
}

TEST(ParseApiResponse, EmptyBodyAndJsonArrayAreMalformed) {
  EXPECT_FALSE(parse_api_response(200, "", std::nullopt, kNow).ok());
  EXPECT_FALSE(parse_api_response(200, "[1,2]", std::nullopt, kNow).ok());
  EXPECT_FALSE(parse_api_response(200, R"({"status":"OK","verify_score":0.5)", std::nullopt,
                                  kNow).ok());
}

TEST(ParseApiResponse, MissingStatusIsMalformed) {
  auto a = parse_api_response(200, R"({"request_id":"x"})", std::nullopt, kNow);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("no \"status\""), std::string::npos);
}

TEST(ParseApiResponse, UnknownStatusIsMalformedAndNamed) {
  auto a = parse_api_response(400, R"({"status":"SOMETHING_NEW"})", std::nullopt, kNow);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("unknown status \"SOMETHING_NEW\""), std::string::npos);
}

TEST(ParseApiResponse, WrongTypesAreMalformed) {
  EXPECT_FALSE(parse_api_response(200, R"({"status":1})", std::nullopt, kNow).ok());
  EXPECT_FALSE(
      parse_api_response(200, R"({"status":"OK","verify_score":"0.5"})", std::nullopt, kNow).ok());
  EXPECT_FALSE(parse_api_response(200, R"({"status":"OK","verify_score":0.5,"image_id":7})",
                                  std::nullopt, kNow).ok());
}

TEST(ParseApiResponse, OkWithoutScoreIsMalformed) {
  auto a = parse_api_response(200, R"({"status":"OK","image_id":"i"})", std::nullopt, kNow);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("verify_score"), std::string::npos);
}

TEST(ParseApiResponse, NonJson404And429MapToTheirStatuses) {
  auto not_found = parse_api_response(404, "Not Found", std::nullopt, kNow);
  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->status, ApiStatus::kNotFound);
  auto throttled = parse_api_response(429, "slow down", "3", kNow);
  ASSERT_TRUE(throttled.ok());
  EXPECT_EQ(throttled->status, ApiStatus::kRateLimitExceeded);
  EXPECT_EQ(throttled->retry_after_seconds, 3.0);
  EXPECT_FALSE(parse_api_response(502, "Bad Gateway", std::nullopt, kNow).ok());
}

TEST(ParseApiResponse, NullOptionalFieldsAreAbsent) {
  auto a = parse_api_response(400, R"({"status":"CORRUPT_IMAGE","reason":null,"image":null})",
                              std::nullopt, kNow);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->reason.empty());
}

ResponseHead head(int status) {
  ResponseHead h;
  h.http_status = status;
  return h;
}

TEST(ReadResponse, TheApisJsonIsItsAnswer) {
  ResponseReading r = read_response(head(200), R"({"status":"OK","verify_score":0.9})", 0);
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, ApiStatus::kOk);
}

TEST(ReadResponse, ARedirectNamesWhereTo) {
  ResponseHead h = head(301);
  h.location = "https://api.example/identity/handhold_idcard_verification";
  ResponseReading r = read_response(h, "<html>Moved</html>", 0);
  ASSERT_FALSE(r.answer);
  EXPECT_EQ(r.failure, TransportFailure::kRedirected);
  EXPECT_NE(r.detail.find("301"), std::string::npos);
  EXPECT_NE(r.detail.find("https://api.example/identity"), std::string::npos);
  EXPECT_NE(r.detail.find("set --endpoint or the config's \"endpoint\" to it"), std::string::npos);
}

TEST(ReadResponse, ARedirectLeavesTheLocationsQueryOutSinceItMayHoldTheSecret) {
  ResponseHead h = head(307);
  h.location = "https://h/p?api_id=a&api_secret=s3cr3t#x";
  ResponseReading r = read_response(h, "", 0);
  EXPECT_NE(r.detail.find("redirect to https://h/p (query left out)"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("s3cr3t"), std::string::npos) << r.detail;
}

TEST(ReadResponse, AnUnknownJsonStatusIsAnAnswerUnderItsOwnCode) {
  ResponseReading r =
      read_response(head(400), R"({"status":"NEW_RULE","reason":"photo too old","request_id":"R1"})", 0);
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->status, ApiStatus::kUnrecognized);
  EXPECT_EQ(r.answer->unrecognized_status, "NEW_RULE");
  EXPECT_EQ(r.answer->reason, "photo too old");
  EXPECT_EQ(r.answer->request_id, "R1");
  EXPECT_EQ(r.answer->http_status, 400);
}

TEST(ReadResponse, A429IsAThrottleWhateverItsBody) {
  for (const char* body : {"", "<html><title>429 Too Many Requests</title></html>",
                           R"({"message":"slow down"})", R"({"status":"THROTTLED"})"}) {
    ResponseHead h = head(429);
    h.retry_after = "3";
    ResponseReading r = read_response(h, body, 0);
    ASSERT_TRUE(r.answer) << body;
    EXPECT_EQ(r.answer->status, ApiStatus::kRateLimitExceeded) << body;
    EXPECT_EQ(r.answer->retry_after_seconds, 3.0) << body;
  }
}

TEST(ReadResponse, AGatewaysRefusalOfTheSizeIsRejectedWithItsWords) {
  ResponseHead h = head(413);
  h.server = "nginx/1.22.1";
  ResponseReading r = read_response(
      h,
      "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
      "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n",
      0);
  ASSERT_FALSE(r.answer);
  EXPECT_EQ(r.failure, TransportFailure::kGatewayRejected);
  EXPECT_NE(r.detail.find("'413 Request Entity Too Large'"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("nginx/1.22.1"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("client_max_body_size"), std::string::npos) << r.detail;
  for (int status : {414, 431}) {
    EXPECT_EQ(read_response(head(status), "Request-URI Too Long", 0).failure,
              TransportFailure::kGatewayRejected);
  }
}

TEST(ReadResponse, A5xxWithoutTheApisJsonIsAGatewayError) {
  ResponseHead h = head(503);
  h.retry_after = "20";
  ResponseReading r = read_response(h, "<html><title>503 Service Unavailable</title></html>", 0);
  ASSERT_FALSE(r.answer);
  EXPECT_EQ(r.failure, TransportFailure::kGatewayError);
  EXPECT_NE(r.detail.find("503 Service Unavailable"), std::string::npos);
  EXPECT_EQ(r.retry_after_seconds, 20.0);
  for (int status : {500, 502, 504}) {
    ResponseReading empty = read_response(head(status), "", 0);
    EXPECT_EQ(empty.failure, TransportFailure::kGatewayError) << status;
    EXPECT_NE(empty.detail.find("empty body"), std::string::npos) << empty.detail;
  }
  // A plain-text body's first line is its words; a JSON body without the
  // API's status (a cloud gateway's) is a gateway error too.
  EXPECT_NE(read_response(head(502), "\n  upstream connect error\nmore", 0).detail.find(
                "'upstream connect error'"),
            std::string::npos);
  EXPECT_EQ(read_response(head(502), R"({"message":"Internal server error"})", 0).failure,
            TransportFailure::kGatewayError);
  // The API's own INTERNAL_ERROR is an answer, not a gateway's.
  EXPECT_TRUE(read_response(head(500), R"({"status":"INTERNAL_ERROR"})", 0).answer);
}

TEST(ReadResponse, OtherBodiesThatAreNotTheApisAreMalformed) {
  ResponseReading r = read_response(head(200), "<html>hello</html>", 0);
  ASSERT_FALSE(r.answer);
  EXPECT_EQ(r.failure, TransportFailure::kMalformedResponse);
  EXPECT_NE(r.detail.find("not a JSON object"), std::string::npos);
  EXPECT_EQ(read_response(head(400), "<html>bad</html>", 0).failure,
            TransportFailure::kMalformedResponse);
  // Invalid JSON types of known fields stay malformed.
  EXPECT_EQ(read_response(head(200), R"({"status":"OK","verify_score":"high"})", 0).failure,
            TransportFailure::kMalformedResponse);
}

TEST(ParseRetryAfter, DelaySeconds) {
  EXPECT_EQ(parse_retry_after("0", kNow), 0.0);
  EXPECT_EQ(parse_retry_after(" 120 ", kNow), 120.0);
  EXPECT_FALSE(parse_retry_after("-5", kNow).has_value());
  EXPECT_FALSE(parse_retry_after("soon", kNow).has_value());
  EXPECT_FALSE(parse_retry_after("", kNow).has_value());
  EXPECT_FALSE(parse_retry_after("12abc", kNow).has_value());
}

TEST(ParseRetryAfter, HttpDateFormatsGiveSecondsFromNow) {
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 00:01:30 GMT", kNow), 90.0);
  EXPECT_EQ(parse_retry_after("Monday, 01-Jan-24 00:00:10 GMT", kNow), 10.0);
  EXPECT_EQ(parse_retry_after("Mon Jan  1 00:00:05 2024", kNow), 5.0);
}

TEST(ParseRetryAfter, DateInThePastIsZero) {
  EXPECT_EQ(parse_retry_after("Sun, 31 Dec 2023 23:59:00 GMT", kNow), 0.0);
}

TEST(ParseRetryAfter, FractionalNowRoundsUp) {
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 00:00:10 GMT", kNow + 500), 10.0);
}

}  // namespace
}  // namespace lf
