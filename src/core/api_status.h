// The status codes of the handhold_idcard_verification API (the spec's error
// table), and what the runner does with each: the single place that
// knowledge lives.
#pragma once

#include <optional>
#include <string_view>

namespace lf {

enum class ApiStatus {
  kOk,
  kFaceDetectionFailed,
  kEncodingError,
  kDownloadTimeout,
  kDownloadError,
  kImageFileSizeTooBig,
  kImageIdNotExist,
  kCorruptImage,
  kInvalidImageFormatOrSize,
  kInvalidArgument,
  kUnauthorized,
  kKeyExpired,
  kRateLimitExceeded,
  kNoPermission,
  kOutOfQuota,
  kNotFound,
  kInternalError,
  // Not one of the spec's codes: a JSON answer whose "status" this version
  // does not know (ApiAnswer::unrecognized_status holds it). Never in
  // kAllApiStatuses.
  kUnrecognized,
};

inline constexpr ApiStatus kAllApiStatuses[] = {
    ApiStatus::kOk,
    ApiStatus::kFaceDetectionFailed,
    ApiStatus::kEncodingError,
    ApiStatus::kDownloadTimeout,
    ApiStatus::kDownloadError,
    ApiStatus::kImageFileSizeTooBig,
    ApiStatus::kImageIdNotExist,
    ApiStatus::kCorruptImage,
    ApiStatus::kInvalidImageFormatOrSize,
    ApiStatus::kInvalidArgument,
    ApiStatus::kUnauthorized,
    ApiStatus::kKeyExpired,
    ApiStatus::kRateLimitExceeded,
    ApiStatus::kNoPermission,
    ApiStatus::kOutOfQuota,
    ApiStatus::kNotFound,
    ApiStatus::kInternalError,
};

// The wire name, e.g. "OUT_OF_QUOTA" ("UNRECOGNIZED" for kUnrecognized).
std::string_view to_string(ApiStatus status);

// The status for a wire name; nullopt for a name the spec does not have.
std::optional<ApiStatus> parse_api_status(std::string_view name);

// The HTTP status the spec's table gives for `status` (200 for kOk).
int http_status_of(ApiStatus status);

// What the runner does with a job after an answer or a failure to get one.
enum class Disposition {
  kDone,              // result stored, job done
  kPermanentFailure,  // result stored, job failed, not retried
  kRetryLater,        // transient: retried with backoff, counts an attempt
  kThrottled,         // back to the queue shortly, does not use up an attempt
  kStopForQuota,      // stop sending; job put back untouched
  kAbortCredentials,  // stop the run at once: credentials are wrong
  kAbortConfiguration,// stop the run at once: endpoint or request is wrong
};

std::string_view to_string(Disposition disposition);

// Whether `status` judges the image's bytes alone: OK (the score),
// FACE_DETECTION_FAILED and the image rules' CORRUPT_IMAGE,
// INVALID_IMAGE_FORMAT_OR_SIZE, IMAGE_FILE_SIZE_TOO_BIG. Such an answer holds
// for any identical content sent with the same auto_rotate, so the runner
// reuses it instead of paying for it again; any other answer (the request,
// the account, a download, the server's state) does not carry over.
bool is_verdict_on_image(ApiStatus status);

// DOWNLOAD_ERROR or DOWNLOAD_TIMEOUT: the server could not fetch a file_url.
bool is_download_failure(ApiStatus status);

// The disposition of an answer with API status `status`. DOWNLOAD_ERROR and
// DOWNLOAD_TIMEOUT are transient, retried on the slow download schedule
// (RetryPolicy::download_backoff).
Disposition disposition_of(ApiStatus status);

// The disposition of an answer whose status this version does not know:
// transient (retried) when the HTTP status is 5xx, else a permanent failure
// stored under the server's own code.
Disposition disposition_of_unrecognized(int http_status);

// Failures that never produced a parseable API answer.
enum class TransportFailure {
  kConnectFailed,     // refused, unreachable, DNS, TLS handshake
  kTimeout,           // connect, write or read timed out
  kConnectionLost,    // reset or closed before a complete response
  kMalformedResponse, // a response whose body is not the API's JSON
  kLocalFileError,    // the job's own file could not be read while sending
  kGatewayError,      // 5xx without the API's JSON: a proxy or load balancer in
                      // front of the API answered for it (502, 503, 504...)
  kGatewayRejected,   // 413, 414 or 431 without the API's JSON: a gateway refused
                      // the request's size before it reached the API
  kRedirected,        // a 3xx: the endpoint has moved (or is http for https)
  kTlsCertificateRejected,  // the endpoint's certificate failed verification
};

inline constexpr TransportFailure kAllTransportFailures[] = {
    TransportFailure::kConnectFailed,     TransportFailure::kTimeout,
    TransportFailure::kConnectionLost,    TransportFailure::kMalformedResponse,
    TransportFailure::kLocalFileError,    TransportFailure::kGatewayError,
    TransportFailure::kGatewayRejected,   TransportFailure::kRedirected,
    TransportFailure::kTlsCertificateRejected,
};

std::string_view to_string(TransportFailure failure);

// The failure for a name to_string gives; nullopt for any other name.
std::optional<TransportFailure> parse_transport_failure(std::string_view name);

// Transport failures are transient (retried), except: a local file that
// cannot be read and a request a gateway refused for its size fail their own
// job; a redirect stops the run (the endpoint is wrong), and so does a
// certificate that failed verification: retrying cannot heal it (expired,
// for another host, signed by a CA not trusted); the fix is the endpoint or
// ca_file.
Disposition disposition_of(TransportFailure failure);

// Whether `failure` says the service (or the way to it) is down rather than
// anything about the job: no connection, a reset, a timeout, a gateway's 5xx.
// A run of these in a row opens the runner's circuit (core/circuit_breaker.h).
bool is_outage(TransportFailure failure);

}  // namespace lf
