// lfemu's Beast server: one coroutine per connection, reading requests
// top to bottom like blocking code, with a deadline set on the stream before
// every read and write.
#include "emulator/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "emulator/url_fetcher.h"
#include "emulator/verification_service.h"

namespace lf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;

struct ServerContext {
  const ServerOptions& options;
  VerificationService& service;
  // Beyond this a too-big body is not drained any more: answer, then close.
  std::uint64_t drain_limit;
};

std::chrono::milliseconds ms(std::int64_t v) { return std::chrono::milliseconds(v); }

// The client sent something that is not HTTP/1.1 (as opposed to closing or
// going silent).
bool is_http_syntax_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

void close_now(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

// Sends `r` as its Delivery says. Returns false when the connection must not
// be used again (fault, error, or the client asked to close).
asio::awaitable<bool> send_response(beast::tcp_stream& stream, const ServerContext& ctx,
                                    ServiceResponse& r, unsigned version, bool keep_alive) {
  Delivery& d = r.delivery;
  if (d.delay.count() > 0) {
    stream.expires_never();
    asio::steady_timer timer(stream.get_executor(), d.delay);
    co_await timer.async_wait(kAsTuple);
  }
  if (d.fault == DeliveryFault::kReset) {
    beast::error_code ignored;
    stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    stream.socket().close(ignored);
    co_return false;
  }

  http::response<http::string_body> res{static_cast<http::status>(r.http_status), version};
  res.set(http::field::server, "lfemu");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : d.headers) res.set(name, value);
  res.keep_alive(keep_alive && d.fault == DeliveryFault::kNone);
  res.body() = std::move(r.body);
  res.prepare_payload();

  stream.expires_after(ms(ctx.options.write_timeout_ms));
  if (d.fault == DeliveryFault::kNone) {
    auto [ec, n] = co_await http::async_write(stream, res, kAsTuple);
    d.in_flight.reset();  // delivered: the account's slot is free
    if (ec) co_return false;
    co_return res.keep_alive();
  }

  http::response_serializer<http::string_body> serializer{res};
  auto [hec, hn] = co_await http::async_write_header(stream, serializer, kAsTuple);
  if (hec) co_return false;
  if (d.fault == DeliveryFault::kTruncate) {
    const std::string& body = res.body();
    auto [bec, bn] = co_await asio::async_write(
        stream, asio::buffer(body.data(), body.size() / 2), kAsTuple);
    (void)bec;
  } else {  // kStall: the headers promise a body that does not come
    stream.expires_never();
    asio::steady_timer timer(stream.get_executor(), d.stall);
    co_await timer.async_wait(kAsTuple);
  }
  close_now(stream);
  co_return false;
}

asio::awaitable<void> serve_connection(tcp::socket socket, const ServerContext& ctx) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::string discard;  // sink for body bytes past the limit, allocated on need
  const std::uint64_t limit = ctx.options.body_limit_bytes;

  for (;;) {
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(kHeaderLimit);
    header_parser.body_limit(boost::none);  // the body loop below enforces ours
    stream.expires_after(ms(ctx.options.header_timeout_ms));
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, header_parser, kAsTuple);
    if (hec) {
      // Closed, idle too long, or not HTTP. A request that is not HTTP gets an
      // answer saying so; the connection cannot be trusted after it.
      if (is_http_syntax_error(hec)) {
        ServiceResponse r = ctx.service.malformed_request(
            "the request is not valid HTTP/1.1: " + hec.message(), Instant::now());
        co_await send_response(stream, ctx, r, 11, false);
      }
      close_now(stream);
      co_return;
    }

    std::optional<std::uint64_t> length;
    if (auto declared = header_parser.content_length()) length = *declared;
    // A body too big even to drain is never invited.
    bool refuse_body = length && *length > ctx.drain_limit;
    const auto& header = header_parser.get();
    if (!refuse_body && beast::iequals(header[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, header.version()};
      stream.expires_after(ms(ctx.options.write_timeout_ms));
      auto [cec, cn] = co_await http::async_write(stream, cont, kAsTuple);
      if (cec) {
        close_now(stream);
        co_return;
      }
    }

    http::request_parser<http::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(boost::none);  // counted here: kept up to `limit`, then drained
    std::string body;
    bool truncated = false;
    bool reusable = true;  // the whole request was read: the connection can go on
    std::uint64_t drained = 0;
    if (refuse_body) {
      truncated = true;
      reusable = false;
    } else {
      stream.expires_after(ms(ctx.options.body_timeout_ms));
      while (!parser.is_done()) {
        std::size_t have = body.size();
        bool keep = have < limit;
        std::size_t room = kReadChunk;
        char* data;
        if (keep) {
          room = static_cast<std::size_t>(std::min<std::uint64_t>(room, limit - have));
          if (length && *length > have) {
            room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *length - have));
          }
          body.resize(have + room);
          data = body.data() + have;
        } else {
          if (discard.empty()) discard.resize(kReadChunk);
          data = discard.data();
          room = discard.size();
        }
        parser.get().body().data = data;
        parser.get().body().size = room;
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAsTuple);
        if (ec == http::error::need_buffer) ec = {};
        std::size_t got = room - parser.get().body().size;
        if (keep) {
          body.resize(have + got);
        } else {
          truncated = true;
          drained += got;
        }
        if (ec) {  // timeout, reset, malformed chunking: nothing to answer
          close_now(stream);
          co_return;
        }
        if (drained > ctx.drain_limit) {
          reusable = false;
          break;
        }
      }
    }

    const auto& msg = parser.get();
    ServiceRequest request;
    request.method = msg.method_string();
    request.target = msg.target();
    request.headers.reserve(16);
    for (const auto& field : msg) request.headers.emplace_back(field.name_string(), field.value());
    request.body = body;
    request.body_truncated = truncated;

    ServiceStep step = ctx.service.handle(request, Instant::now());
    ServiceResponse response;
    if (auto* pending = std::get_if<PendingDownload>(&step)) {
      stream.expires_never();
      DownloadResult result = co_await fetch_url(pending->download);
      response = ctx.service.finish_download(std::move(*pending), std::move(result),
                                             Instant::now());
    } else {
      response = std::move(std::get<ServiceResponse>(step));
    }
    bool keep_alive = reusable && msg.keep_alive();
    bool again = co_await send_response(stream, ctx, response, msg.version(), keep_alive);
    if (!again) {
      close_now(stream);
      co_return;
    }
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::io_context& ioc,
                                  const ServerContext& ctx) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kAsTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or a transient failure: wait a little, go on.
      spdlog::warn("lfemu: accept failed: {}", ec.message());
      asio::steady_timer timer(ioc, std::chrono::milliseconds(20));
      co_await timer.async_wait(kAsTuple);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(socket), ctx),
                   [](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("lfemu: connection failed: {}", ex.what());
                     }
                   });
  }
}

// Lets thousands of connections in: the soft descriptor limit up to the hard.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

Status run_http_server(const ServerOptions& options, VerificationService& service,
                       const std::function<void(std::uint16_t)>& on_listening) {
  raise_descriptor_limit();
  ServerContext ctx{options, service, std::max<std::uint64_t>(options.body_limit_bytes * 4,
                                                              64ull * 1024 * 1024)};
  service.set_body_limit(options.body_limit_bytes);
  int threads = std::max(1, options.threads);
  asio::io_context ioc(threads);

  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Error{"--host " + options.host + " is not an IP address (use 127.0.0.1 or 0.0.0.0)"};
  }
  tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(ioc);
  std::string where = options.host + ":" + std::to_string(options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code& sec, int signal) {
    if (sec) return;
    spdlog::info("lfemu: signal {}, stopping", signal);
    beast::error_code ignored;
    acceptor.close(ignored);
    ioc.stop();
  });

  asio::co_spawn(ioc, accept_loop(acceptor, ioc, ctx), asio::detached);
  on_listening(acceptor.local_endpoint().port());

  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return {};
}

}  // namespace lf
