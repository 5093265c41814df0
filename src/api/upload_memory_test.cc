// Measures the client's heap while 64 uploads of a 5 MB file are in flight
// at once: the file is streamed, so the peak must stay far below the
// 64 x 5 MB = 320 MB that reading each file whole would need. The heap is
// counted by replacing the global operator new/delete in this test binary;
// the in-test server discards request bodies into one static buffer so it
// adds almost nothing.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "api/api_client.h"

namespace {

// Live bytes allocated through operator new, and their high-water mark.
std::atomic<std::size_t> g_live_bytes{0};
std::atomic<std::size_t> g_peak_bytes{0};
constexpr std::size_t kHeader = alignof(std::max_align_t);

void* counted_new(std::size_t size) {
  void* base = std::malloc(size + kHeader);
  if (base == nullptr) throw std::bad_alloc();
  *static_cast<std::size_t*>(base) = size;
  const std::size_t live = g_live_bytes.fetch_add(size) + size;
  std::size_t peak = g_peak_bytes.load();
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return static_cast<char*>(base) + kHeader;
}

void counted_delete(void* p) noexcept {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - kHeader;
  g_live_bytes.fetch_sub(*reinterpret_cast<std::size_t*>(base));
  std::free(base);
}

}  // namespace

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }

namespace lf {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kUploads = 64;
constexpr std::size_t kFileSize = 5 * 1024 * 1024;

// Where every session's request body goes: contents never read.
char g_discard[64 * 1024];

// Reads each request's head, discards Content-Length bytes of body, answers
// OK; keeps the connection open for the next request.
class DiscardServer {
 public:
  explicit DiscardServer(asio::io_context& ioc)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::size_t body_bytes = 0;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    static const std::string kBody =
        R"({"request_id":"T","status":"OK","verify_score":0.9,"image_id":"img-1"})";
    static const std::string kAnswer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
    for (;;) {
      asio::streambuf head(8192);
      auto [ec, n] = co_await asio::async_read_until(socket, head, "\r\n\r\n", kUseTuple);
      if (ec) co_return;
      std::string text(asio::buffers_begin(head.data()), asio::buffers_begin(head.data()) + n);
      head.consume(n);
      const auto at = text.find("Content-Length: ");
      if (at == std::string::npos) co_return;
      std::size_t remaining = std::stoul(text.substr(at + 16));
      // Body bytes read along with the head.
      const std::size_t early = std::min(remaining, head.size());
      head.consume(early);
      remaining -= early;
      body_bytes += early;
      while (remaining > 0) {
        const std::size_t want = std::min(remaining, sizeof(g_discard));
        auto [read_ec, got] =
            co_await asio::async_read(socket, asio::buffer(g_discard, want), kUseTuple);
        if (read_ec) co_return;
        remaining -= got;
        body_bytes += got;
      }
      auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(kAnswer),
                                                            kUseTuple);
      if (write_ec) co_return;
    }
  }

  tcp::acceptor acceptor_;
};

TEST(UploadMemory, HeapCounterSeesAFileReadWhole) {
  // The control: the counter notices a 5 MB buffer, so the next test's
  // small peak means something.
  const std::size_t before = g_live_bytes.load();
  g_peak_bytes.store(before);
  {
    std::string whole(kFileSize, 'x');
    ASSERT_EQ(whole.size(), kFileSize);
  }
  EXPECT_GE(g_peak_bytes.load() - before, kFileSize);
}

TEST(UploadMemory, SixtyFourFiveMegabyteUploadsInFlightStayFarBelowTheirSize) {
  std::string dir_template = (fs::temp_directory_path() / "lf_upload_mem_XXXXXX").string();
  const fs::path dir = ::mkdtemp(dir_template.data());
  const fs::path file = dir / "photo.jpg";
  {
    std::ofstream out(file, std::ios::binary);
    std::vector<char> block(64 * 1024, 'j');
    for (std::size_t written = 0; written < kFileSize; written += block.size()) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }

  asio::io_context ioc;
  DiscardServer server(ioc);
  ClientOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(server.port()) +
                     "/identity/handhold_idcard_verification";
  options.api_id = "id";
  options.api_secret = "secret";
  auto client = ApiClient::create(ioc.get_executor(), options);
  ASSERT_TRUE(client.ok()) << client.error().message;

  std::vector<Job> jobs(kUploads);
  for (int i = 0; i < kUploads; ++i) {
    jobs[i].id = i + 1;
    jobs[i].kind = SourceKind::kPath;
    jobs[i].source = file.string();
  }
  std::vector<std::future<Outcome>> futures;
  futures.reserve(kUploads);

  const std::size_t baseline = g_live_bytes.load();
  g_peak_bytes.store(baseline);
  for (const Job& job : jobs) {
    futures.push_back(asio::co_spawn(ioc, (*client)->verify(job), asio::use_future));
  }
  auto all_ready = [&] {
    for (auto& f : futures) {
      if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    }
    return true;
  };
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!all_ready() && std::chrono::steady_clock::now() < limit) {
    ioc.run_one_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(all_ready()) << "uploads did not finish in 120 s";
  const std::size_t peak = g_peak_bytes.load() - baseline;

  int ok = 0;
  for (auto& f : futures) {
    const Outcome outcome = f.get();
    if (outcome.answer && outcome.answer->status == ApiStatus::kOk) ++ok;
    else ADD_FAILURE() << outcome.failure_detail;
  }
  EXPECT_EQ(ok, kUploads);
  EXPECT_GE(server.body_bytes, static_cast<std::size_t>(kUploads) * kFileSize);

  const double peak_mb = static_cast<double>(peak) / (1024.0 * 1024.0);
  const double whole_mb = static_cast<double>(kUploads * kFileSize) / (1024.0 * 1024.0);
  std::printf("[ figure ] peak client heap with %d x 5 MB uploads in flight: %.1f MB "
              "(reading files whole would need %.0f MB)\n",
              kUploads, peak_mb, whole_mb);
  EXPECT_LT(peak, 32u * 1024 * 1024) << "peak heap " << peak_mb << " MB";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lf
