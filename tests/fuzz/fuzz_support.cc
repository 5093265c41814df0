// What the fuzz targets share: the findings, exact-size copies, input
// fields and the scratch file.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_targets.h"

namespace lf::fuzz {

void fuzz_check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: property violated: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

ExactBytes::ExactBytes(std::string_view bytes)
    : data_(new char[bytes.size()]), size_(bytes.size()) {
  if (size_ != 0) std::memcpy(data_.get(), bytes.data(), size_);
}

std::string_view FuzzInput::line() {
  const std::size_t nl = rest_.find('\n');
  std::string_view field = rest_.substr(0, nl);
  rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
  return field;
}

namespace {

// In /dev/shm when there is one: on ext4, rewriting a file in /tmp from the
// start (O_TRUNC) waits for the disk (auto_da_alloc), 200 inputs/s instead
// of thousands.
struct ScratchFile {
  std::string path;
  int fd = -1;
  ScratchFile() {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                      : tmp != nullptr && *tmp != '\0' ? tmp
                                                        : "/tmp";
    path = dir + "/lf_fuzz_" + std::to_string(::getpid()) + ".bin";
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    fuzz_check(fd >= 0, "cannot create the scratch file");
  }
  ~ScratchFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
};

}  // namespace

const std::string& write_scratch_file(std::string_view bytes) {
  static ScratchFile file;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(file.fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(done));
    fuzz_check(n > 0, "cannot write the scratch file");
    done += static_cast<std::size_t>(n);
  }
  fuzz_check(::ftruncate(file.fd, static_cast<off_t>(bytes.size())) == 0,
             "cannot truncate the scratch file");
  return file.path;
}

}  // namespace lf::fuzz
