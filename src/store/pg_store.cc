// Opening the PostgreSQL store.
#include "store/pg_store.h"

#include <fmt/format.h>

#include "store/pg_migrations.h"

namespace lf {

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& url, bool create) {
  Result<std::unique_ptr<PgSession>> session = PgSession::connect(url);
  if (!session) return session.error();
  if (!create) {
    bool initialised = false;
    Result<std::int64_t> rows = (*session)->query(
        "SELECT to_regclass('lfbatch_schema') IS NOT NULL", {}, [&](const SqlRow& row) {
          initialised = row.integer(0) != 0;
          return Status::Ok();
        });
    if (!rows) return rows.error();
    if (!initialised) {
      return Error{fmt::format("{} has no linkface-batch queue yet; create it with `lfbatch init "
                               "--db {}` (the database itself must exist: createdb)",
                               (*session)->name(), (*session)->name())};
    }
  }
  int version = 0;
  if (Status migrated = migrate_postgresql(**session, &version); !migrated) {
    return migrated.error();
  }
  return std::unique_ptr<PgStore>(new PgStore(std::move(session).value(), version));
}

void PgStore::set_lock_wait(std::chrono::milliseconds wait) {
  lock_wait_ = wait;
  (void)session_->exec(fmt::format("SET lock_timeout = {}", wait.count()));
}

void PgStore::reconnect_if_lost() {
  if (!session_->connection_lost()) return;
  if (Status s = session_->reconnect(); !s) return;  // the next failure tries again
  if (lock_wait_.count() > 0) set_lock_wait(lock_wait_);
}

}  // namespace lf
