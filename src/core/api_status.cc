// The spec's error table as data.
#include "core/api_status.h"

#include <array>

namespace lf {
namespace {

struct Row {
  ApiStatus status;
  std::string_view name;
  int http_status;
  Disposition disposition;
  // The answer is a verdict on the image's bytes alone (not on the request,
  // the account or the moment): the same bytes with the same auto_rotate get
  // it again, so it may be reused for identical content.
  bool verdict_on_image;
};

// One row per status code of the spec, in the spec's order.
constexpr std::array<Row, 18> kTable = {{
    {ApiStatus::kOk, "OK", 200, Disposition::kDone, true},
    {ApiStatus::kFaceDetectionFailed, "FACE_DETECTION_FAILED", 400, Disposition::kPermanentFailure, true},
    {ApiStatus::kEncodingError, "ENCODING_ERROR", 400, Disposition::kPermanentFailure, false},
    {ApiStatus::kDownloadTimeout, "DOWNLOAD_TIMEOUT", 400, Disposition::kRetryLater, false},
    {ApiStatus::kDownloadError, "DOWNLOAD_ERROR", 400, Disposition::kRetryLater, false},
    {ApiStatus::kImageFileSizeTooBig, "IMAGE_FILE_SIZE_TOO_BIG", 400, Disposition::kPermanentFailure, true},
    {ApiStatus::kImageIdNotExist, "IMAGE_ID_NOT_EXIST", 400, Disposition::kPermanentFailure, false},
    {ApiStatus::kCorruptImage, "CORRUPT_IMAGE", 400, Disposition::kPermanentFailure, true},
    {ApiStatus::kInvalidImageFormatOrSize, "INVALID_IMAGE_FORMAT_OR_SIZE", 400, Disposition::kPermanentFailure, true},
    {ApiStatus::kInvalidArgument, "INVALID_ARGUMENT", 400, Disposition::kPermanentFailure, false},
    {ApiStatus::kUnauthorized, "UNAUTHORIZED", 401, Disposition::kAbortCredentials, false},
    {ApiStatus::kKeyExpired, "KEY_EXPIRED", 401, Disposition::kAbortCredentials, false},
    {ApiStatus::kRateLimitExceeded, "RATE_LIMIT_EXCEEDED", 403, Disposition::kThrottled, false},
    {ApiStatus::kNoPermission, "NO_PERMISSION", 403, Disposition::kAbortCredentials, false},
    {ApiStatus::kOutOfQuota, "OUT_OF_QUOTA", 403, Disposition::kStopForQuota, false},
    {ApiStatus::kNotFound, "NOT_FOUND", 404, Disposition::kAbortConfiguration, false},
    {ApiStatus::kInternalError, "INTERNAL_ERROR", 500, Disposition::kRetryLater, false},
    // Not the spec's: a status this version does not know (see
    // disposition_of_unrecognized for what the runner does with it).
    {ApiStatus::kUnrecognized, "UNRECOGNIZED", 0, Disposition::kPermanentFailure, false},
}};

const Row& row_of(ApiStatus status) {
  return kTable[static_cast<std::size_t>(status)];
}

}  // namespace

std::string_view to_string(ApiStatus status) { return row_of(status).name; }

std::optional<ApiStatus> parse_api_status(std::string_view name) {
  for (const Row& row : kTable) {
    if (row.status == ApiStatus::kUnrecognized) continue;
    if (row.name == name) return row.status;
  }
  return std::nullopt;
}

int http_status_of(ApiStatus status) { return row_of(status).http_status; }

Disposition disposition_of(ApiStatus status) { return row_of(status).disposition; }

Disposition disposition_of_unrecognized(int http_status) {
  return http_status >= 500 ? Disposition::kRetryLater : Disposition::kPermanentFailure;
}

bool is_verdict_on_image(ApiStatus status) { return row_of(status).verdict_on_image; }

bool is_download_failure(ApiStatus status) {
  return status == ApiStatus::kDownloadError || status == ApiStatus::kDownloadTimeout;
}

std::string_view to_string(Disposition disposition) {
  switch (disposition) {
    case Disposition::kDone: return "done";
    case Disposition::kPermanentFailure: return "permanent_failure";
    case Disposition::kRetryLater: return "retry_later";
    case Disposition::kThrottled: return "throttled";
    case Disposition::kStopForQuota: return "stop_for_quota";
    case Disposition::kAbortCredentials: return "abort_credentials";
    case Disposition::kAbortConfiguration: return "abort_configuration";
  }
  return "unknown";
}

std::string_view to_string(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kConnectFailed: return "CONNECT_FAILED";
    case TransportFailure::kTimeout: return "TIMEOUT";
    case TransportFailure::kConnectionLost: return "CONNECTION_LOST";
    case TransportFailure::kMalformedResponse: return "MALFORMED_RESPONSE";
    case TransportFailure::kLocalFileError: return "LOCAL_FILE_ERROR";
    case TransportFailure::kGatewayError: return "GATEWAY_ERROR";
    case TransportFailure::kGatewayRejected: return "GATEWAY_REJECTED";
    case TransportFailure::kRedirected: return "REDIRECTED";
    case TransportFailure::kTlsCertificateRejected: return "TLS_CERTIFICATE_REJECTED";
  }
  return "UNKNOWN";
}

std::optional<TransportFailure> parse_transport_failure(std::string_view name) {
  for (TransportFailure failure : kAllTransportFailures) {
    if (to_string(failure) == name) return failure;
  }
  return std::nullopt;
}

Disposition disposition_of(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kLocalFileError:
    case TransportFailure::kGatewayRejected: return Disposition::kPermanentFailure;
    case TransportFailure::kRedirected:
    case TransportFailure::kTlsCertificateRejected: return Disposition::kAbortConfiguration;
    case TransportFailure::kConnectFailed:
    case TransportFailure::kTimeout:
    case TransportFailure::kConnectionLost:
    case TransportFailure::kMalformedResponse:
    case TransportFailure::kGatewayError: return Disposition::kRetryLater;
  }
  return Disposition::kRetryLater;
}

bool is_outage(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kConnectFailed:
    case TransportFailure::kTimeout:
    case TransportFailure::kConnectionLost:
    case TransportFailure::kGatewayError: return true;
    case TransportFailure::kMalformedResponse:
    case TransportFailure::kLocalFileError:
    case TransportFailure::kGatewayRejected:
    case TransportFailure::kRedirected:
    case TransportFailure::kTlsCertificateRejected: return false;
  }
  return false;
}

}  // namespace lf
