// A probe of the API endpoint that costs no quota: resolve its host, open a
// TCP connection (through the HTTP proxy the environment names, as the
// client does), complete the TLS handshake with the certificate verified as
// ApiClient verifies it, then send one GET of the API path without any
// credentials. The API takes only POSTs carrying api_id and api_secret: a
// GET is no verification, and without credentials the server has no account
// to count it against, so it cannot be billed. lfemu answers it 400
// INVALID_ARGUMENT before authenticating (and NOT_FOUND on a wrong path).
// For `lfbatch doctor`. Asio and Beast stay in endpoint_probe.cc.
#pragma once

#include <cstdint>
#include <string>

namespace lf {

struct ProbeOptions {
  std::string endpoint;             // full URL of the API path
  bool insecure = false;            // skip certificate verification
  std::string ca_file;              // extra trusted CAs (PEM)
  std::int64_t timeout_ms = 10'000; // for each step
  bool use_environment_proxy = true;
};

// How far the probe got. Steps run in this order; the first that fails ends it.
enum class ProbeStep {
  kEndpoint,  // the URL parses (and the proxy variables, if any)
  kResolve,   // DNS
  kConnect,   // TCP (and the proxy's CONNECT tunnel)
  kTls,       // handshake and certificate (https only)
  kHttp,      // the GET got an HTTP answer
  kDone,
};

struct ProbeResult {
  ProbeStep failed_at = ProbeStep::kDone;  // kDone: every step passed
  std::string error;        // why the failed step failed (never the secret: none is sent)
  bool tls = false;         // an https endpoint
  std::string host;         // the endpoint's host
  std::string address;      // the address connected to ("1.2.3.4:443")
  std::string proxy;        // "host:port" when a proxy was used, else empty
  std::string tls_version;  // e.g. "TLSv1.3"
  std::string peer;         // the certificate's subject, e.g. "CN=cloudapi.linkface.cn"
  int http_status = 0;      // the GET's answer
  std::string api_status;   // the "status" field of a JSON answer, if any (e.g. "INVALID_ARGUMENT")
};

// Runs the probe on a private io_context. Blocks for at most about
// 4 x timeout_ms. Never throws.
ProbeResult probe_endpoint(const ProbeOptions& options);

}  // namespace lf
