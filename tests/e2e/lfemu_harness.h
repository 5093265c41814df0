// What lfemu's end-to-end tests need: the real lfemu binary started on an
// ephemeral port, a blocking HTTP/1.1 client on raw sockets (precise enough
// to see resets, stalls and truncated bodies, with real timeouts), a
// multipart body builder, and a tiny loopback file server for file_url.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lf::e2e {

// The lfemu binary: LFEMU_BINARY (set by CMake), else $LF_BUILD_DIR/src/emulator/lfemu.
std::string lfemu_binary();

// A temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

// lfemu started with `args` (plus --port 0); waits for its listening line.
class LfemuProcess {
 public:
  explicit LfemuProcess(std::vector<std::string> args);
  ~LfemuProcess();  // SIGTERM, then SIGKILL if it does not stop
  LfemuProcess(const LfemuProcess&) = delete;
  LfemuProcess& operator=(const LfemuProcess&) = delete;

  bool started() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  const std::string& listening_line() const { return line_; }
  // Sends SIGTERM and waits; the exit code, or -1 if it had to be killed.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  int pid_ = -1;
  std::uint16_t port_ = 0;
  std::string line_;
};

struct HttpReply {
  bool ok = false;          // a complete response was read
  std::string error;        // "closed" (EOF before any byte), "reset", "timeout",
                            // "truncated" (EOF inside the response), "connect"
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::size_t bytes_received = 0;
};

// One keep-alive connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  HttpReply read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& content_type, const std::string& body,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Whether the server closed the connection within `timeout` (EOF or reset).
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& content_type = {}, const std::string& body = {});

struct FormField {
  std::string name;
  std::string value;
  std::optional<std::string> filename;  // set for a file part
  std::string content_type;             // part Content-Type, if any
};

// A multipart/form-data body; `content_type` receives the header value.
std::string multipart_body(const std::vector<FormField>& fields, std::string* content_type);

// A loopback HTTP server answering GETs from a path -> (status, body) table;
// paths in `hang` are accepted and read but never answered.
class FileServer {
 public:
  FileServer();
  ~FileServer();
  void serve(const std::string& path, int status, std::string body);
  void hang(const std::string& path);
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  int requests() const { return requests_; }

 private:
  void run();
  struct Route {
    int status = 200;
    std::string body;
    bool hang = false;
  };
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::map<std::string, Route> routes_;
  std::vector<int> hung_;
  std::thread thread_;
};

}  // namespace lf::e2e
