// Only one `lfbatch run` works on a database at a time: the runner holds an
// exclusive lock on "<db>.lock" for its lifetime. The OS drops the lock when
// the process ends in any way (SIGKILL included), so a crash never leaves a
// stale lock behind; the file itself stays and is reused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace lf {

class RunnerLock {
 public:
  // Takes the lock of the database at `db_path`, or fails with "another
  // lfbatch run (pid N) is working on <db_path>; wait for it or stop it".
  // The lock is per RunnerLock object (an open file description), so a
  // second acquire in the same process is refused too.
  static Result<RunnerLock> acquire(const std::string& db_path);

  // The pid of the process holding the lock of `db_path`, if any (0 when
  // held but the pid is not yet written). Does not take the lock.
  static std::optional<std::int64_t> holder(const std::string& db_path);

  static std::string lock_path_for(const std::string& db_path) { return db_path + ".lock"; }

  RunnerLock(RunnerLock&& other) noexcept;
  RunnerLock& operator=(RunnerLock&& other) noexcept;
  RunnerLock(const RunnerLock&) = delete;
  RunnerLock& operator=(const RunnerLock&) = delete;
  ~RunnerLock();  // releases the lock

  const std::string& lock_path() const { return lock_path_; }

 private:
  RunnerLock(int fd, std::string lock_path) : fd_(fd), lock_path_(std::move(lock_path)) {}

  int fd_ = -1;
  std::string lock_path_;
};

}  // namespace lf
