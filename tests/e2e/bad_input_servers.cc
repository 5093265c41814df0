// Misbehaving loopback servers and child processes; see bad_input_servers.h.
#include "bad_input_servers.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

extern char** environ;

namespace lf::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t kHugeBodyBytes = 100ull * 1024 * 1024;
constexpr int kMaxConnections = 64;  // more are closed at once
constexpr auto kConnectionLifetime = 30s;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// Reads one request (headers, then Content-Length bytes of body) within
// `deadline`; false on EOF, error or timeout.
bool read_request(int fd, Clock::time_point deadline, const std::atomic<bool>& stop) {
  std::string head;
  char buf[65536];
  std::size_t header_end = std::string::npos;
  std::uint64_t body_left = 0;
  bool have_headers = false;
  while (!stop && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    if (have_headers) {
      body_left -= std::min<std::uint64_t>(body_left, static_cast<std::uint64_t>(n));
    } else {
      head.append(buf, static_cast<std::size_t>(n));
      header_end = head.find("\r\n\r\n");
      if (header_end == std::string::npos) {
        if (head.size() > 1 << 20) return false;
        continue;
      }
      have_headers = true;
      std::string lower = head.substr(0, header_end);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto at = lower.find("content-length:");
      const std::uint64_t length = at == std::string::npos ? 0 : std::stoull(lower.substr(at + 15));
      const std::uint64_t got = head.size() - (header_end + 4);
      body_left = length > got ? length - got : 0;
    }
    if (have_headers && body_left == 0) return true;
  }
  return false;
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

FakeServer::FakeServer(Misbehaviour misbehaviour, std::string location)
    : misbehaviour_(misbehaviour), location_(std::move(location)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const bool full = misbehaviour_ == Misbehaviour::kFullBacklog;
  ::listen(listen_fd_, full ? 0 : 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (full) {
    // A backlog of 0 holds one connection; a few more fill it for sure. The
    // kernel then drops further SYNs, as a host behind a dropping firewall.
    for (int i = 0; i < 4; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in to = loopback(port_);
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
      backlog_fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(50ms);
    return;
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeServer::~FakeServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }
  for (int fd : backlog_fillers_) ::close(fd);
  ::close(listen_fd_);
}

void FakeServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (++connections_ > kMaxConnections) {
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void FakeServer::serve(int fd) {
  const auto deadline = Clock::now() + kConnectionLifetime;
  if (!read_request(fd, deadline, stop_)) return;
  switch (misbehaviour_) {
    case Misbehaviour::kNeverAnswers: {
      char buf[4096];
      while (!stop_ && Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) return;
      }
      return;
    }
    case Misbehaviour::kHttp10NoLength:
      send_all(fd,
               "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
               "{\"request_id\": \"TID-http10\", \"status\": \"OK\", \"verify_score\": 0.9125, "
               "\"image_id\": \"http10image\"}");
      return;
    case Misbehaviour::kRedirect:
      send_all(fd, "HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location_ +
                       "\r\nContent-Length: 0\r\n\r\n");
      return;
    case Misbehaviour::kHugeBody: {
      const std::string start = "{\"request_id\": \"TID-huge\", \"status\": \"OK\", \"verify_score\": 0.5, "
                                "\"image_id\": \"";
      const std::string end = "\"}";
      const std::uint64_t total = kHugeBodyBytes;
      std::string headers = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(total) + "\r\n\r\n";
      if (!send_all(fd, headers + start)) return;
      std::uint64_t sent = start.size();
      const std::string chunk(64 * 1024, 'a');
      while (!stop_ && Clock::now() < deadline && sent + end.size() < total) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), total - end.size() - sent));
        if (!send_all(fd, chunk.substr(0, n))) return;
        sent += n;
        body_bytes_sent_ += n;
      }
      send_all(fd, end);
      return;
    }
    case Misbehaviour::kFullBacklog:
      return;
  }
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& output,
                           const std::map<std::string, std::string>& env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argv_p;
  for (auto& a : args) argv_p.push_back(a.data());
  argv_p.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (posix_spawnp(&pid_, argv_p[0], &actions, nullptr, argv_p.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() { kill_now(); }

void ChildProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace lf::e2e
