// The runner lock: an open-file-description lock (F_OFD_SETLK) on
// "<db>.lock", whose content is the holder's pid.
#include "store/runner_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace lf {
namespace {

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however long
  lock.l_pid = 0;  // required by OFD locks
  return lock;
}

// The pid written in the lock file; 0 when empty or unreadable.
std::int64_t read_pid(int fd) {
  char buffer[32] = {};
  ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return 0;
  return std::strtoll(buffer, nullptr, 10);
}

std::string pid_text(std::int64_t pid) { return pid > 0 ? std::to_string(pid) : "unknown"; }

}  // namespace

Result<RunnerLock> RunnerLock::acquire(const std::string& db_path) {
  std::string path = lock_path_for(db_path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{"cannot create the runner lock file " + path + ": " + std::strerror(errno)};
  }
  struct flock lock = whole_file(F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    const int error = errno;
    const std::int64_t pid = read_pid(fd);
    ::close(fd);
    if (error == EAGAIN || error == EACCES) {
      return Error{"another lfbatch run (pid " + pid_text(pid) + ") is working on " + db_path +
                   "; wait for it or stop it"};
    }
    return Error{"cannot lock " + path + ": " + std::strerror(error)};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    return Error{"cannot write the runner lock file " + path + ": " + std::strerror(error)};
  }
  return RunnerLock(fd, std::move(path));
}

std::optional<std::int64_t> RunnerLock::holder(const std::string& db_path) {
  const std::string path = lock_path_for(db_path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no run ever took it
  struct flock lock = whole_file(F_WRLCK);
  std::optional<std::int64_t> pid;
  if (fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) pid = read_pid(fd);
  ::close(fd);
  return pid;
}

RunnerLock::RunnerLock(RunnerLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), lock_path_(std::move(other.lock_path_)) {}

RunnerLock& RunnerLock::operator=(RunnerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    lock_path_ = std::move(other.lock_path_);
  }
  return *this;
}

// Closing the only descriptor of the open file description drops the lock.
// The file is not unlinked: another process may be about to lock it.
RunnerLock::~RunnerLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace lf
