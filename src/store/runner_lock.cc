// The runner lock: open-file-description locks (F_OFD_SETLK) on two bytes
// of the database file, a gate byte and a byte whose offset is the holder's
// pid.
#include "store/runner_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace lf {
namespace {

// `len` bytes from `start` (0: to the end of any file, however long).
struct flock byte_range(short type, std::int64_t start, std::int64_t len) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(start);
  lock.l_len = static_cast<off_t>(len);
  lock.l_pid = 0;  // required by OFD locks
  return lock;
}

// Whether another open file description than `fd`'s holds the gate.
bool gate_held(int fd) {
  struct flock lock = byte_range(F_WRLCK, RunnerLock::kGateByte, 1);
  return fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
}

// The pid recorded by the holder of the gate, seen through `fd`; 0 when
// none is recorded (yet).
std::int64_t recorded_pid(int fd) {
  struct flock lock = byte_range(F_WRLCK, RunnerLock::kPidBase, 0);
  if (fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type == F_UNLCK) return 0;
  return static_cast<std::int64_t>(lock.l_start) - RunnerLock::kPidBase;
}

std::string pid_text(std::int64_t pid) { return pid > 0 ? std::to_string(pid) : "unknown"; }

}  // namespace

Result<RunnerLock> RunnerLock::acquire(const std::string& db_path) {
  // Never O_CREAT: the lock is on the database itself, which `lfbatch init`
  // creates.
  int fd = ::open(db_path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) {
      return Error{"no database at " + db_path + "; create it with `lfbatch init --db " +
                   db_path + "`"};
    }
    return Error{"cannot open the database " + db_path + " to lock it: " + std::strerror(error)};
  }
  struct flock gate = byte_range(F_WRLCK, kGateByte, 1);
  if (fcntl(fd, F_OFD_SETLK, &gate) != 0) {
    const int error = errno;
    const std::int64_t pid = recorded_pid(fd);
    ::close(fd);
    if (error == EAGAIN || error == EACCES) {
      return Error{"another lfbatch run (pid " + pid_text(pid) + ") is working on " + db_path +
                   "; wait for it or stop it"};
    }
    return Error{"cannot lock the database " + db_path + ": " + std::strerror(error)};
  }
  // Only the gate's holder gets here, so no one else holds a pid byte.
  struct flock pid = byte_range(F_WRLCK, kPidBase + ::getpid(), 1);
  if (fcntl(fd, F_OFD_SETLK, &pid) != 0) {
    const int error = errno;
    ::close(fd);
    return Error{"cannot lock the database " + db_path + ": " + std::strerror(error)};
  }
  return RunnerLock(fd, db_path);
}

std::optional<std::int64_t> RunnerLock::holder(const std::string& db_path) {
  int fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no database, so no run on it
  std::optional<std::int64_t> pid;
  if (gate_held(fd)) pid = recorded_pid(fd);
  ::close(fd);
  return pid;
}

RunnerLock::RunnerLock(RunnerLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), db_path_(std::move(other.db_path_)) {}

RunnerLock& RunnerLock::operator=(RunnerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    db_path_ = std::move(other.db_path_);
  }
  return *this;
}

// Closing the only descriptor of the open file description drops both locks.
RunnerLock::~RunnerLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace lf
