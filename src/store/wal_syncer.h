// Makes commits power-loss durable without making their writer wait for
// the disk: a thread that fdatasyncs the database's write-ahead log
// ("<db>-wal") after commits made with synchronous = NORMAL.
//
// Why: with synchronous = FULL every commit waits for an fsync (about 7 ms
// on the 2-core CI machine), and while it waits the runner's single writer
// can neither record the next requests nor commit the answers that arrive,
// which then die with a SIGKILL. With NORMAL a commit is a write(2) into the
// WAL: it survives a SIGKILL at once; this thread then makes it survive a
// power loss, within one fsync of the commit. It only adds syncs to what
// SQLite does (NORMAL syncs the WAL before each checkpoint and the database
// after it), so it cannot make the database less consistent.
//
// Threading: committed() and synced_through() may be called from any
// thread; the sync runs on the syncer's own thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace lf {

class WalSyncer {
 public:
  // Syncs the WAL of the database at `db_path`. The database must be in WAL
  // mode and kept open by the caller while the syncer runs (SQLite deletes
  // the WAL when its last connection closes).
  // `on_error` is called on the syncer's thread the first time a sync
  // fails (not fatal: SQLite still syncs at each checkpoint).
  WalSyncer(std::string db_path, std::function<void(const std::string&)> on_error);
  ~WalSyncer();  // syncs what was committed, then joins
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Notes that a commit returned; returns its number (1, 2, ...). That
  // commit is durable once synced_through() >= the number.
  std::uint64_t committed();
  std::uint64_t synced_through() const;
  // fdatasync calls made on the WAL so far (none while there is no WAL).
  std::uint64_t fsyncs() const;

  // Waits until commit `number` is durable (or the syncer failed to sync,
  // which it logs). For callers that must not go on before, e.g. removing a
  // copy of what was committed.
  void wait_synced(std::uint64_t number);

 private:
  void loop();
  // fdatasyncs the WAL, opening it again when SQLite has made a new one.
  bool sync_wal();

  const std::string wal_path_;
  const std::function<void(const std::string&)> on_error_;
  int fd_ = -1;                       // the syncer thread's alone
  std::uint64_t fd_inode_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t committed_ = 0;       // guarded by mu_
  std::uint64_t synced_ = 0;          // guarded by mu_
  std::uint64_t fsyncs_ = 0;          // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::thread thread_;
};

}  // namespace lf
