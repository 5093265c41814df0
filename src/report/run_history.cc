// Reading RunHistory from the runs table.
#include "report/run_history.h"

#include <sqlite3.h>

#include <string>

namespace lf {

Result<RunHistory> run_history(Database& db) {
  static constexpr const char* kSql =
      "SELECT count(*), coalesce(sum(requests), 0), coalesce(sum(throttled), 0), "
      "  (SELECT max(finished_at) FROM runs "
      "   WHERE ended_how IN ('completed', 'deadline', 'budget') AND finished_at IS NOT NULL) "
      "FROM runs";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.handle(), kSql, -1, &st, nullptr) != SQLITE_OK) {
    return Error{"reading the runs table of " + db.path() + ": " + sqlite3_errmsg(db.handle())};
  }
  RunHistory h;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    h.runs = sqlite3_column_int64(st, 0);
    h.requests = sqlite3_column_int64(st, 1);
    h.throttled = sqlite3_column_int64(st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) h.last_success_at = sqlite3_column_int64(st, 3);
  }
  std::string error = rc == SQLITE_ROW ? "" : sqlite3_errmsg(db.handle());
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return Error{"reading the runs table of " + db.path() + ": " + error};
  return h;
}

}  // namespace lf
