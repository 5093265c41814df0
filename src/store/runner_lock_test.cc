// The runner lock: one holder per database, freed when its process dies.
#include "store/runner_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/temp_dir_for_test.h"

namespace lf {
namespace {

TEST(RunnerLock, ASecondHolderIsRefusedWithThePidAndTheDatabase) {
  TempDirForTest dir;
  const std::string db = dir.file("q.db");
  auto first = RunnerLock::acquire(db);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->lock_path(), db + ".lock");
  auto second = RunnerLock::acquire(db);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "another lfbatch run (pid " + std::to_string(getpid()) +
                                        ") is working on " + db + "; wait for it or stop it");
}

TEST(RunnerLock, IsFreeAgainOnceReleased) {
  TempDirForTest dir;
  const std::string db = dir.file("q.db");
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
  {
    auto lock = RunnerLock::acquire(db);
    ASSERT_TRUE(lock.ok());
    EXPECT_EQ(RunnerLock::holder(db), std::optional<std::int64_t>(getpid()));
  }
  EXPECT_FALSE(RunnerLock::holder(db).has_value());
  EXPECT_TRUE(RunnerLock::acquire(db).ok());
}

TEST(RunnerLock, LocksOfDifferentDatabasesAreIndependent) {
  TempDirForTest dir;
  auto a = RunnerLock::acquire(dir.file("a.db"));
  auto b = RunnerLock::acquire(dir.file("b.db"));
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.ok());
}

TEST(RunnerLock, TheLockOfAKilledProcessIsFree) {
  TempDirForTest dir;
  const std::string db = dir.file("q.db");
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
  EXPECT_NE(refused.error().message.find("pid " + std::to_string(child)), std::string::npos);

  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  auto lock = RunnerLock::acquire(db);
  EXPECT_TRUE(lock.ok()) << lock.error().message;
}

}  // namespace
}  // namespace lf
