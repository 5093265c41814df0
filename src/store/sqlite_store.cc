// Opening the SQLite store.
#include "store/sqlite_store.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace lf {

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, bool create) {
  if (path.empty()) {
    return Error{"no database named; pass --db PATH (or a postgresql:// URL), set LFBATCH_DB, or "
                 "set \"database\" in the config"};
  }
  if (!create) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return Error{fmt::format("no database at {}; create it with `lfbatch init --db {}` or point "
                               "--db / LFBATCH_DB / the config's \"database\" at an existing one",
                               path, path)};
    }
  }
  Result<std::unique_ptr<Database>> db = Database::open(path, create);
  if (!db) return db.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db).value()));
}

}  // namespace lf
