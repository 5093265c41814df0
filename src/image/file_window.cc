// FileWindow: pread() into a few held ranges under a fixed budget.
#include "image/file_window.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace lf {
namespace {

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<FileWindow> FileWindow::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{"cannot read " + path + ": " + std::strerror(err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"cannot read " + path + ": " + std::string(kind_of(st.st_mode)) +
                 ", not a regular file"};
  }
  return FileWindow(fd, path, static_cast<std::uint64_t>(st.st_size));
}

FileWindow::FileWindow(FileWindow&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      size_(other.size_),
      held_(std::move(other.held_)),
      reads_(other.reads_),
      bytes_read_(other.bytes_read_),
      error_(std::move(other.error_)) {}

FileWindow::~FileWindow() {
  if (fd_ >= 0) ::close(fd_);
}

const FileWindow::Range* FileWindow::find(std::uint64_t off, std::size_t n) const {
  for (const Range& r : held_) {
    if (off >= r.off && off - r.off <= r.bytes.size() && n <= r.bytes.size() - (off - r.off)) {
      return &r;
    }
  }
  return nullptr;
}

bool FileWindow::holds(std::uint64_t off, std::size_t n) const { return find(off, n) != nullptr; }

const FileWindow::Range* FileWindow::fetch(std::uint64_t off, std::size_t n) {
  // Widen the read: the whole of a small file, an edge when the range lies
  // in one, else at least kReadAhead bytes.
  std::uint64_t begin = off, end = off + std::max(n, kReadAhead);
  if (size_ <= 2 * kEdgeBytes) {
    begin = 0;
    end = size_;
  } else if (off + n <= kEdgeBytes) {
    begin = 0;
    end = kEdgeBytes;
  } else if (off >= size_ - kEdgeBytes) {
    begin = size_ - kEdgeBytes;
    end = size_;
  }
  end = std::min(end, size_);
  const std::size_t len = static_cast<std::size_t>(end - begin);
  if (reads_ >= kMaxReads || bytes_read_ + len > kMaxBytes) return nullptr;
  Range r{begin, std::string(len, '\0')};
  std::size_t got = 0;
  while (got < len) {
    const ssize_t k = ::pread(fd_, r.bytes.data() + got, len - got,
                              static_cast<off_t>(begin + got));
    ++reads_;
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      error_ = Error{"cannot read " + path_ + ": " + std::strerror(errno)};
      return nullptr;
    }
    if (k == 0) {
      error_ = Error{"cannot read " + path_ + ": the file shrank while being read"};
      return nullptr;
    }
    got += static_cast<std::size_t>(k);
    bytes_read_ += static_cast<std::size_t>(k);
    if (got < len && reads_ >= kMaxReads) return nullptr;
  }
  held_.push_back(std::move(r));
  return &held_.back();
}

std::optional<std::string_view> FileWindow::read(std::uint64_t off, std::size_t n) {
  if (error_ || off > size_ || n > size_ - off) return std::nullopt;
  const Range* r = find(off, n);
  if (!r) r = fetch(off, n);
  if (!r) return std::nullopt;
  return std::string_view(r->bytes).substr(static_cast<std::size_t>(off - r->off), n);
}

std::optional<std::string_view> FileWindow::whole() {
  if (size_ > 2 * kEdgeBytes) return std::nullopt;
  return read(0, static_cast<std::size_t>(size_));
}

}  // namespace lf
