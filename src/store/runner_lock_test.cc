// The runner lock: one holder per database file, whatever path reaches it,
// freed when its process dies, and invisible to SQLite's own locking.
#include "store/runner_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/database.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

// An empty file at `path`: enough to lock (the lock never reads the file).
std::string touch(const std::string& path) {
  std::ofstream(path, std::ios::binary);
  return path;
}

std::string refusal(pid_t pid, const std::string& db) {
  return "another lfbatch run (pid " + std::to_string(pid) + ") is working on " + db +
         "; wait for it or stop it";
}

TEST(RunnerLock, ASecondHolderIsRefusedWithThePidAndTheDatabase) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  auto first = RunnerLock::acquire(db);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->db_path(), db);
  auto second = RunnerLock::acquire(db);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, refusal(getpid(), db));
  EXPECT_FALSE(std::filesystem::exists(db + ".lock")) << "the lock is on the database itself";
}

TEST(RunnerLock, ASecondHolderThroughASymlinkIsRefused) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  const std::string link = dir.file("link.db");
  std::filesystem::create_symlink(db, link);
  auto first = RunnerLock::acquire(db);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = RunnerLock::acquire(link);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, refusal(getpid(), link));
  EXPECT_EQ(RunnerLock::holder(link), std::optional<std::int64_t>(getpid()));
}

TEST(RunnerLock, ASecondHolderThroughAHardLinkIsRefused) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  std::filesystem::create_directory(dir.file("elsewhere"));
  const std::string link = dir.file("elsewhere/other-name.db");
  std::filesystem::create_hard_link(db, link);
  auto first = RunnerLock::acquire(link);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = RunnerLock::acquire(db);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, refusal(getpid(), db));
  EXPECT_EQ(RunnerLock::holder(db), std::optional<std::int64_t>(getpid()));
}

TEST(RunnerLock, IsFreeAgainOnceReleased) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
  {
    auto lock = RunnerLock::acquire(db);
    ASSERT_TRUE(lock.ok());
    EXPECT_EQ(RunnerLock::holder(db), std::optional<std::int64_t>(getpid()));
  }
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
  EXPECT_TRUE(RunnerLock::acquire(db).ok());
}

TEST(RunnerLock, AMovedLockIsStillHeldAndReleasedOnce) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  auto lock = RunnerLock::acquire(db);
  ASSERT_TRUE(lock.ok());
  {
    RunnerLock moved = std::move(*lock);
    EXPECT_TRUE(RunnerLock::holder(db).has_value());
  }
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
}

TEST(RunnerLock, LocksOfDifferentDatabasesAreIndependent) {
  TempDirForTest dir;
  auto a = RunnerLock::acquire(touch(dir.file("a.db")));
  auto b = RunnerLock::acquire(touch(dir.file("b.db")));
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.ok());
}

TEST(RunnerLock, NoDatabaseIsRefusedWithTheFixAndCreatesNothing) {
  TempDirForTest dir;
  const std::string db = dir.file("missing.db");
  auto lock = RunnerLock::acquire(db);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().message,
            "no database at " + db + "; create it with `lfbatch init --db " + db + "`");
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
}

// OFD locks and SQLite's POSIX locks conflict even within one process, so
// this fails if the lock's bytes overlap SQLite's: a write transaction needs
// RESERVED, and closing the last connection takes EXCLUSIVE to checkpoint
// and delete the WAL.
TEST(RunnerLock, SqliteKeepsWorkingOnTheLockedDatabase) {
  TempDirForTest dir;
  const std::string db = dir.file("q.db");
  ASSERT_TRUE(Database::open(db).ok());
  auto lock = RunnerLock::acquire(db);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  {
    auto database = Database::open(db, /*create=*/false);
    ASSERT_TRUE(database.ok()) << database.error().message;
    Status written = (*database)->exec(
        "BEGIN IMMEDIATE; CREATE TABLE probe (x); INSERT INTO probe VALUES (1); COMMIT;");
    ASSERT_TRUE(written.ok()) << written.message();
    EXPECT_TRUE(std::filesystem::exists(db + "-wal"));
  }
  EXPECT_FALSE(std::filesystem::exists(db + "-wal")) << "the last close could not checkpoint";
  EXPECT_FALSE(RunnerLock::acquire(db).ok()) << "SQLite's locking disturbed the runner lock";
}

TEST(RunnerLock, TheLockOfAKilledProcessIsFree) {
  TempDirForTest dir;
  const std::string db = touch(dir.file("q.db"));
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = RunnerLock::acquire(db);
    char byte = lock.ok() ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  ASSERT_EQ(byte, 'y');

  EXPECT_EQ(RunnerLock::holder(db), std::optional<std::int64_t>(child));
  auto refused = RunnerLock::acquire(db);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, refusal(child, db));

  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
  auto lock = RunnerLock::acquire(db);
  EXPECT_TRUE(lock.ok()) << lock.error().message;
}

}  // namespace
}  // namespace lf
