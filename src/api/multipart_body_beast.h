// PRIVATE to src/api (included by api_client.cc and its tests only): the
// Beast body type that sends a MultipartForm, streaming the file from disk
// in kMultipartChunkSize chunks between the prefix and the suffix.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include "api/multipart_body.h"

namespace lf {

// Errors of the body writer: the request's own file failed, not the network.
enum class MultipartError { kFileOpenFailed = 1, kFileReadFailed, kFileShrank };

class MultipartErrorCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "lf.multipart"; }
  std::string message(int ev) const override {
    switch (static_cast<MultipartError>(ev)) {
      case MultipartError::kFileOpenFailed: return "cannot open the file to upload";
      case MultipartError::kFileReadFailed: return "cannot read the file to upload";
      case MultipartError::kFileShrank: return "the file to upload shrank while being sent";
    }
    return "multipart body error";
  }
};

inline const boost::system::error_category& multipart_error_category() {
  static const MultipartErrorCategory category;
  return category;
}

inline boost::system::error_code make_error_code(MultipartError e) {
  return {static_cast<int>(e), multipart_error_category()};
}

// True when `ec` came from the body writer (the local file), not the socket.
inline bool is_local_file_error(const boost::system::error_code& ec) {
  return ec.category() == multipart_error_category();
}

// Beast Body: the value is a MultipartForm plus, after a failure of the
// writer, a sentence naming the file and the OS error (no secret in it).
// The writer reopens the file on every init(), so one request can be
// written again on a fresh connection.
struct MultipartBody {
  struct value_type {
    MultipartForm form;
    std::string error_detail;  // set by the writer when it fails
  };

  static std::uint64_t size(const value_type& body) { return body.form.content_length(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    ~writer() {
      if (fd_ >= 0) ::close(fd_);
    }

    void init(boost::beast::error_code& ec) {
      ec = {};
      stage_ = Stage::kPrefix;
      remaining_ = body_.form.file_size;
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      if (body_.form.file_path.empty()) return;
      fd_ = ::open(body_.form.file_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        fail(ec, MultipartError::kFileOpenFailed, std::strerror(errno));
      }
    }

    // Each returned buffer stays valid until the next call; the file part
    // comes in pieces of at most kMultipartChunkSize bytes.
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      switch (stage_) {
        case Stage::kPrefix: {
          stage_ = body_.form.file_bytes ? Stage::kBytes
                   : body_.form.file_path.empty() ? Stage::kSuffix
                                                  : Stage::kFile;
          return std::make_pair(const_buffers_type(body_.form.prefix.data(), body_.form.prefix.size()),
                                true);
        }
        case Stage::kBytes:
          // In memory already (a PreparedImage): one buffer, no copy.
          stage_ = Stage::kSuffix;
          if (!body_.form.file_bytes->empty()) {
            return std::make_pair(const_buffers_type(body_.form.file_bytes->data(),
                                                     body_.form.file_bytes->size()),
                                  true);
          }
          [[fallthrough]];
        case Stage::kFile:
          if (stage_ == Stage::kFile && remaining_ > 0) return read_chunk(ec);
          stage_ = Stage::kSuffix;
          [[fallthrough]];
        case Stage::kSuffix:
          stage_ = Stage::kDone;
          return std::make_pair(const_buffers_type(body_.form.suffix.data(), body_.form.suffix.size()),
                                false);
        case Stage::kDone:
          break;
      }
      return boost::none;
    }

   private:
    enum class Stage { kPrefix, kBytes, kFile, kSuffix, kDone };

    boost::optional<std::pair<const_buffers_type, bool>> read_chunk(
        boost::beast::error_code& ec) {
      // Not zero-filled, and no larger than the file: a fresh zeroed 64 KiB
      // per request cost the runner a third of its CPU on small uploads.
      if (!chunk_) {
        chunk_ = std::make_unique_for_overwrite<char[]>(
            remaining_ < kMultipartChunkSize ? static_cast<std::size_t>(remaining_)
                                             : kMultipartChunkSize);
      }
      const std::size_t want = remaining_ < kMultipartChunkSize
                                   ? static_cast<std::size_t>(remaining_)
                                   : kMultipartChunkSize;
      ssize_t n;
      do {
        n = ::read(fd_, chunk_.get(), want);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        fail(ec, MultipartError::kFileReadFailed, std::strerror(errno));
        return boost::none;
      }
      if (n == 0) {
        fail(ec, MultipartError::kFileShrank,
             "it is shorter than when the request was prepared");
        return boost::none;
      }
      remaining_ -= static_cast<std::uint64_t>(n);
      return std::make_pair(boost::asio::const_buffer(chunk_.get(), static_cast<std::size_t>(n)),
                            true);
    }

    void fail(boost::beast::error_code& ec, MultipartError e, const std::string& why) {
      ec = make_error_code(e);
      body_.error_detail = "cannot read " + body_.form.file_path + ": " + why;
    }

    value_type& body_;
    Stage stage_ = Stage::kPrefix;
    std::uint64_t remaining_ = 0;
    int fd_ = -1;
    std::unique_ptr<char[]> chunk_;  // one chunk, allocated on the first file read
  };
};

}  // namespace lf
