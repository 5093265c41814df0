// The message of a certificate that failed verification: names the host,
// OpenSSL's reason, and the fix that fits the reason.
#include "api/tls_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

namespace lf {
namespace {

using ::testing::HasSubstr;

TEST(CertificateRejectedDetail, AnUntrustedIssuerPointsAtCaFile) {
  const std::string d = certificate_rejected_detail(
      "api.example:443", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate");
  EXPECT_THAT(d, HasSubstr("api.example:443"));
  EXPECT_THAT(d, HasSubstr("(self-signed certificate)"));
  EXPECT_THAT(d, HasSubstr("--ca-file FILE or the config's \"ca_file\""));
}

TEST(CertificateRejectedDetail, ANameMismatchPointsAtTheEndpointNotAtCaFile) {
  const std::string d = certificate_rejected_detail("10.0.0.5:8443", X509_V_ERR_IP_ADDRESS_MISMATCH,
                                                    "IP address mismatch");
  EXPECT_THAT(d, HasSubstr("10.0.0.5:8443"));
  EXPECT_THAT(d, HasSubstr("certificate is for another host"));
  EXPECT_THAT(d, ::testing::Not(HasSubstr("--ca-file")));
}

TEST(CertificateRejectedDetail, AnExpiredCertificateIsTheServersToRenew) {
  const std::string d = certificate_rejected_detail("h:1", X509_V_ERR_CERT_HAS_EXPIRED,
                                                    "certificate has expired");
  EXPECT_THAT(d, HasSubstr("(certificate has expired)"));
  EXPECT_THAT(d, HasSubstr("renew"));
  EXPECT_THAT(d, HasSubstr("retrying cannot help"));
}

}  // namespace
}  // namespace lf
