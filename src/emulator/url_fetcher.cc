// file_url downloads for lfemu, with Beast.
#include "emulator/url_fetcher.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

// GCC 12 at -O2 reports Asio's awaitable frame (operator new / sized
// operator delete of awaitable_frame_base) as mismatched: a false positive
// (GCC bug 109224 family) that -Werror would turn into a failed build.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace lf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

DownloadResult failure(DownloadResult::Kind kind, std::string detail) {
  DownloadResult r;
  r.kind = kind;
  r.detail = std::move(detail);
  return r;
}

DownloadResult from_error(const beast::error_code& ec, std::string_view step) {
  if (ec == beast::error::timeout) return failure(DownloadResult::Kind::kTimeout, "timed out");
  return failure(DownloadResult::Kind::kError, std::string(step) + ": " + ec.message());
}

}  // namespace

asio::awaitable<DownloadResult> fetch_url(DownloadRequest request) {
  auto url = boost::urls::parse_absolute_uri(request.url);
  if (!url || url->scheme_id() != boost::urls::scheme::http) {
    co_return failure(DownloadResult::Kind::kError, "only http:// URLs can be fetched");
  }
  std::string host = url->host_address();
  if (url->host_type() == boost::urls::host_type::ipv6 && host.size() > 2 &&
      host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
  auto deadline = std::chrono::steady_clock::now() + request.timeout;

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(host, port, kAsTuple);
  if (rec) co_return failure(DownloadResult::Kind::kError, "cannot resolve " + host);
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) {
    if (request.allow_remote || entry.endpoint().address().is_loopback()) {
      endpoints.push_back(entry.endpoint());
    }
  }
  if (endpoints.empty()) {
    co_return failure(DownloadResult::Kind::kError,
                      "host " + host + " does not resolve to a loopback address");
  }

  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  auto [cec, endpoint] = co_await stream.async_connect(endpoints, kAsTuple);
  if (cec) co_return from_error(cec, "connect");

  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, url->encoded_host_and_port());
  req.set(http::field::user_agent, "lfemu");
  req.set(http::field::connection, "close");
  stream.expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, req, kAsTuple);
  if (wec) co_return from_error(wec, "send");

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_bytes);
  stream.expires_at(deadline);
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kAsTuple);
  // A Content-Length over the limit already fails the header.
  if (hec == http::error::body_limit) {
    co_return failure(DownloadResult::Kind::kTooBig,
                      "over " + std::to_string(request.max_bytes) + " bytes");
  }
  if (hec) co_return from_error(hec, "read");
  if (parser.get().result_int() != 200) {
    co_return failure(DownloadResult::Kind::kError,
                      "HTTP " + std::to_string(parser.get().result_int()) + " from " + host);
  }
  auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kAsTuple);
  if (bec == http::error::body_limit) {
    co_return failure(DownloadResult::Kind::kTooBig, "over " + std::to_string(request.max_bytes) +
                                                         " bytes");
  }
  if (bec) co_return from_error(bec, "read");
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  DownloadResult ok;
  ok.kind = DownloadResult::Kind::kOk;
  ok.bytes = std::move(parser.get().body());
  co_return ok;
}

}  // namespace lf
