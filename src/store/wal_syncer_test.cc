// The WAL syncer: commits it is told of are reported synced, whether or not
// the WAL exists yet, and destruction syncs what is left.
#include "store/wal_syncer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "store/database.h"
#include "core/temp_dir_for_test.h"

namespace lf {
namespace {

TEST(WalSyncer, EveryCommitItIsToldOfIsSyncedInOrder) {
  TempDirForTest dir;
  auto db = Database::open(dir.file("q.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE((*db)->exec("PRAGMA synchronous = NORMAL").ok());
  std::atomic<int> errors{0};
  WalSyncer syncer((*db)->path(), [&](const std::string&) { ++errors; });
  EXPECT_EQ(syncer.synced_through(), 0u);
  std::uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*db)->exec("INSERT INTO runs (started_at) VALUES (" + std::to_string(i) + ")").ok());
    ASSERT_TRUE(std::filesystem::exists((*db)->path() + "-wal"));
    last = syncer.committed();
    EXPECT_EQ(last, static_cast<std::uint64_t>(i + 1));
  }
  syncer.wait_synced(last);
  EXPECT_GE(syncer.synced_through(), last);
  EXPECT_GE(syncer.fsyncs(), 1u) << "the WAL itself was synced";
  EXPECT_LE(syncer.fsyncs(), last) << "at most one sync per commit";
  EXPECT_EQ(errors.load(), 0);
}

TEST(WalSyncer, NoWalYetIsNothingToSyncAndNoError) {
  TempDirForTest dir;
  std::atomic<int> errors{0};
  std::uint64_t n = 0;
  {
    WalSyncer syncer(dir.file("none.db"), [&](const std::string&) { ++errors; });
    n = syncer.committed();
    syncer.wait_synced(n);
    EXPECT_EQ(syncer.synced_through(), n);
    EXPECT_EQ(syncer.fsyncs(), 0u);
  }
  EXPECT_EQ(errors.load(), 0);
}

}  // namespace
}  // namespace lf
