// Store::open: a PostgreSQL URL or an SQLite path.
#include "store/store.h"

#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace lf {

Result<std::unique_ptr<Store>> Store::open(const std::string& db, bool create) {
  if (db.empty()) {
    return Error{"no database named; pass --db PATH (or a postgresql:// URL), set LFBATCH_DB, or "
                 "set \"database\" in the config"};
  }
  if (is_postgresql_url(db)) {
    Result<std::unique_ptr<PgStore>> store = PgStore::open(db, create);
    if (!store) return store.error();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::open(db, create);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(store).value());
}

}  // namespace lf
