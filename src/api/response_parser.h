// Turning an HTTP response of the API into an ApiAnswer, or into the reason
// it is not one (a malformed response). Pure: time is passed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/outcome.h"
#include "core/result.h"

namespace lf {

// Parses the response to one request. The body must be a JSON object whose
// "status" is one of the spec's codes; request_id, verify_score (required
// when status is OK), image_id, reason and image are taken when present.
// `retry_after` is the raw Retry-After header, if any; `now` the time the
// response arrived (for an HTTP-date Retry-After).
// When the body is not the API's JSON, a 404 is still reported as
// NOT_FOUND and a 429 as RATE_LIMIT_EXCEEDED (gateways in front of the API
// answer those without JSON; both mean the same to the runner); anything
// else is an Error whose message says what was wrong, for
// TransportFailure::kMalformedResponse.
Result<ApiAnswer> parse_api_response(int http_status, std::string_view body,
                                     std::optional<std::string_view> retry_after,
                                     UnixMillis now);

// The parts of an HTTP response's head that tell what answered.
struct ResponseHead {
  int http_status = 0;
  std::optional<std::string_view> retry_after;   // Retry-After
  std::optional<std::string_view> location;      // Location (3xx)
  std::optional<std::string_view> server;        // Server, named in a gateway's errors
  std::optional<std::string_view> content_type;  // Content-Type
};

// What one HTTP response was: the API's answer, or why it is not one.
struct ResponseReading {
  std::optional<ApiAnswer> answer;  // set: the API answered (any status)
  TransportFailure failure = TransportFailure::kMalformedResponse;  // when !answer
  std::string detail;               // when !answer: what the user is told
  std::optional<double> retry_after_seconds;  // when !answer: a gateway's Retry-After
};

// Reads a whole response: parse_api_response for the API's JSON, and for
// anything else, who answered instead:
//  - a 3xx is kRedirected, naming the Location;
//  - a JSON "status" this version does not know is an answer of its own
//    (ApiStatus::kUnrecognized, the code kept), never a malformed response;
//  - 429 with any body is RATE_LIMIT_EXCEEDED, 404 without the API's JSON
//    NOT_FOUND (what parse_api_response gives);
//  - 413, 414 and 431 without the API's JSON are kGatewayRejected and 5xx
//    kGatewayError, with the gateway's own words (an HTML page's title or the
//    body's first line) and its Server header;
//  - anything else is kMalformedResponse.
ResponseReading read_response(const ResponseHead& head, std::string_view body, UnixMillis now);

// Retry-After as seconds from `now`: delay-seconds ("120") or an HTTP-date
// (IMF-fixdate, RFC 850 or asctime). A date in the past gives 0. nullopt when
// the value is neither.
std::optional<double> parse_retry_after(std::string_view value, UnixMillis now);

}  // namespace lf
