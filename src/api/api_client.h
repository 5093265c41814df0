// The client of the handhold_idcard_verification API: sends one job as a
// multipart/form-data POST over HTTP or HTTPS (keep-alive pool, timeouts,
// HTTP(S)_PROXY: CONNECT tunnel for https, absolute-form requests for http)
// and turns what comes back into an Outcome.
// Beast stays in api_client.cc; this header only needs Asio's awaitable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/job.h"
#include "core/outcome.h"
#include "core/result.h"
#include "api/multipart_body.h"

namespace lf {

struct ClientOptions {
  std::string endpoint;          // full URL of the API path, http:// or https://
  std::string api_id;
  std::string api_secret;        // sent in the form body only, never in the URL or logs
  std::int64_t connect_timeout_ms = 10'000;
  std::int64_t request_timeout_ms = 60'000;
  bool insecure = false;         // skip certificate verification
  std::string ca_file;           // extra trusted CAs (PEM), added to the system store
  std::string proxy;             // http://[user:pass@]host:port, used for every request;
                                 // empty: from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (loopback direct)
  bool use_environment_proxy = true;
  int max_idle_connections = 64; // keep-alive pool size
};

class ApiClient {
 public:
  // Validates `options` (endpoint URL, CA file, proxy URL). Errors name the
  // bad value and the fix.
  static Result<std::unique_ptr<ApiClient>> create(boost::asio::any_io_executor executor,
                                                   ClientOptions options);
  virtual ~ApiClient() = default;

  // Sends one request for `job` and waits for its answer. Never throws:
  // every failure is an Outcome with a TransportFailure. A path job's file
  // is streamed from disk. Safe to call concurrently from many coroutines
  // on the executor given to create() (single-threaded io_context).
  // REQUIRES: `job` and this client outlive the returned awaitable.
  // One call is one attempt as far as the server's answer goes: the request
  // is sent a second time only when a pooled keep-alive connection turns
  // out to be closed before any byte of a response came back (then it goes
  // on a fresh connection, once). started_at/finished_at span the call.
  // A missing or unreadable file is kLocalFileError before any connection
  // is used; failure_detail names the peer or the file, never the secret.
  // `payload` says what to send when not the job's source as it stands:
  // a path job's prepared bytes (nothing read from disk), or an image_id
  // (file_id) in place of them (multipart_body.h).
  // REQUIRES: what `payload` points to outlives the returned awaitable.
  virtual boost::asio::awaitable<Outcome> verify(const Job& job, const Payload& payload) = 0;
  // verify(job, {}): the job's source as it stands.
  boost::asio::awaitable<Outcome> verify(const Job& job);

  // Closes idle pooled connections (for a clean shutdown).
  virtual void close_idle() = 0;
};

}  // namespace lf
