// The endpoint probe over Asio/Beast: resolve, connect (or tunnel), TLS
// handshake with verification, one credential-less GET.
#include "api/endpoint_probe.h"

#include <chrono>
#include <cstdlib>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "api/endpoint.h"
#include "api/tls_context.h"

namespace lf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string message_of(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

std::string certificate_subject(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  X509_free(cert);
  return buf;
}

class Probe {
 public:
  Probe(const ProbeOptions& options, ProbeResult& result) : options_(options), r_(result) {}

  asio::awaitable<void> run() {
    auto endpoint = parse_endpoint(options_.endpoint);
    if (!endpoint) co_return fail(ProbeStep::kEndpoint, endpoint.error().message);
    r_.tls = endpoint->tls;
    r_.host = endpoint->host;
    std::optional<ProxyServer> proxy;
    if (options_.use_environment_proxy) {
      auto selected = select_proxy(*endpoint, proxy_environment_from(
          [](const char* name) -> const char* { return std::getenv(name); }));
      if (!selected) co_return fail(ProbeStep::kEndpoint, selected.error().message);
      proxy = std::move(selected.value());
    }
    const std::string host = proxy ? proxy->host : endpoint->host;
    const std::uint16_t port = proxy ? proxy->port : endpoint->port;
    if (proxy) r_.proxy = proxy->authority();

    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [resolve_ec, results] = co_await resolver.async_resolve(host, std::to_string(port), kUseTuple);
    if (resolve_ec) co_return fail(ProbeStep::kResolve, "cannot resolve " + host + ": " + resolve_ec.message());

    beast::tcp_stream stream(executor);
    stream.expires_after(timeout());
    auto [connect_ec, peer] = co_await stream.async_connect(results, kUseTuple);
    if (connect_ec) {
      co_return fail(ProbeStep::kConnect, "cannot connect to " + host + ":" + std::to_string(port) +
                                              ": " + message_of(connect_ec));
    }
    r_.address = peer.address().to_string() + ":" + std::to_string(peer.port());
    if (proxy && endpoint->tls) {
      if (!co_await tunnel(stream, *endpoint, *proxy)) co_return;
    }

    if (!endpoint->tls) co_return co_await get(stream, *endpoint, proxy.has_value());

    auto context = make_tls_client_context(options_.insecure, options_.ca_file);
    if (!context) co_return fail(ProbeStep::kTls, context.error().message);
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), **context);
    SSL* native = tls.native_handle();
    if (!is_ip_literal(endpoint->host)) SSL_set_tlsext_host_name(native, endpoint->host.c_str());
    if (!options_.insecure) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (is_ip_literal(endpoint->host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, endpoint->host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, endpoint->host.c_str(), endpoint->host.size());
      }
    }
    beast::get_lowest_layer(tls).expires_after(timeout());
    auto [handshake_ec] = co_await tls.async_handshake(ssl::stream_base::client, kUseTuple);
    if (handshake_ec) {
      std::string detail = message_of(handshake_ec);
      const long verify = SSL_get_verify_result(native);
      if (verify != X509_V_OK) {
        detail += std::string(" (certificate verification: ") + X509_verify_cert_error_string(verify) + ")";
      }
      co_return fail(ProbeStep::kTls, "TLS handshake with " + endpoint->authority() + " failed: " + detail);
    }
    r_.tls_version = SSL_get_version(native);
    r_.peer = certificate_subject(native);
    co_await get(tls, *endpoint, false);
    beast::get_lowest_layer(tls).expires_after(timeout());
    co_await tls.async_shutdown(kUseTuple);  // errors here say nothing about the endpoint
  }

 private:
  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(options_.timeout_ms); }

  void fail(ProbeStep step, std::string error) {
    r_.failed_at = step;
    r_.error = std::move(error);
  }

  asio::awaitable<bool> tunnel(beast::tcp_stream& stream, const Endpoint& endpoint, const ProxyServer& proxy) {
    http::request<http::empty_body> request{http::verb::connect, endpoint.authority(), 11};
    request.set(http::field::host, endpoint.authority());
    request.set(http::field::user_agent, "lfbatch-doctor/" LF_VERSION);
    if (!proxy.authorization.empty()) request.set(http::field::proxy_authorization, proxy.authorization);
    stream.expires_after(timeout());
    auto [write_ec, written] = co_await http::async_write(stream, request, kUseTuple);
    (void)written;
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    boost::system::error_code ec = write_ec;
    if (!ec) {
      auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      (void)read;
      ec = read_ec;
    }
    if (ec) {
      fail(ProbeStep::kConnect, "CONNECT to " + endpoint.authority() + " through proxy " +
                                    proxy.authority() + " failed: " + message_of(ec));
      co_return false;
    }
    if (parser.get().result_int() / 100 != 2) {
      fail(ProbeStep::kConnect, "proxy " + proxy.authority() + " refused CONNECT to " + endpoint.authority() +
                                    ": " + std::to_string(parser.get().result_int()));
      co_return false;
    }
    co_return true;
  }

  // One GET of the API path, no credentials, no body.
  template <typename Stream>
  asio::awaitable<void> get(Stream& stream, const Endpoint& endpoint, bool absolute_form) {
    http::request<http::empty_body> request{http::verb::get,
                                            absolute_form ? endpoint.absolute_url() : endpoint.target, 11};
    request.set(http::field::host, endpoint.host_header());
    request.set(http::field::user_agent, "lfbatch-doctor/" LF_VERSION);
    request.set(http::field::accept, "application/json");
    request.set(http::field::connection, "close");
    beast::get_lowest_layer(stream).expires_after(timeout());
    auto [write_ec, written] = co_await http::async_write(stream, request, kUseTuple);
    (void)written;
    if (write_ec) co_return fail(ProbeStep::kHttp, "sending GET " + endpoint.target + ": " + message_of(write_ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    (void)read;
    if (read_ec) {
      co_return fail(ProbeStep::kHttp, "no HTTP answer to GET " + endpoint.target + ": " + message_of(read_ec));
    }
    r_.http_status = parser.get().result_int();
    auto body = nlohmann::json::parse(parser.get().body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_object() && body.contains("status") && body["status"].is_string()) {
      r_.api_status = body["status"].template get<std::string>();
    }
  }

  const ProbeOptions& options_;
  ProbeResult& r_;
};

}  // namespace

ProbeResult probe_endpoint(const ProbeOptions& options) {
  ProbeResult result;
  try {
    asio::io_context io;
    Probe probe(options, result);
    asio::co_spawn(io, probe.run(), [&result](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        result.failed_at = ProbeStep::kHttp;
        result.error = ex.what();
      }
    });
    io.run();
  } catch (const std::exception& e) {
    result.failed_at = result.failed_at == ProbeStep::kDone ? ProbeStep::kHttp : result.failed_at;
    result.error = e.what();
  }
  return result;
}

}  // namespace lf
