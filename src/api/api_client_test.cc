// Tests of ApiClient over real sockets: an in-test Beast server (plain TCP
// and TLS with a certificate made here) and an in-test HTTP proxy, all on
// one io_context with the client.
#include "api/api_client.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace lf {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kPath = "/identity/handhold_idcard_verification";
constexpr const char* kSecret = "s3cr3t-never-logged";
constexpr const char* kOkBody =
    R"({"request_id":"TID1","status":"OK","verify_score":0.81,"image_id":"img1"})";

// ---------------------------------------------------------------------------
// Scripted HTTP(S) server.

struct SeenRequest {
  int connection = 0;  // 1-based index of the connection it came on
  std::string method;
  std::string target;
  std::string host;
  std::string content_type;
  std::string content_length;
  std::string body;
};

enum class Action {
  kReply,              // answer, keep the connection open
  kReplyThenClose,     // answer with keep-alive, then close the socket anyway
  kCloseWithoutReply,  // read the request, close without answering
  kResetMidResponse,   // send part of the response, then reset (RST)
  kNeverReply,         // read the request, then wait for the client to give up
};

struct Reply {
  explicit Reply(Action action_in = Action::kReply, int status_in = 200,
                 std::string body_in = kOkBody, std::string retry_after_in = {})
      : action(action_in), status(status_in), body(std::move(body_in)),
        retry_after(std::move(retry_after_in)) {}
  Action action;
  int status;
  std::string body;
  std::string retry_after;
};

class TestServer {
 public:
  explicit TestServer(asio::io_context& ioc, ssl::context* tls = nullptr)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}), tls_(tls) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::function<Reply(const SeenRequest&)> handler = [](const SeenRequest&) { return Reply(); };
  std::vector<SeenRequest> requests;
  int connections = 0;
  std::vector<std::string> sni_names;  // TLS: the server name each client sent

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      const int index = ++connections;
      asio::co_spawn(acceptor_.get_executor(), session(std::move(socket), index), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket, int index) {
    if (tls_ == nullptr) {
      co_await serve(socket, index);
      co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kUseTuple);
    if (ec) co_return;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    sni_names.push_back(sni ? sni : "");
    co_await serve(stream, index);
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, int index) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      if (ec) co_return;
      auto& message = parser.get();
      SeenRequest seen;
      seen.connection = index;
      seen.method = std::string(message.method_string());
      seen.target = std::string(message.target());
      seen.host = std::string(message[http::field::host]);
      seen.content_type = std::string(message[http::field::content_type]);
      seen.content_length = std::string(message[http::field::content_length]);
      seen.body = message.body();
      requests.push_back(seen);
      const Reply reply = handler(seen);
      auto& socket = beast::get_lowest_layer(stream);

      if (reply.action == Action::kCloseWithoutReply) {
        socket.close();
        co_return;
      }
      if (reply.action == Action::kNeverReply) {
        char byte;
        co_await stream.async_read_some(asio::buffer(&byte, 1), kUseTuple);
        co_return;
      }
      if (reply.action == Action::kResetMidResponse) {
        const std::string partial =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
            "{\"status\":";
        co_await asio::async_write(stream, asio::buffer(partial), kUseTuple);
        socket.set_option(asio::socket_base::linger(true, 0));
        socket.close();
        co_return;
      }
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      response.set(http::field::content_type, "application/json");
      if (!reply.retry_after.empty()) response.set(http::field::retry_after, reply.retry_after);
      response.body() = reply.body;
      response.keep_alive(true);
      response.prepare_payload();
      auto [write_ec, written] = co_await http::async_write(stream, response, kUseTuple);
      if (write_ec) co_return;
      if (reply.action == Action::kReplyThenClose) {
        socket.close();
        co_return;
      }
    }
  }

  tcp::acceptor acceptor_;
  ssl::context* tls_;
};

// ---------------------------------------------------------------------------
// In-test HTTP proxy: CONNECT tunnels, and absolute-form requests forwarded
// one per connection. Every host name resolves to 127.0.0.1 here, so a
// request for a name that exists nowhere else proves it went through.

class TestProxy {
 public:
  explicit TestProxy(asio::io_context& ioc)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::vector<std::string> connects;        // authorities of CONNECT requests
  std::vector<std::string> forwarded;       // absolute-form targets
  std::vector<std::string> authorizations;  // Proxy-Authorization values seen
  int refuse_status = 0;                    // answer CONNECT with this when non-zero

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
    }
  }

  static std::uint16_t port_of(std::string_view authority) {
    return static_cast<std::uint16_t>(std::stoi(std::string(authority.substr(authority.rfind(':') + 1))));
  }

  static asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from,
                                    std::shared_ptr<tcp::socket> to) {
    std::vector<char> data(16 * 1024);
    for (;;) {
      auto [ec, n] = co_await from->async_read_some(asio::buffer(data), kUseTuple);
      if (ec) break;
      auto [write_ec, written] = co_await asio::async_write(*to, asio::buffer(data.data(), n),
                                                            kUseTuple);
      if (write_ec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> session(tcp::socket client_socket) {
    auto client = std::make_shared<tcp::socket>(std::move(client_socket));
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [ec, n] = co_await http::async_read(*client, buffer, parser, kUseTuple);
    if (ec) co_return;
    auto request = parser.release();
    authorizations.push_back(std::string(request[http::field::proxy_authorization]));
    auto upstream = std::make_shared<tcp::socket>(acceptor_.get_executor());

    if (request.method() == http::verb::connect) {
      const std::string authority(request.target());
      connects.push_back(authority);
      if (refuse_status != 0) {
        http::response<http::empty_body> no{static_cast<http::status>(refuse_status), 11};
        co_await http::async_write(*client, no, kUseTuple);
        co_return;
      }
      auto [connect_ec] = co_await upstream->async_connect(
          {asio::ip::make_address("127.0.0.1"), port_of(authority)}, kUseTuple);
      if (connect_ec) co_return;
      const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
      co_await asio::async_write(*client, asio::buffer(ok), kUseTuple);
      asio::co_spawn(acceptor_.get_executor(), pump(client, upstream), asio::detached);
      co_await pump(upstream, client);
      co_return;
    }

    // Absolute-form: forward to the origin in origin-form.
    forwarded.push_back(std::string(request.target()));
    auto url = boost::urls::parse_uri(request.target());
    if (!url) co_return;
    auto [connect_ec] = co_await upstream->async_connect(
        {asio::ip::make_address("127.0.0.1"), url->port_number()}, kUseTuple);
    if (connect_ec) co_return;
    request.target(url->encoded_target());
    request.erase(http::field::proxy_authorization);
    co_await http::async_write(*upstream, request, kUseTuple);
    beast::flat_buffer upstream_buffer;
    http::response<http::string_body> response;
    auto [read_ec, read] = co_await http::async_read(*upstream, upstream_buffer, response,
                                                     kUseTuple);
    if (read_ec) co_return;
    response.keep_alive(false);
    co_await http::async_write(*client, response, kUseTuple);
  }

  tcp::acceptor acceptor_;
};

// Accepts connections and never says anything: for connect-phase timeouts
// (TLS handshake, CONNECT answer).
class SilentServer {
 public:
  explicit SilentServer(asio::io_context& ioc)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections = 0;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      ++connections;
      held_.push_back(std::move(socket));
    }
  }
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> held_;
};

// ---------------------------------------------------------------------------
// Helpers.

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "lf_api_client_XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A self-signed certificate for `alt_names` (e.g. "DNS:localhost,IP:127.0.0.1").
TestCert make_self_signed(const std::string& alt_names) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(::getpid()) + std::rand());
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("lfbatch test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, alt_names},
                            {NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  TestCert out;
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  out.cert_pem = bio_string(cert_bio);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(key_bio);
  BIO_free(key_bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

std::unique_ptr<ssl::context> server_tls_context(const TestCert& cert) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->use_certificate_chain(asio::buffer(cert.cert_pem));
  context->use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
  return context;
}

Job file_job(const fs::path& path, JobId id = 1) {
  Job job;
  job.id = id;
  job.kind = SourceKind::kPath;
  job.source = path.string();
  return job;
}

Job url_job(JobId id = 1) {
  Job job;
  job.id = id;
  job.kind = SourceKind::kUrl;
  job.source = "https://img.example.com/photo.jpg";
  return job;
}

class ApiClientTest : public ::testing::Test {
 protected:
  ClientOptions options_for(const std::string& endpoint) {
    ClientOptions options;
    options.endpoint = endpoint;
    options.api_id = "test-id";
    options.api_secret = kSecret;
    options.connect_timeout_ms = 2000;
    options.request_timeout_ms = 5000;
    return options;
  }

  std::unique_ptr<ApiClient> client_for(ClientOptions options) {
    auto client = ApiClient::create(ioc_.get_executor(), std::move(options));
    if (!client) {
      ADD_FAILURE() << client.error().message;
      return nullptr;
    }
    return std::move(client.value());
  }

  std::string http_endpoint(const TestServer& server) {
    return "http://127.0.0.1:" + std::to_string(server.port()) + kPath;
  }

  // Runs the io_context until every verify() has finished.
  std::vector<Outcome> run_all(ApiClient& client, const std::vector<Job>& jobs) {
    std::vector<std::future<Outcome>> futures;
    for (const Job& job : jobs) {
      futures.push_back(asio::co_spawn(ioc_, client.verify(job), asio::use_future));
    }
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto all_ready = [&] {
      for (auto& f : futures) {
        if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
      }
      return true;
    };
    while (!all_ready()) {
      if (std::chrono::steady_clock::now() > limit) {
        ADD_FAILURE() << "verify() did not finish within 30 s";
        std::abort();
      }
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one_for(std::chrono::milliseconds(20));
    }
    std::vector<Outcome> outcomes;
    for (auto& f : futures) outcomes.push_back(f.get());
    return outcomes;
  }

  Outcome run(ApiClient& client, const Job& job) { return run_all(client, {job}).front(); }

  // Lets pending handlers (e.g. a server closing a socket) run.
  void settle() {
    if (ioc_.stopped()) ioc_.restart();
    for (int i = 0; i < 50; ++i) ioc_.poll();
  }

  static void expect_ok(const Outcome& outcome) {
    EXPECT_FALSE(outcome.failure.has_value())
        << to_string(*outcome.failure) << ": " << outcome.failure_detail;
    ASSERT_TRUE(outcome.answer.has_value());
    EXPECT_EQ(outcome.answer->status, ApiStatus::kOk);
    EXPECT_EQ(outcome.answer->http_status, 200);
    EXPECT_EQ(outcome.answer->request_id, "TID1");
    EXPECT_EQ(outcome.answer->verify_score, 0.81);
    EXPECT_EQ(outcome.answer->image_id, "img1");
  }

  static void expect_failure(const Outcome& outcome, TransportFailure failure) {
    EXPECT_FALSE(outcome.answer.has_value());
    ASSERT_TRUE(outcome.failure.has_value());
    EXPECT_EQ(*outcome.failure, failure) << to_string(*outcome.failure) << ": "
                                         << outcome.failure_detail;
    EXPECT_FALSE(outcome.failure_detail.empty());
    EXPECT_EQ(outcome.failure_detail.find(kSecret), std::string::npos);
  }

  asio::io_context ioc_;  // declared first: outlives servers and clients
  TempDir dir_;
};

// ---------------------------------------------------------------------------
// Plain HTTP.

TEST_F(ApiClientTest, OkAnswerIsParsedAndTimed) {
  TestServer server(ioc_);
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  Job job = url_job(42);
  const Outcome outcome = run(*client, job);
  expect_ok(outcome);
  EXPECT_EQ(outcome.job_id, 42);
  EXPECT_GT(outcome.started_at, 1'600'000'000'000);
  EXPECT_GE(outcome.finished_at, outcome.started_at);
}

TEST_F(ApiClientTest, RequestIsAMultipartPostWithTheSecretOnlyInTheBody) {
  TestServer server(ioc_);
  std::ofstream(dir_.path() / "id card.jpg", std::ios::binary) << "JPEGBYTES";
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, file_job(dir_.path() / "id card.jpg")));
  ASSERT_EQ(server.requests.size(), 1u);
  const SeenRequest& seen = server.requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, kPath);
  EXPECT_EQ(seen.host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.content_type.rfind("multipart/form-data; boundary=", 0), 0u);
  EXPECT_EQ(seen.content_length, std::to_string(seen.body.size()));
  EXPECT_NE(seen.body.find("name=\"api_id\"\r\n\r\ntest-id\r\n"), std::string::npos);
  EXPECT_NE(seen.body.find(std::string("name=\"api_secret\"\r\n\r\n") + kSecret),
            std::string::npos);
  EXPECT_NE(seen.body.find("name=\"file\"; filename=\"id card.jpg\"\r\n"
                           "Content-Type: image/jpeg\r\n\r\nJPEGBYTES\r\n"),
            std::string::npos);
  EXPECT_EQ(seen.target.find("secret"), std::string::npos);
}

TEST_F(ApiClientTest, FiveMegabyteUploadArrivesWhole) {
  TestServer server(ioc_);
  std::string content(5 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  std::ofstream(dir_.path() / "big.png", std::ios::binary) << content;
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, file_job(dir_.path() / "big.png")));
  ASSERT_EQ(server.requests.size(), 1u);
  EXPECT_NE(server.requests[0].body.find("Content-Type: image/png\r\n\r\n" + content + "\r\n--"),
            std::string::npos);
}

TEST_F(ApiClientTest, ErrorStatusAnswersAreAnswersWithRetryAfter) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) {
    return Reply(Action::kReply, 403, R"({"request_id":"r9","status":"RATE_LIMIT_EXCEEDED"})",
                 "3");
  };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  ASSERT_TRUE(outcome.answer.has_value()) << outcome.failure_detail;
  EXPECT_EQ(outcome.answer->status, ApiStatus::kRateLimitExceeded);
  EXPECT_EQ(outcome.answer->http_status, 403);
  EXPECT_EQ(outcome.answer->retry_after_seconds, 3.0);
  EXPECT_EQ(outcome.disposition(), Disposition::kThrottled);
}

TEST_F(ApiClientTest, KeepAliveReusesOneConnection) {
  TestServer server(ioc_);
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_ok(run(*client, url_job(2)));
  EXPECT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.connections, 1);
}

TEST_F(ApiClientTest, ConcurrentRequestsFillThePoolAndThenReuseIt) {
  TestServer server(ioc_);
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  std::vector<Job> jobs;
  for (int i = 0; i < 8; ++i) jobs.push_back(url_job(i));
  for (const Outcome& o : run_all(*client, jobs)) expect_ok(o);
  const int after_first_wave = server.connections;
  EXPECT_LE(after_first_wave, 8);
  for (const Outcome& o : run_all(*client, jobs)) expect_ok(o);
  EXPECT_EQ(server.connections, after_first_wave);
  EXPECT_EQ(server.requests.size(), 16u);
}

TEST_F(ApiClientTest, CloseIdleDropsPooledConnections) {
  TestServer server(ioc_);
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  client->close_idle();
  expect_ok(run(*client, url_job(2)));
  EXPECT_EQ(server.connections, 2);
}

TEST_F(ApiClientTest, IdleConnectionClosedByServerIsReplacedTransparently) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) { return Reply(Action::kReplyThenClose); };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  settle();  // the server's close reaches the client's idle socket
  expect_ok(run(*client, url_job(2)));
  EXPECT_EQ(server.connections, 2);
  EXPECT_EQ(server.requests.size(), 2u);
}

TEST_F(ApiClientTest, AReusedConnectionClosedAfterTheRequestWasSentIsNotResent) {
  // The server read the whole request, then closed without answering: it may
  // have acted on it, so the client reports the loss (the runner records the
  // attempt and retries) instead of silently sending it twice.
  TestServer server(ioc_);
  server.handler = [&](const SeenRequest&) {
    return server.requests.size() == 2 ? Reply(Action::kCloseWithoutReply) : Reply();
  };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_failure(run(*client, url_job(2)), TransportFailure::kConnectionLost);
  EXPECT_EQ(server.requests.size(), 2u);
  expect_ok(run(*client, url_job(3)));  // and the next request opens a fresh connection
  ASSERT_EQ(server.requests.size(), 3u);
  EXPECT_EQ(server.requests[2].connection, 2);
}

TEST_F(ApiClientTest, CloseWithoutAnswerOnAFreshConnectionIsConnectionLost) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) { return Reply(Action::kCloseWithoutReply); };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_failure(run(*client, url_job()), TransportFailure::kConnectionLost);
  EXPECT_EQ(server.requests.size(), 1u);  // not resent
}

TEST_F(ApiClientTest, ResetInTheMiddleOfTheResponseIsConnectionLost) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) { return Reply(Action::kResetMidResponse); };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kConnectionLost);
  EXPECT_NE(outcome.failure_detail.find("middle of the response"), std::string::npos)
      << outcome.failure_detail;
  EXPECT_EQ(server.requests.size(), 1u);
}

TEST_F(ApiClientTest, ResetMidResponseOnAReusedConnectionIsNotResent) {
  // Part of a response arrived: the server may have done the work, so the
  // request is not sent again behind the runner's back.
  TestServer server(ioc_);
  server.handler = [&](const SeenRequest&) {
    return server.requests.size() == 2 ? Reply(Action::kResetMidResponse) : Reply();
  };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_failure(run(*client, url_job(2)), TransportFailure::kConnectionLost);
  EXPECT_EQ(server.requests.size(), 2u);
}

TEST_F(ApiClientTest, NoAnswerWithinRequestTimeoutIsTimeout) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) { return Reply(Action::kNeverReply); };
  ClientOptions options = options_for(http_endpoint(server));
  options.request_timeout_ms = 300;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = run(*client, url_job());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_failure(outcome, TransportFailure::kTimeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_NE(outcome.failure_detail.find("300 ms"), std::string::npos) << outcome.failure_detail;
}

TEST_F(ApiClientTest, NonJson200IsMalformedResponse) {
  TestServer server(ioc_);
  server.handler = [](const SeenRequest&) {
    return Reply(Action::kReply, 200, "<html>maintenance</html>");
  };
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kMalformedResponse);
  EXPECT_NE(outcome.failure_detail.find("maintenance"), std::string::npos);
  EXPECT_EQ(outcome.disposition(), Disposition::kRetryLater);
}

TEST_F(ApiClientTest, MissingLocalFileIsLocalFileErrorWithoutAConnection) {
  TestServer server(ioc_);
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  const fs::path missing = dir_.path() / "missing.jpg";
  const Outcome outcome = run(*client, file_job(missing));
  expect_failure(outcome, TransportFailure::kLocalFileError);
  EXPECT_NE(outcome.failure_detail.find(missing.string()), std::string::npos);
  EXPECT_EQ(outcome.disposition(), Disposition::kPermanentFailure);
  EXPECT_EQ(server.connections, 0);
}

TEST_F(ApiClientTest, RefusedConnectionIsConnectFailed) {
  std::uint16_t port;
  {
    tcp::acceptor probe(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  auto client = client_for(
      options_for("http://127.0.0.1:" + std::to_string(port) + kPath));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kConnectFailed);
  EXPECT_NE(outcome.failure_detail.find("refused"), std::string::npos) << outcome.failure_detail;
}

TEST_F(ApiClientTest, UnknownHostIsConnectFailed) {
  auto client = client_for(options_for("http://lf-no-such-host.invalid/x"));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kConnectFailed);
  EXPECT_NE(outcome.failure_detail.find("resolve"), std::string::npos) << outcome.failure_detail;
}

TEST_F(ApiClientTest, CreateRefusesBadEndpointAndCaFile) {
  auto bad = ApiClient::create(ioc_.get_executor(), options_for("ftp://x/y"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("only http and https"), std::string::npos);
  ClientOptions options = options_for("https://localhost/x");
  options.ca_file = (dir_.path() / "nope.pem").string();
  auto no_ca = ApiClient::create(ioc_.get_executor(), options);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.error().message.find("nope.pem"), std::string::npos);
  std::ofstream(dir_.path() / "junk.pem") << "not a certificate";
  options.ca_file = (dir_.path() / "junk.pem").string();
  auto junk = ApiClient::create(ioc_.get_executor(), options);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("junk.pem"), std::string::npos);
}

// ---------------------------------------------------------------------------
// TLS.

class ApiClientTlsTest : public ApiClientTest {
 protected:
  void SetUp() override {
    cert_ = make_self_signed("DNS:localhost,DNS:lf-api.test,IP:127.0.0.1");
    ca_file_ = (dir_.path() / "ca.pem").string();
    std::ofstream(ca_file_) << cert_.cert_pem;
    server_tls_ = server_tls_context(cert_);
  }
  std::string https_endpoint(const TestServer& server, const std::string& host = "localhost") {
    return "https://" + host + ":" + std::to_string(server.port()) + kPath;
  }

  TestCert cert_;
  std::string ca_file_;
  std::unique_ptr<ssl::context> server_tls_;
};

TEST_F(ApiClientTlsTest, SelfSignedCertificateIsRefusedByDefault) {
  TestServer server(ioc_, server_tls_.get());
  auto client = client_for(options_for(https_endpoint(server)));
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kTlsCertificateRejected);
  EXPECT_NE(outcome.failure_detail.find("certificate"), std::string::npos)
      << outcome.failure_detail;
  EXPECT_TRUE(server.requests.empty());
}

TEST_F(ApiClientTlsTest, CaFileMakesItTrustedAndSniIsSent) {
  TestServer server(ioc_, server_tls_.get());
  ClientOptions options = options_for(https_endpoint(server));
  options.ca_file = ca_file_;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_ok(run(*client, url_job(2)));
  EXPECT_EQ(server.connections, 1);  // keep-alive over TLS too
  ASSERT_EQ(server.sni_names.size(), 1u);
  EXPECT_EQ(server.sni_names[0], "localhost");
}

TEST_F(ApiClientTlsTest, IpAddressEndpointIsCheckedAgainstIpSan) {
  TestServer server(ioc_, server_tls_.get());
  ClientOptions options = options_for(https_endpoint(server, "127.0.0.1"));
  options.ca_file = ca_file_;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job()));
}

TEST_F(ApiClientTlsTest, CertificateForAnotherNameIsRefused) {
  const TestCert other = make_self_signed("DNS:other.example");
  const std::string other_ca = (dir_.path() / "other.pem").string();
  std::ofstream(other_ca) << other.cert_pem;
  auto other_tls = server_tls_context(other);
  TestServer server(ioc_, other_tls.get());
  ClientOptions options = options_for(https_endpoint(server));
  options.ca_file = other_ca;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kTlsCertificateRejected);
  EXPECT_NE(outcome.failure_detail.find("mismatch"), std::string::npos) << outcome.failure_detail;
}

TEST_F(ApiClientTlsTest, InsecureSkipsVerification) {
  TestServer server(ioc_, server_tls_.get());
  ClientOptions options = options_for(https_endpoint(server));
  options.insecure = true;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job()));
}

TEST_F(ApiClientTlsTest, AReusedTlsConnectionClosedAfterTheRequestIsNotResent) {
  TestServer server(ioc_, server_tls_.get());
  server.handler = [&](const SeenRequest&) {
    return server.requests.size() == 2 ? Reply(Action::kCloseWithoutReply) : Reply();
  };
  ClientOptions options = options_for(https_endpoint(server));
  options.ca_file = ca_file_;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_failure(run(*client, url_job(2)), TransportFailure::kConnectionLost);
  expect_ok(run(*client, url_job(3)));
  EXPECT_EQ(server.requests.size(), 3u);
  EXPECT_EQ(server.connections, 2);
}

TEST_F(ApiClientTlsTest, SilentServerIsAHandshakeTimeout) {
  SilentServer server(ioc_);
  ClientOptions options =
      options_for("https://localhost:" + std::to_string(server.port()) + kPath);
  options.connect_timeout_ms = 200;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kTimeout);
  EXPECT_NE(outcome.failure_detail.find("TLS handshake"), std::string::npos)
      << outcome.failure_detail;
  EXPECT_EQ(server.connections, 1);
}

// ---------------------------------------------------------------------------
// Proxies.

TEST_F(ApiClientTlsTest, HttpsProxyFromEnvironmentTunnelsWithConnect) {
  TestServer server(ioc_, server_tls_.get());
  TestProxy proxy(ioc_);
  ScopedEnv https_proxy("HTTPS_PROXY",
                        "http://user:pw@127.0.0.1:" + std::to_string(proxy.port()));
  ScopedEnv lower("https_proxy", "");
  ScopedEnv no_proxy("NO_PROXY", "");
  // lf-api.test resolves nowhere: only the proxy can reach it.
  ClientOptions options = options_for(https_endpoint(server, "lf-api.test"));
  options.ca_file = ca_file_;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job(1)));
  expect_ok(run(*client, url_job(2)));
  ASSERT_EQ(proxy.connects.size(), 1u);  // the tunnel is kept alive
  EXPECT_EQ(proxy.connects[0], "lf-api.test:" + std::to_string(server.port()));
  EXPECT_EQ(proxy.authorizations[0], "Basic dXNlcjpwdw==");
  ASSERT_EQ(server.sni_names.size(), 1u);
  EXPECT_EQ(server.sni_names[0], "lf-api.test");
  EXPECT_EQ(server.requests.size(), 2u);
}

TEST_F(ApiClientTlsTest, ProxyRefusingConnectIsConnectFailed) {
  TestServer server(ioc_, server_tls_.get());
  TestProxy proxy(ioc_);
  proxy.refuse_status = 407;
  ClientOptions options = options_for(https_endpoint(server, "lf-api.test"));
  options.ca_file = ca_file_;
  options.proxy = "127.0.0.1:" + std::to_string(proxy.port());
  auto client = client_for(options);
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kConnectFailed);
  EXPECT_NE(outcome.failure_detail.find("407"), std::string::npos) << outcome.failure_detail;
}

TEST_F(ApiClientTest, HttpProxyGetsAbsoluteFormRequests) {
  TestServer server(ioc_);
  TestProxy proxy(ioc_);
  ScopedEnv http_proxy("http_proxy", "http://127.0.0.1:" + std::to_string(proxy.port()));
  ScopedEnv no_proxy("no_proxy", "");
  const std::string endpoint = "http://lf-api.test:" + std::to_string(server.port()) + kPath;
  auto client = client_for(options_for(endpoint));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job()));
  ASSERT_EQ(proxy.forwarded.size(), 1u);
  EXPECT_EQ(proxy.forwarded[0], endpoint);
  ASSERT_EQ(server.requests.size(), 1u);
  EXPECT_EQ(server.requests[0].target, kPath);
  EXPECT_EQ(server.requests[0].host, "lf-api.test:" + std::to_string(server.port()));
}

TEST_F(ApiClientTest, LoopbackEndpointBypassesTheEnvironmentProxy) {
  TestServer server(ioc_);
  TestProxy proxy(ioc_);
  ScopedEnv http_proxy("http_proxy", "http://127.0.0.1:" + std::to_string(proxy.port()));
  auto client = client_for(options_for(http_endpoint(server)));
  ASSERT_TRUE(client);
  expect_ok(run(*client, url_job()));
  EXPECT_TRUE(proxy.forwarded.empty());
  EXPECT_TRUE(proxy.connects.empty());
}

TEST_F(ApiClientTest, NoProxyListBypassesTheEnvironmentProxy) {
  TestServer server(ioc_);
  TestProxy proxy(ioc_);
  ScopedEnv http_proxy("http_proxy", "http://127.0.0.1:" + std::to_string(proxy.port()));
  ScopedEnv no_proxy("no_proxy", "example.org,lf-api.test");
  auto client = client_for(
      options_for("http://lf-api.test:" + std::to_string(server.port()) + kPath));
  ASSERT_TRUE(client);
  // Direct means resolving lf-api.test ourselves, which fails: proof that
  // the proxy was not used.
  expect_failure(run(*client, url_job()), TransportFailure::kConnectFailed);
  EXPECT_TRUE(proxy.forwarded.empty());
}

TEST_F(ApiClientTlsTest, ProxyThatNeverAnswersConnectIsATimeout) {
  SilentServer proxy(ioc_);
  ClientOptions options = options_for("https://lf-api.test/x");
  options.proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  options.connect_timeout_ms = 200;
  auto client = client_for(options);
  ASSERT_TRUE(client);
  const Outcome outcome = run(*client, url_job());
  expect_failure(outcome, TransportFailure::kTimeout);
  EXPECT_NE(outcome.failure_detail.find("CONNECT"), std::string::npos) << outcome.failure_detail;
}

}  // namespace
}  // namespace lf
