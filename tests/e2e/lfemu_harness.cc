// lfemu end-to-end harness: processes, raw-socket HTTP client, file server.
#include "lfemu_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace lf::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string lfemu_binary() {
#ifdef LFEMU_BINARY
  if (std::filesystem::exists(LFEMU_BINARY)) return LFEMU_BINARY;
#endif
  const char* dir = std::getenv("LF_BUILD_DIR");
  return std::string(dir ? dir : ".") + "/src/emulator/lfemu";
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lfemu-e2e-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  path_ = made ? made : tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& contents) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p, std::ios::binary) << contents;
  return p;
}

LfemuProcess::LfemuProcess(std::vector<std::string> args) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return;
  std::string binary = lfemu_binary();
  args.insert(args.begin(), {binary, "--port", "0"});
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    _exit(127);
  }
  ::close(out[1]);
  // The one listening line, within 10 s.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  std::string got;
  while (got.find('\n') == std::string::npos) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    char buf[256];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);  // lfemu prints nothing else on stdout
  line_ = got.substr(0, got.find('\n'));
  const std::string prefix = "lfemu listening on http://127.0.0.1:";
  if (line_.rfind(prefix, 0) == 0) port_ = static_cast<std::uint16_t>(std::stoi(line_.substr(prefix.size())));
}

int LfemuProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  int status = 0;
  while (Clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

LfemuProcess::~LfemuProcess() { stop(); }

HttpConnection::HttpConnection(std::uint16_t port) : fd_(connect_loopback(port)) {}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::send(const std::string& bytes) {
  return fd_ >= 0 && send_all(fd_, bytes.data(), bytes.size());
}

bool HttpConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

HttpReply HttpConnection::read_reply(std::chrono::milliseconds timeout) {
  HttpReply reply;
  if (fd_ < 0) {
    reply.error = "connect";
    return reply;
  }
  auto deadline = Clock::now() + timeout;
  std::size_t received = 0;
  // Reads more into buffer_; false on EOF/reset/timeout (reply.error set).
  auto fill = [&]() -> bool {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r <= 0) {
      reply.error = "timeout";
      return false;
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      reply.error = errno == ECONNRESET ? "reset" : std::string("recv: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) {
      reply.error = received == 0 && buffer_.empty() ? "closed" : "truncated";
      return false;
    }
    received += static_cast<std::size_t>(n);
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  for (;;) {
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        reply.bytes_received = received;
        return reply;
      }
    }
    // Skip interim 1xx answers.
    if (buffer_.compare(0, 10, "HTTP/1.1 1") == 0) {
      buffer_.erase(0, end + 4);
      continue;
    }
    break;
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) reply.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    pos = next == std::string::npos ? head.size() : next + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    reply.headers[lower(line.substr(0, colon))] = value;
  }
  std::size_t length = 0;
  if (auto it = reply.headers.find("content-length"); it != reply.headers.end()) {
    length = std::stoul(it->second);
  }
  while (buffer_.size() < length) {
    if (!fill()) {
      if (reply.error == "closed") reply.error = "truncated";
      reply.body = buffer_;
      buffer_.clear();
      reply.bytes_received = received;
      return reply;
    }
  }
  reply.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  reply.ok = true;
  reply.bytes_received = received;
  return reply;
}

HttpReply HttpConnection::request(const std::string& method, const std::string& target,
                                  const std::string& content_type, const std::string& body,
                                  std::chrono::milliseconds timeout) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  if (!send(req)) {
    HttpReply r;
    r.error = fd_ < 0 ? "connect" : "send";
    return r;
  }
  return read_reply(timeout);
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& content_type, const std::string& body) {
  HttpConnection c(port);
  return c.request(method, target, content_type, body);
}

std::string multipart_body(const std::vector<FormField>& fields, std::string* content_type) {
  static std::atomic<int> counter{0};
  std::string boundary = "----lfemuE2E" + std::to_string(++counter) + "x7MA4YWxkTrZu0gW";
  std::string body;
  for (const auto& f : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.name + "\"";
    if (f.filename) body += "; filename=\"" + *f.filename + "\"";
    body += "\r\n";
    if (!f.content_type.empty()) body += "Content-Type: " + f.content_type + "\r\n";
    body += "\r\n" + f.value + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  if (content_type) *content_type = "multipart/form-data; boundary=" + boundary;
  return body;
}

FileServer::FileServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

FileServer::~FileServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
  for (int fd : hung_) ::close(fd);
}

void FileServer::serve(const std::string& path, int status, std::string body) {
  std::lock_guard lock(mu_);
  routes_[path] = Route{status, std::move(body), false};
}

void FileServer::hang(const std::string& path) {
  std::lock_guard lock(mu_);
  routes_[path] = Route{0, {}, true};
}

std::string FileServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void FileServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++requests_;
    std::string req;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (req.find("\r\n\r\n") == std::string::npos) {
      pollfd c{fd, POLLIN, 0};
      if (::poll(&c, 1, remaining_ms(deadline)) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    std::string path;
    if (auto sp = req.find(' '); sp != std::string::npos) {
      path = req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1);
    }
    Route route{404, "not found", false};
    {
      std::lock_guard lock(mu_);
      if (auto it = routes_.find(path); it != routes_.end()) route = it->second;
    }
    if (route.hang) {
      hung_.push_back(fd);
      continue;
    }
    std::string res = "HTTP/1.1 " + std::to_string(route.status) +
                      " X\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                      std::to_string(route.body.size()) + "\r\nConnection: close\r\n\r\n" +
                      route.body;
    send_all(fd, res.data(), res.size());
    ::close(fd);
  }
}

}  // namespace lf::e2e
