// Loopback servers that misbehave on purpose, for the bad-input table
// (lfbatch_bad_input_e2e_test.cc): one that accepts and never answers, one
// that answers HTTP/1.0 without Content-Length, one that redirects, one that
// sends a 100 MB body, one whose accept queue is full (a host that drops
// SYNs), and child processes (openssl s_server, a second lfbatch run).
// Every server listens on 127.0.0.1 with port 0; every loop is bounded in
// count and time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lf::e2e {

enum class Misbehaviour {
  kNeverAnswers,    // reads the request, then holds the connection silent
  kHttp10NoLength,  // HTTP/1.0 200 with a valid API answer, no Content-Length, then close
  kRedirect,        // 307 to `location`
  kHugeBody,        // 200 with a 100 MB body (a JSON answer, if read to the end)
  kFullBacklog,     // listens with a full accept queue and never accepts
};

class FakeServer {
 public:
  // `location`: the Location header of kRedirect.
  explicit FakeServer(Misbehaviour misbehaviour, std::string location = {});
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  // Bytes of the body kHugeBody managed to send, over all connections.
  std::uint64_t body_bytes_sent() const { return body_bytes_sent_; }

 private:
  void accept_loop();
  void serve(int fd);

  Misbehaviour misbehaviour_;
  std::string location_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<std::uint64_t> body_bytes_sent_{0};
  std::vector<int> backlog_fillers_;  // kFullBacklog: connections nobody accepts
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// A child process (argv[0] looked up in PATH), stdout and stderr to
// `output` (or /dev/null), environment: the test's plus `env`.
// SIGKILLed on destruction if still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& output = "/dev/null",
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void kill_now();

 private:
  pid_t pid_ = -1;
};

// A loopback port nobody listens on (bound, then closed).
std::uint16_t closed_port();

}  // namespace lf::e2e
