// TLS client settings; see tls_context.h.
#include "api/tls_context.h"

#include <filesystem>
#include <system_error>

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

}  // namespace lf
