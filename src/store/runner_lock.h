// Only one `lfbatch run` works on a database file at a time, whatever path
// reaches it (a symlink, a hard link, a bind mount): the runner holds an
// exclusive open-file-description lock (F_OFD_SETLK) on a byte of the
// database file itself, so the lock follows the file's identity (its inode),
// not its name. The OS drops the lock when the process ends in any way
// (SIGKILL included), so a crash never leaves a stale lock behind, and there
// is no lock file to clean up.
//
// The bytes locked lie above SQLite's own lock bytes (its unix VFS takes
// POSIX locks on 0x40000000..0x400001FF of the database file, the lock-byte
// page), so the runner lock never conflicts with SQLite's locking, in this
// process or any other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace lf {

class RunnerLock {
 public:
  // Takes the lock of the database file at `db_path`. Fails with "another
  // lfbatch run (pid N) is working on <db_path>; wait for it or stop it"
  // when it is held, or with "no database at <db_path>; ..." when there is
  // no file there. The lock is per RunnerLock object (an open file
  // description), so a second acquire in the same process is refused too.
  // REQUIRES: no SQLite connection of this process is open on the file (a
  // refused acquire closes its descriptor; see ~RunnerLock): take the lock
  // before opening the Database.
  static Result<RunnerLock> acquire(const std::string& db_path);

  // The pid of the process holding the lock of the database file at
  // `db_path`, if any (0 when held but the pid is not yet recorded). Does
  // not take the lock. REQUIRES: as acquire() (it opens and closes a
  // descriptor of the file); call it before opening the Database, or after
  // closing it.
  static std::optional<std::int64_t> holder(const std::string& db_path);

  // The lock layout, in bytes of the database file (locks may lie past its
  // end): the holder locks kGateByte, then kPidBase + its pid, so that
  // anyone can read the holder's pid back from the lock itself
  // (F_OFD_GETLK; OFD locks report l_pid = -1).
  static constexpr std::int64_t kGateByte = 0x48000000;  // 128 MiB above SQLite's lock bytes
  static constexpr std::int64_t kPidBase = kGateByte + 1;

  RunnerLock(RunnerLock&& other) noexcept;
  RunnerLock& operator=(RunnerLock&& other) noexcept;
  RunnerLock(const RunnerLock&) = delete;
  RunnerLock& operator=(const RunnerLock&) = delete;

  // Releases the lock by closing this object's descriptor of the database
  // file. REQUIRES: no SQLite connection of this process is open on that
  // file: closing any descriptor of a file drops every POSIX lock the
  // process holds on it, SQLite's included (a WAL connection holds a shared
  // lock for as long as it is open), which would let another process
  // checkpoint and delete the WAL under it. Destroy the RunnerLock after
  // the Database connections it guards.
  ~RunnerLock();

  const std::string& db_path() const { return db_path_; }

 private:
  RunnerLock(int fd, std::string db_path) : fd_(fd), db_path_(std::move(db_path)) {}

  int fd_ = -1;
  std::string db_path_;
};

}  // namespace lf
