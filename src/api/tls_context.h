// The TLS client settings of every connection lfbatch makes to the API
// (ApiClient) or probes (lfbatch doctor): TLS 1.2 and up, the system's
// trusted CAs plus an optional extra bundle, the peer verified unless told
// not to. One place, so the doctor checks exactly what a run will meet.
// Included only by the .cc files that use Asio's SSL (api_client.cc,
// endpoint_probe.cc).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/result.h"

namespace lf {

// A client context as described above. `ca_file`: a PEM bundle of extra
// trusted CAs (empty: none). Errors name the bundle and what is wrong with it.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_client_context(
    bool insecure, const std::string& ca_file);

// What a user reads when the certificate of `authority` (host:port) failed
// verification: the host, OpenSSL's verify error (`verify_error`, e.g.
// X509_V_ERR_CERT_HAS_EXPIRED, and its text) and the fix for that error:
// the endpoint's host for a name mismatch, the server's operator for an
// expired or not yet valid certificate, --ca-file / the config's "ca_file"
// for an issuer not trusted. Pure.
std::string certificate_rejected_detail(const std::string& authority, long verify_error,
                                        const std::string& verify_text);

}  // namespace lf
