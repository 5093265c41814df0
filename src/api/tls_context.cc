// TLS client settings; see tls_context.h.
#include "api/tls_context.h"

#include <filesystem>
#include <system_error>

#include <openssl/x509_vfy.h>

namespace lf {

namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<ssl::context>> make_tls_client_context(bool insecure,
                                                              const std::string& ca_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  if (insecure) {
    context->set_verify_mode(ssl::verify_none, ec);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer, ec);
  context->set_default_verify_paths(ec);
  if (ec) return Error{"cannot load the system's trusted certificates: " + ec.message()};
  if (!ca_file.empty()) {
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(ca_file, fs_ec)) {
      return Error{"ca_file '" + ca_file +
                   "' does not exist or is not a file: give a PEM bundle of extra trusted CAs"};
    }
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return Error{"ca_file '" + ca_file + "' is not a PEM certificate bundle (" + ec.message() +
                   ")"};
    }
  }
  return context;
}

std::string certificate_rejected_detail(const std::string& authority, long verify_error,
                                        const std::string& verify_text) {
  std::string fix;
  switch (verify_error) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      fix = "the certificate is for another host: check the endpoint's host name (--endpoint or "
            "the config's \"endpoint\")";
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      fix = "the server must renew its certificate (or this machine's clock is wrong); if you "
            "trust it anyway, --insecure skips verification, never in production";
      break;
    default:
      fix = "if the endpoint is right and a private CA signs it, pass that CA's PEM bundle with "
            "--ca-file FILE or the config's \"ca_file\"";
      break;
  }
  return "TLS certificate of " + authority + " rejected (" + verify_text +
         "); retrying cannot help, jobs stay queued: " + fix;
}

}  // namespace lf
