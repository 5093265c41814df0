#include "report/run_history.h"

#include <gtest/gtest.h>

#include "store/run_log.h"
#include "store/sqlite_run_log.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

TEST(RunHistory, EmptyDatabaseHasNoSuccess) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto h = run_history(**db);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->runs, 0);
  EXPECT_EQ(h->requests, 0);
  EXPECT_FALSE(h->last_success_at.has_value());
}

TEST(RunHistory, LastSuccessIsTheNewestRunThatExitedZero) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  SqliteRunLog log(**db);
  auto finished = [&](const char* how, UnixMillis end, std::int64_t requests) {
    RunId id = log.start_run("{}", "h", 1, end - 100).value();
    ASSERT_TRUE(log.add_counts(id, requests, 0, 0, 0, 1).ok());
    ASSERT_TRUE(log.finish_run(id, how, "", end).ok());
  };
  finished("completed", 1'000, 10);
  finished("deadline", 2'000, 20);
  finished("out_of_quota", 3'000, 30);        // exit 75: not a success
  finished("aborted_credentials", 4'000, 0);  // exit 77
  auto h = run_history(**db);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->runs, 4);
  EXPECT_EQ(h->requests, 60);
  EXPECT_EQ(h->throttled, 4);
  ASSERT_TRUE(h->last_success_at.has_value());
  EXPECT_EQ(*h->last_success_at, 2'000);
}

}  // namespace
}  // namespace lf
