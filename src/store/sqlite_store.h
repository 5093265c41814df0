// The Store over an SQLite file: its Database with the queue, the run log
// and an SqlSession on that one connection.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"
#include "store/sqlite_job_queue.h"
#include "store/sqlite_run_log.h"
#include "store/sqlite_session.h"
#include "store/store.h"

namespace lf {

class SqliteStore final : public Store {
 public:
  // `create` as Database::open; a missing file without it is an error that
  // names the file and says to run `lfbatch init`.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, bool create);

  StoreKind kind() const override { return StoreKind::kSqlite; }
  const std::string& name() const override { return db_->path(); }
  int schema_version() const override { return db_->schema_version(); }
  JobQueue& queue() override { return queue_; }
  RunLog& log() override { return log_; }
  SqlSession& sql() override { return session_; }
  Status begin_write() override { return db_->exec("BEGIN IMMEDIATE"); }
  Status commit() override { return db_->exec("COMMIT"); }
  void rollback() override { (void)db_->exec("ROLLBACK"); }
  void set_lock_wait(std::chrono::milliseconds wait) override { db_->set_busy_timeout(wait); }
  Database* sqlite() override { return db_.get(); }

 private:
  explicit SqliteStore(std::unique_ptr<Database> db)
      : db_(std::move(db)), queue_(*db_), log_(*db_), session_(*db_) {}

  std::unique_ptr<Database> db_;  // first: the others use it
  SqliteJobQueue queue_;
  SqliteRunLog log_;
  SqliteSession session_;
};

}  // namespace lf
