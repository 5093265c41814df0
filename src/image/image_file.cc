// One read of an image file for upload; see image_file.h.
#include "image/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "image/content_hash.h"

namespace lf {
namespace {

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error os_error(const std::string& path, int err) {
  return Error{"cannot read " + path + ": " + std::strerror(err)};
}

}  // namespace

Result<ImageFile> read_image_file(const std::string& path, const ImageLimits& limits) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
  // below as not a regular file.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return os_error(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error(path, errno);
  if (!S_ISREG(st.st_mode)) return Error{"cannot read " + path + ": not a regular file"};

  ImageFile file;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limits.max_bytes) {
    file.verdict = preflight_bytes(std::string_view(), limits);  // format unknown: not read
    file.verdict.bytes = size;
    file.verdict.rejected = ApiStatus::kImageFileSizeTooBig;
    file.verdict.detail = std::to_string(size) + " bytes: over the limit of " +
                          std::to_string(limits.max_bytes) + " bytes";
    return file;
  }
  // Exactly the size fstat gave, then one probe for bytes past it: a file
  // that grew since is read on (up to one byte past the limit, which
  // catches it), one that shrank is cut where it ends. No slack capacity: the
  // bytes are held until their request is answered.
  const std::size_t cap = static_cast<std::size_t>(limits.max_bytes) + 1;
  auto bytes = std::make_shared<std::string>();
  bytes->resize(static_cast<std::size_t>(size));
  std::size_t have = 0;
  for (;;) {
    if (have == bytes->size()) {
      char probe[4096];
      const std::size_t room = std::min(sizeof probe, cap - have);
      if (room == 0) break;
      const ssize_t n = ::read(fd.get(), probe, room);
      if (n < 0) {
        if (errno == EINTR) continue;
        return os_error(path, errno);
      }
      if (n == 0) break;  // the end, as expected
      bytes->append(probe, static_cast<std::size_t>(n));
      have += static_cast<std::size_t>(n);
      continue;
    }
    const ssize_t n = ::read(fd.get(), bytes->data() + have, bytes->size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(path, errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  bytes->resize(have);
  file.verdict = preflight_bytes(*bytes, limits);
  file.sha256 = sha256_hex(*bytes);
  file.bytes = std::move(bytes);
  return file;
}

}  // namespace lf
