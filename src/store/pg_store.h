// The Store over a PostgreSQL database: one libpq connection (PgSession)
// with the queue and the run log on it. Many runners on many hosts may open
// the same database at once.
#pragma once

#include <memory>
#include <string>

#include "store/pg_job_queue.h"
#include "store/pg_run_log.h"
#include "store/pg_session.h"
#include "store/store.h"

namespace lf {

class PgStore final : public Store {
 public:
  // Connects to `url` (libpq's URL syntax; credentials by libpq's
  // conventions) and applies the migrations it lacks
  // (schema/postgresql/NNN_*.sql). Without `create`, a database without
  // lfbatch's tables is an error that says to run `lfbatch init`.
  static Result<std::unique_ptr<PgStore>> open(const std::string& url, bool create);

  StoreKind kind() const override { return StoreKind::kPostgresql; }
  const std::string& name() const override { return session_->name(); }
  int schema_version() const override { return schema_version_; }
  JobQueue& queue() override { return queue_; }
  RunLog& log() override { return log_; }
  SqlSession& sql() override { return *session_; }
  Status begin_write() override { return session_->begin_write(); }
  Status commit() override { return session_->commit(); }
  void rollback() override { session_->rollback(); }
  // lock_timeout: a write waiting longer for a row lock fails (and the
  // runner's store worker saves the answers in hand meanwhile).
  void set_lock_wait(std::chrono::milliseconds wait) override;
  void reconnect_if_lost() override;

 private:
  PgStore(std::unique_ptr<PgSession> session, int schema_version)
      : session_(std::move(session)),
        schema_version_(schema_version),
        queue_(*session_),
        log_(*session_) {}

  std::unique_ptr<PgSession> session_;  // first: the others use it
  int schema_version_ = 0;
  std::chrono::milliseconds lock_wait_{0};  // 0: the server's default; re-set on reconnect
  PgJobQueue queue_;
  PgRunLog log_;
};

}  // namespace lf
