// Bounded random access to one regular file: what judging an image by its
// headers may read, so that enqueueing millions of files costs a few small
// reads each, whatever their size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lf {

// Invariant: over its lifetime a FileWindow makes at most kMaxReads pread()
// calls and reads at most kMaxBytes bytes (the first and last kEdgeBytes
// count towards both), whatever the file's size. A file of at most
// 2 * kEdgeBytes is read whole, in one pread(). Not thread-safe.
class FileWindow {
 public:
  static constexpr std::size_t kEdgeBytes = 4096;   // read at each end of the file
  static constexpr std::size_t kReadAhead = 512;    // least bytes per pread() elsewhere
  static constexpr std::size_t kMaxBytes = 16 * 1024;
  static constexpr int kMaxReads = 16;

  // Opens `path` without blocking (a FIFO swapped in after the check never
  // blocks) and fstat()s it. Error when it cannot be opened or stat'ed or is
  // not a regular file; the message names the path and the reason, e.g.
  // "cannot read /a/b.jpg: Permission denied". Reads nothing yet.
  static Result<FileWindow> open(const std::string& path);

  FileWindow(FileWindow&& other) noexcept;
  FileWindow& operator=(FileWindow&&) = delete;
  FileWindow(const FileWindow&) = delete;
  ~FileWindow();

  // The size fstat() reported at open().
  std::uint64_t size() const { return size_; }

  // The bytes [off, off + n), read if not already held. nullopt when that
  // would exceed the bounds above or a read fails (then error() says why).
  // REQUIRES: off + n <= size(). The view stays valid while *this lives.
  std::optional<std::string_view> read(std::uint64_t off, std::size_t n);

  // Whether read(off, n) needs no pread() (the range is already held).
  bool holds(std::uint64_t off, std::size_t n) const;

  // The whole file, when it is small enough to be read whole (see above).
  std::optional<std::string_view> whole();

  // Set once a read failed or the file shrank while being read.
  const std::optional<Error>& error() const { return error_; }
  int reads() const { return reads_; }
  std::size_t bytes_read() const { return bytes_read_; }

 private:
  FileWindow(int fd, std::string path, std::uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  struct Range {
    std::uint64_t off = 0;
    std::string bytes;
  };
  const Range* find(std::uint64_t off, std::size_t n) const;
  const Range* fetch(std::uint64_t off, std::size_t n);

  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
  std::deque<Range> held_;  // a deque: views into earlier ranges stay valid
  int reads_ = 0;
  std::size_t bytes_read_ = 0;
  std::optional<Error> error_;
};

}  // namespace lf
