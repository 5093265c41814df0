// The Beast HTTP/HTTPS transport of ApiClient: a keep-alive pool of
// connections (direct, or through an HTTP proxy: CONNECT tunnel for https,
// absolute-form requests for http), TLS with verification, timeouts on every
// operation, and the mapping of every failure to a TransportFailure.
#include "api/api_client.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "api/endpoint.h"
#include "api/multipart_body.h"
#include "api/multipart_body_beast.h"
#include "api/response_parser.h"
#include "api/tls_context.h"

namespace lf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kMaxResponseBody = 1 << 20;
constexpr auto kResolveTtl = std::chrono::seconds(60);

UnixMillis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// What went wrong with one step, before it becomes an Outcome.
struct Failure {
  TransportFailure kind = TransportFailure::kConnectFailed;
  std::string detail;
  // The request may be sent again on a fresh connection: a reused
  // connection broke while the request was being written, so the server
  // cannot have acted on it. Once the request is fully written it is never
  // resent here (a POST is not idempotent: the server may have verified it
  // and counted it against the quota); the runner records that attempt and
  // retries it as one.
  bool before_response = false;
};

// One connection to the endpoint, direct or tunnelled. Exactly one of
// `plain` and `tls` is set. Owned by one request at a time, or by the pool.
struct Connection {
  std::unique_ptr<PlainStream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;  // empty between requests

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// A response as read off the wire.
struct Response {
  int http_status = 0;
  std::string body;
  std::optional<std::string> retry_after;
  std::optional<std::string> location;
  std::optional<std::string> server;
  std::optional<std::string> content_type;
  bool keep_alive = false;

  ResponseHead head() const {
    auto view = [](const std::optional<std::string>& s) {
      return s ? std::optional<std::string_view>(*s) : std::nullopt;
    };
    return ResponseHead{http_status, view(retry_after), view(location), view(server),
                        view(content_type)};
  }
};

// Timeouts and truncations look different through TLS; this sees through.
bool is_timeout(const boost::system::error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::timed_out;
}

std::string describe_ssl_error(const boost::system::error_code& ec, SSL* ssl) {
  std::string detail = ec.message();
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      detail += std::string(" (certificate verification: ") +
                X509_verify_cert_error_string(verify) + ")";
    }
  }
  return detail;
}

}  // namespace

asio::awaitable<Outcome> ApiClient::verify(const Job& job) {
  // A coroutine of its own, so the payload lives until the call completes;
  // a named local, since GCC 12 destroys a temporary inside a co_await
  // expression twice.
  const Payload as_it_stands;
  co_return co_await verify(job, as_it_stands);
}

namespace {

class BeastApiClient final : public ApiClient {
 public:
  BeastApiClient(asio::any_io_executor executor, ClientOptions options, Endpoint endpoint,
                 std::optional<ProxyServer> proxy, std::unique_ptr<ssl::context> tls_context)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        proxy_(std::move(proxy)),
        tls_context_(std::move(tls_context)),
        resolver_(executor_) {}

  asio::awaitable<Outcome> verify(const Job& job, const Payload& payload) override {
    Outcome outcome;
    outcome.job_id = job.id;
    outcome.started_at = now_ms();
    try {
      co_await send(job, payload, outcome);
    } catch (const std::exception& e) {
      outcome.answer.reset();
      outcome.failure = TransportFailure::kConnectionLost;
      outcome.failure_detail = std::string("unexpected error: ") + e.what();
    }
    outcome.finished_at = now_ms();
    co_return outcome;
  }

  void close_idle() override { idle_.clear(); }

 private:
  asio::awaitable<void> send(const Job& job, const Payload& payload, Outcome& outcome) {
    auto form = build_multipart_form(job, payload, options_.api_id, options_.api_secret,
                                     random_multipart_boundary());
    if (!form) {
      outcome.failure = TransportFailure::kLocalFileError;
      outcome.failure_detail = form.error().message;
      co_return;
    }
    http::request<MultipartBody> request{http::verb::post, endpoint_.target, 11};
    const bool absolute_form = proxy_ && !endpoint_.tls;
    if (absolute_form) {
      request.target(endpoint_.absolute_url());
      if (!proxy_->authorization.empty()) {
        request.set(http::field::proxy_authorization, proxy_->authorization);
      }
    }
    request.set(http::field::host, endpoint_.host_header());
    request.set(http::field::user_agent, "lfbatch/" LF_VERSION);
    request.set(http::field::accept, "application/json");
    request.set(http::field::content_type, form->content_type());
    request.keep_alive(true);
    request.body().form = std::move(form.value());
    request.prepare_payload();

    // Round 0 may use a pooled connection; round 1 exists only to resend a
    // request that met a stale keep-alive connection, on a fresh one.
    for (int round = 0; round < 2; ++round) {
      std::unique_ptr<Connection> connection = round == 0 ? take_idle() : nullptr;
      const bool reused = connection != nullptr;
      if (!connection) {
        Failure failure;
        connection = co_await open_connection(failure);
        if (!connection) {
          outcome.failure = failure.kind;
          outcome.failure_detail = std::move(failure.detail);
          co_return;
        }
      }
      Failure failure;
      std::optional<Response> response = co_await exchange(*connection, request, failure);
      if (!response) {
        if (reused && failure.before_response && round == 0) continue;
        outcome.failure = failure.kind;
        outcome.failure_detail = std::move(failure.detail);
        co_return;
      }
      if (response->keep_alive) put_idle(std::move(connection));

      ResponseReading reading = read_response(response->head(), response->body, now_ms());
      if (reading.answer) {
        outcome.answer = std::move(reading.answer);
      } else {
        outcome.failure = reading.failure;
        outcome.failure_detail = "from " + endpoint_.authority() + ": " + reading.detail;
        outcome.gateway_retry_after_seconds = reading.retry_after_seconds;
      }
      co_return;
    }
  }

  // Writes `request` and reads the response within request_timeout_ms.
  asio::awaitable<std::optional<Response>> exchange(Connection& connection,
                                                    http::request<MultipartBody>& request,
                                                    Failure& failure) {
    if (connection.tls) {
      co_return co_await exchange_on(*connection.tls, connection, request, failure);
    }
    co_return co_await exchange_on(*connection.plain, connection, request, failure);
  }

  template <class Stream>
  asio::awaitable<std::optional<Response>> exchange_on(Stream& stream, Connection& connection,
                                                       http::request<MultipartBody>& request,
                                                       Failure& failure) {
    const auto timeout = std::chrono::milliseconds(options_.request_timeout_ms);
    const auto deadline = Clock::now() + timeout;
    const std::string where = endpoint_.authority();

    connection.tcp().expires_at(deadline);
    auto [write_ec, written] = co_await http::async_write(stream, request, kUseTuple);
    (void)written;
    if (write_ec) {
      if (is_local_file_error(write_ec)) {
        failure.kind = TransportFailure::kLocalFileError;
        failure.detail = request.body().error_detail;
      } else if (is_timeout(write_ec)) {
        failure.kind = TransportFailure::kTimeout;
        failure.detail = "sending the request to " + where + " timed out after " +
                         std::to_string(options_.request_timeout_ms) + " ms";
      } else {
        failure.kind = TransportFailure::kConnectionLost;
        failure.detail = "connection to " + where + " lost while sending: " + write_ec.message();
        failure.before_response = true;
      }
      co_return std::nullopt;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    connection.tcp().expires_at(deadline);
    auto [read_ec, read] = co_await http::async_read(stream, connection.buffer, parser, kUseTuple);
    (void)read;
    if (read_ec) {
      const bool nothing_received = !parser.got_some() && connection.buffer.size() == 0;
      if (is_timeout(read_ec)) {
        failure.kind = TransportFailure::kTimeout;
        failure.detail = "no complete response from " + where + " within " +
                         std::to_string(options_.request_timeout_ms) + " ms";
      } else if (read_ec == http::error::body_limit) {
        failure.kind = TransportFailure::kMalformedResponse;
        failure.detail = "the answer from " + where + " is longer than " +
                         std::to_string(kMaxResponseBody >> 20) +
                         " MB, read no further: not an answer of the API (a few hundred bytes); "
                         "check the endpoint";
      } else if (read_ec.category() == http::make_error_code(http::error::bad_version).category() &&
                 read_ec != http::error::end_of_stream && read_ec != http::error::partial_message) {
        failure.kind = TransportFailure::kMalformedResponse;
        failure.detail = "invalid HTTP response from " + where + ": " + read_ec.message();
      } else {
        failure.kind = TransportFailure::kConnectionLost;
        failure.detail = (nothing_received ? "connection to " + where +
                                                 " closed before any response: "
                                           : "connection to " + where +
                                                 " lost in the middle of the response: ") +
                         read_ec.message();
      }
      co_return std::nullopt;
    }

    auto& message = parser.get();
    Response response;
    response.http_status = static_cast<int>(message.result_int());
    response.keep_alive = message.keep_alive() && connection.buffer.size() == 0;
    auto header = [&message](http::field field) -> std::optional<std::string> {
      auto it = message.find(field);
      if (it == message.end()) return std::nullopt;
      return std::string(it->value());
    };
    response.retry_after = header(http::field::retry_after);
    response.location = header(http::field::location);
    response.server = header(http::field::server);
    response.content_type = header(http::field::content_type);
    response.body = std::move(message.body());
    co_return response;
  }

  // A pooled connection that still looks open, or nullptr.
  std::unique_ptr<Connection> take_idle() {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (looks_open(*connection)) return connection;
    }
    return nullptr;
  }

  void put_idle(std::unique_ptr<Connection> connection) {
    if (static_cast<int>(idle_.size()) < options_.max_idle_connections) {
      connection->tcp().expires_never();
      idle_.push_back(std::move(connection));
    }
  }

  // False when the peer has closed an idle connection (or sent something
  // unasked, which makes it unusable). A close still in flight is caught by
  // the write failing, which is resent once (see send()).
  static bool looks_open(Connection& connection) {
    auto& socket = connection.tcp().socket();
    if (!socket.is_open() || connection.buffer.size() != 0) return false;
    char byte;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  asio::awaitable<std::optional<tcp::resolver::results_type>> resolve(const std::string& host,
                                                                     std::uint16_t port,
                                                                     Failure& failure) {
    if (resolved_ && Clock::now() - resolved_at_ < kResolveTtl) co_return *resolved_;
    auto [ec, results] = co_await resolver_.async_resolve(host, std::to_string(port), kUseTuple);
    if (ec) {
      failure.kind = TransportFailure::kConnectFailed;
      failure.detail = "cannot resolve " + host + ": " + ec.message();
      co_return std::nullopt;
    }
    resolved_ = results;
    resolved_at_ = Clock::now();
    co_return results;
  }

  // A new connection to the endpoint: TCP (to the proxy when there is one),
  // CONNECT tunnel for https through a proxy, TLS handshake for https.
  asio::awaitable<std::unique_ptr<Connection>> open_connection(Failure& failure) {
    const std::string host = proxy_ ? proxy_->host : endpoint_.host;
    const std::uint16_t port = proxy_ ? proxy_->port : endpoint_.port;
    const std::string where = proxy_ ? "proxy " + proxy_->authority() : endpoint_.authority();
    const auto timeout = std::chrono::milliseconds(options_.connect_timeout_ms);

    auto results = co_await resolve(host, port, failure);
    if (!results) co_return nullptr;

    auto connection = std::make_unique<Connection>();
    connection->plain = std::make_unique<PlainStream>(executor_);
    connection->plain->expires_after(timeout);
    auto [connect_ec, connected] = co_await connection->plain->async_connect(*results, kUseTuple);
    (void)connected;
    if (connect_ec) {
      resolved_.reset();  // the address may have changed
      if (is_timeout(connect_ec)) {
        failure.kind = TransportFailure::kTimeout;
        failure.detail = "connecting to " + where + " timed out after " +
                         std::to_string(options_.connect_timeout_ms) + " ms";
      } else {
        failure.kind = TransportFailure::kConnectFailed;
        failure.detail = "cannot connect to " + where + ": " + connect_ec.message();
      }
      co_return nullptr;
    }
    boost::system::error_code ignored;
    connection->plain->socket().set_option(tcp::no_delay(true), ignored);

    if (proxy_ && endpoint_.tls) {
      if (!co_await open_tunnel(*connection, failure)) co_return nullptr;
    }
    if (!endpoint_.tls) co_return connection;

    connection->tls = std::make_unique<TlsStream>(std::move(*connection->plain), *tls_context_);
    connection->plain.reset();
    SSL* ssl = connection->tls->native_handle();
    if (!is_ip_literal(endpoint_.host)) {
      SSL_set_tlsext_host_name(ssl, endpoint_.host.c_str());  // SNI
    }
    if (!options_.insecure) {
      // OpenSSL checks the name itself, so a mismatch is reported as such.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (is_ip_literal(endpoint_.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), endpoint_.host.size());
      }
    }
    connection->tcp().expires_after(timeout);
    auto [handshake_ec] = co_await connection->tls->async_handshake(ssl::stream_base::client,
                                                                   kUseTuple);
    if (handshake_ec) {
      if (is_timeout(handshake_ec)) {
        failure.kind = TransportFailure::kTimeout;
        failure.detail = "TLS handshake with " + endpoint_.authority() + " timed out after " +
                         std::to_string(options_.connect_timeout_ms) + " ms";
      } else if (const long verify = SSL_get_verify_result(ssl);
                 !options_.insecure && verify != X509_V_OK) {
        failure.kind = TransportFailure::kTlsCertificateRejected;
        failure.detail = certificate_rejected_detail(endpoint_.authority(), verify,
                                                     X509_verify_cert_error_string(verify));
      } else {
        failure.kind = TransportFailure::kConnectFailed;
        failure.detail = "TLS handshake with " + endpoint_.authority() + " failed: " +
                         describe_ssl_error(handshake_ec, ssl);
      }
      co_return nullptr;
    }
    co_return connection;
  }

  // Asks the proxy for a tunnel to the endpoint (CONNECT host:port).
  asio::awaitable<bool> open_tunnel(Connection& connection, Failure& failure) {
    const std::string where = "proxy " + proxy_->authority();
    http::request<http::empty_body> request{http::verb::connect, endpoint_.authority(), 11};
    request.set(http::field::host, endpoint_.authority());
    request.set(http::field::user_agent, "lfbatch/" LF_VERSION);
    if (!proxy_->authorization.empty()) {
      request.set(http::field::proxy_authorization, proxy_->authorization);
    }
    PlainStream& stream = *connection.plain;
    stream.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
    auto [write_ec, written] = co_await http::async_write(stream, request, kUseTuple);
    (void)written;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT response has no body
    boost::system::error_code read_ec;
    if (!write_ec) {
      auto [ec, read] = co_await http::async_read(stream, connection.buffer, parser, kUseTuple);
      (void)read;
      read_ec = ec;
    }
    const auto ec = write_ec ? write_ec : read_ec;
    if (ec) {
      failure.kind = is_timeout(ec) ? TransportFailure::kTimeout : TransportFailure::kConnectFailed;
      failure.detail = "CONNECT to " + endpoint_.authority() + " through " + where +
                       " failed: " + ec.message();
      co_return false;
    }
    const auto& response = parser.get();
    if (response.result_int() / 100 != 2) {
      failure.kind = TransportFailure::kConnectFailed;
      failure.detail = where + " refused CONNECT to " + endpoint_.authority() + ": " +
                       std::to_string(response.result_int()) + " " +
                       std::string(response.reason());
      co_return false;
    }
    if (connection.buffer.size() != 0) {
      failure.kind = TransportFailure::kConnectFailed;
      failure.detail = where + " sent data after its CONNECT response";
      co_return false;
    }
    co_return true;
  }

  asio::any_io_executor executor_;
  ClientOptions options_;
  Endpoint endpoint_;
  std::optional<ProxyServer> proxy_;
  std::unique_ptr<ssl::context> tls_context_;  // set for https endpoints
  tcp::resolver resolver_;
  std::optional<tcp::resolver::results_type> resolved_;  // of the proxy, else the endpoint
  Clock::time_point resolved_at_;
  // Idle keep-alive connections, most recently used last (reused first).
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

Result<std::unique_ptr<ApiClient>> ApiClient::create(asio::any_io_executor executor,
                                                     ClientOptions options) {
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) return endpoint.error();
  if (options.connect_timeout_ms <= 0 || options.request_timeout_ms <= 0) {
    return Error{"timeouts must be positive (connect " +
                 std::to_string(options.connect_timeout_ms) + " ms, request " +
                 std::to_string(options.request_timeout_ms) + " ms)"};
  }

  std::optional<ProxyServer> proxy;
  if (!options.proxy.empty()) {
    auto parsed = parse_proxy_url(options.proxy);
    if (!parsed) return parsed.error();
    proxy = std::move(parsed.value());
  } else if (options.use_environment_proxy) {
    auto selected = select_proxy(*endpoint, proxy_environment_from(
        [](const char* name) -> const char* { return std::getenv(name); }));
    if (!selected) return selected.error();
    proxy = std::move(selected.value());
  }

  std::unique_ptr<ssl::context> tls_context;
  if (endpoint->tls) {
    auto context = make_tls_client_context(options.insecure, options.ca_file);
    if (!context) return context.error();
    tls_context = std::move(context.value());
  }
  std::unique_ptr<ApiClient> client = std::make_unique<BeastApiClient>(
      std::move(executor), std::move(options), std::move(endpoint.value()), std::move(proxy),
      std::move(tls_context));
  return client;
}

}  // namespace lf
