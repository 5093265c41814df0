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

// Retry-After as seconds from `now`: delay-seconds ("120") or an HTTP-date
// (IMF-fixdate, RFC 850 or asctime). A date in the past gives 0. nullopt when
// the value is neither.
std::optional<double> parse_retry_after(std::string_view value, UnixMillis now);

}  // namespace lf
