#include "core/api_status.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ApiStatus, EveryNameRoundTrips) {
  for (ApiStatus s : kAllApiStatuses) {
    auto parsed = parse_api_status(to_string(s));
    ASSERT_TRUE(parsed.has_value()) << to_string(s);
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_FALSE(parse_api_status("SOMETHING_ELSE").has_value());
}

TEST(ApiStatus, HttpStatusesFollowTheSpecTable) {
  EXPECT_EQ(http_status_of(ApiStatus::kOk), 200);
  EXPECT_EQ(http_status_of(ApiStatus::kFaceDetectionFailed), 400);
  EXPECT_EQ(http_status_of(ApiStatus::kInvalidArgument), 400);
  EXPECT_EQ(http_status_of(ApiStatus::kUnauthorized), 401);
  EXPECT_EQ(http_status_of(ApiStatus::kKeyExpired), 401);
  EXPECT_EQ(http_status_of(ApiStatus::kRateLimitExceeded), 403);
  EXPECT_EQ(http_status_of(ApiStatus::kNoPermission), 403);
  EXPECT_EQ(http_status_of(ApiStatus::kOutOfQuota), 403);
  EXPECT_EQ(http_status_of(ApiStatus::kNotFound), 404);
  EXPECT_EQ(http_status_of(ApiStatus::kInternalError), 500);
}

TEST(Disposition, ClassifiesEveryCode) {
  using D = Disposition;
  EXPECT_EQ(disposition_of(ApiStatus::kOk), D::kDone);
  for (ApiStatus s : {ApiStatus::kFaceDetectionFailed, ApiStatus::kCorruptImage,
                      ApiStatus::kInvalidImageFormatOrSize, ApiStatus::kImageFileSizeTooBig,
                      ApiStatus::kImageIdNotExist, ApiStatus::kInvalidArgument,
                      ApiStatus::kEncodingError}) {
    EXPECT_EQ(disposition_of(s), D::kPermanentFailure) << to_string(s);
  }
  EXPECT_EQ(disposition_of(ApiStatus::kInternalError), D::kRetryLater);
  EXPECT_EQ(disposition_of(ApiStatus::kDownloadTimeout), D::kRetryLater);
  EXPECT_EQ(disposition_of(ApiStatus::kDownloadError), D::kRetryLater);
  EXPECT_TRUE(is_download_failure(ApiStatus::kDownloadError));
  EXPECT_TRUE(is_download_failure(ApiStatus::kDownloadTimeout));
  EXPECT_FALSE(is_download_failure(ApiStatus::kInternalError));
  EXPECT_EQ(disposition_of(ApiStatus::kRateLimitExceeded), D::kThrottled);
  EXPECT_EQ(disposition_of(ApiStatus::kOutOfQuota), D::kStopForQuota);
  EXPECT_EQ(disposition_of(ApiStatus::kUnauthorized), D::kAbortCredentials);
  EXPECT_EQ(disposition_of(ApiStatus::kKeyExpired), D::kAbortCredentials);
  EXPECT_EQ(disposition_of(ApiStatus::kNoPermission), D::kAbortCredentials);
  EXPECT_EQ(disposition_of(ApiStatus::kNotFound), D::kAbortConfiguration);
}

TEST(Disposition, AnUnrecognizedStatusIsRetriedOnlyWhenTheHttpStatusIsAServerError) {
  EXPECT_EQ(disposition_of_unrecognized(503), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of_unrecognized(400), Disposition::kPermanentFailure);
  EXPECT_EQ(disposition_of_unrecognized(200), Disposition::kPermanentFailure);
  EXPECT_FALSE(parse_api_status("UNRECOGNIZED"));  // never a wire name
  for (ApiStatus s : kAllApiStatuses) EXPECT_NE(s, ApiStatus::kUnrecognized);
}

TEST(Disposition, OutagesAreTheServicesAndGatewayRefusalsAndRedirectsAreNotRetried) {
  EXPECT_TRUE(is_outage(TransportFailure::kConnectFailed));
  EXPECT_TRUE(is_outage(TransportFailure::kTimeout));
  EXPECT_TRUE(is_outage(TransportFailure::kConnectionLost));
  EXPECT_TRUE(is_outage(TransportFailure::kGatewayError));
  EXPECT_FALSE(is_outage(TransportFailure::kMalformedResponse));
  EXPECT_FALSE(is_outage(TransportFailure::kGatewayRejected));
  EXPECT_FALSE(is_outage(TransportFailure::kLocalFileError));
  EXPECT_EQ(disposition_of(TransportFailure::kGatewayError), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of(TransportFailure::kGatewayRejected), Disposition::kPermanentFailure);
  EXPECT_EQ(disposition_of(TransportFailure::kRedirected), Disposition::kAbortConfiguration);
}

TEST(Disposition, TransportFailuresAreTransientButALocalFileErrorIsNot) {
  EXPECT_EQ(disposition_of(TransportFailure::kConnectionLost), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of(TransportFailure::kTimeout), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of(TransportFailure::kMalformedResponse), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of(TransportFailure::kConnectFailed), Disposition::kRetryLater);
  EXPECT_EQ(disposition_of(TransportFailure::kLocalFileError), Disposition::kPermanentFailure);
}

TEST(Disposition, ARejectedCertificateStopsTheRunAsAConfigurationError) {
  // Retrying cannot heal an expired certificate or one for another host.
  EXPECT_EQ(disposition_of(TransportFailure::kTlsCertificateRejected),
            Disposition::kAbortConfiguration);
}

TEST(TransportFailureNames, EveryNameRoundTripsAndOthersAreRefused) {
  EXPECT_EQ(to_string(TransportFailure::kTlsCertificateRejected), "TLS_CERTIFICATE_REJECTED");
  for (TransportFailure failure : kAllTransportFailures) {
    EXPECT_EQ(parse_transport_failure(to_string(failure)), failure) << to_string(failure);
  }
  EXPECT_FALSE(parse_transport_failure("OK").has_value());
  EXPECT_FALSE(parse_transport_failure("timeout").has_value());
}

}  // namespace
}  // namespace lf

namespace lf {
namespace {

TEST(VerdictOnImage, OnlyAnswersAboutTheBytesCarryOverToIdenticalContent) {
  int verdicts = 0;
  for (ApiStatus s : kAllApiStatuses) verdicts += is_verdict_on_image(s) ? 1 : 0;
  EXPECT_EQ(verdicts, 5);
  EXPECT_TRUE(is_verdict_on_image(ApiStatus::kOk));
  EXPECT_TRUE(is_verdict_on_image(ApiStatus::kFaceDetectionFailed));
  EXPECT_TRUE(is_verdict_on_image(ApiStatus::kCorruptImage));
  EXPECT_TRUE(is_verdict_on_image(ApiStatus::kInvalidImageFormatOrSize));
  EXPECT_TRUE(is_verdict_on_image(ApiStatus::kImageFileSizeTooBig));
  // The parameters' encoding, a download, an id, the account, the server's
  // state: the same bytes may get another answer next time.
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kEncodingError));
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kDownloadError));
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kImageIdNotExist));
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kInvalidArgument));
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kRateLimitExceeded));
  EXPECT_FALSE(is_verdict_on_image(ApiStatus::kInternalError));
}

}  // namespace
}  // namespace lf
