// SqlSession over a SQLite Database: cached prepared statements, bound
// parameters, rows read in place.
#include "store/sqlite_session.h"

#include <sqlite3.h>

#include <utility>

#include "store/statement.h"

namespace lf {
namespace {

// The start of a statement, for messages.
std::string sql_excerpt(std::string_view sql) {
  constexpr std::size_t kLength = 60;
  std::string out(sql.substr(0, kLength));
  if (sql.size() > kLength) out += "...";
  return out;
}

// A row of a statement that has just stepped to SQLITE_ROW.
class SqliteRow final : public SqlRow {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  int columns() const override { return sqlite3_column_count(stmt_); }
  bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const override { return sqlite3_column_double(stmt_, column); }
  std::string_view text(int column) const override {
    // text before bytes: the length is of the text form (SQLite's rule).
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (!data) return {};
    return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  sqlite3_stmt* stmt_;
};

// Resets a statement and drops its bindings (which may point into the
// caller's params) when the query ends, however it ends.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ResetOnExit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

SqliteSession::SqliteSession(Database& db) : db_(db) {}

SqliteSession::~SqliteSession() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
}

Status SqliteSession::exec(std::string_view sql) { return exec_sql(db_.handle(), sql); }

Result<sqlite3_stmt*> SqliteSession::prepare(std::string_view sql) {
  sqlite3* db = db_.handle();
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                         &tail) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(db, "preparing \"" + sql_excerpt(sql) + "\"");
  }
  auto refuse = [&](std::string why) -> Error {
    sqlite3_finalize(stmt);
    return Error{"preparing \"" + sql_excerpt(sql) + "\": " + why + " (database " + db_.path() + ")"};
  };
  if (!stmt) return refuse("no statement in the text");
  if (tail && *tail) {  // only blanks and comments may follow
    sqlite3_stmt* next = nullptr;
    const int rc = sqlite3_prepare_v2(db, tail, -1, &next, nullptr);
    sqlite3_finalize(next);
    if (rc != SQLITE_OK || next) return refuse("more than one statement; query() runs one (exec() runs several)");
  }
  for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    if (!name || name[0] != '?') {
      return refuse("parameter " + std::to_string(i) + " is not numbered; write ?1, ?2, ... (the "
                    "PostgreSQL session rewrites only those)");
    }
  }
  return stmt;
}

Result<std::int64_t> SqliteSession::query(std::string_view sql, const std::vector<SqlParam>& params,
                                          const SqlRowCallback& on_row) {
  auto found = statements_.find(sql);
  if (found != statements_.end() && !found->second.in_use) {
    Cached& cached = found->second;
    cached.in_use = true;
    Result<std::int64_t> result = bind_and_step(cached.stmt, params, on_row);
    // `found` may be stale: on_row may have added statements (a rehash);
    // the element itself stays where it is.
    cached.in_use = false;
    return result;
  }
  Result<sqlite3_stmt*> stmt = prepare(sql);
  if (!stmt) return stmt.error();
  if (found != statements_.end()) {
    // The cached one is busy in an enclosing query: this one is used once.
    Result<std::int64_t> result = bind_and_step(*stmt, params, on_row);
    sqlite3_finalize(*stmt);
    return result;
  }
  Cached& cached = statements_.emplace(std::string(sql), Cached{*stmt, true}).first->second;
  Result<std::int64_t> result = bind_and_step(cached.stmt, params, on_row);
  cached.in_use = false;
  return result;
}

Result<std::int64_t> SqliteSession::bind_and_step(sqlite3_stmt* stmt, const std::vector<SqlParam>& params,
                                                  const SqlRowCallback& on_row) {
  sqlite3* db = db_.handle();
  ResetOnExit reset(stmt);
  const int wanted = sqlite3_bind_parameter_count(stmt);
  if (static_cast<std::size_t>(wanted) != params.size()) {
    return Error{"running \"" + sql_excerpt(sqlite3_sql(stmt)) + "\": it takes " + std::to_string(wanted) +
                 " parameters, " + std::to_string(params.size()) + " given (database " + db_.path() + ")"};
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const SqlParam& param = params[i];
    int rc = SQLITE_OK;
    if (const auto* integer = std::get_if<std::int64_t>(&param)) {
      rc = sqlite3_bind_int64(stmt, index, *integer);
    } else if (const auto* real = std::get_if<double>(&param)) {
      rc = sqlite3_bind_double(stmt, index, *real);
    } else if (const auto* text = std::get_if<std::string>(&param)) {
      // SQLITE_STATIC: `params` outlives the statement's use; ResetOnExit
      // clears the binding before this returns.
      rc = sqlite3_bind_text64(stmt, index, text->data(), text->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt, index);
    }
    if (rc != SQLITE_OK) {
      return sqlite_error(db, "binding parameter " + std::to_string(index) + " of \"" +
                                  sql_excerpt(sqlite3_sql(stmt)) + "\"");
    }
  }
  const bool has_columns = sqlite3_column_count(stmt) > 0;
  const SqliteRow row(stmt);
  std::int64_t rows = 0;
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return sqlite_error(db, "running \"" + sql_excerpt(sqlite3_sql(stmt)) + "\"");
    ++rows;
    if (Status ok = on_row(row); !ok) return ok.error();
  }
  return has_columns ? rows : static_cast<std::int64_t>(sqlite3_changes64(db));
}

Status SqliteSession::begin_read() {
  if (sqlite3_exec(db_.handle(), "BEGIN DEFERRED", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite_error(db_.handle(), "starting a read transaction");
  }
  return Status::Ok();
}

Status SqliteSession::begin_write() {
  if (sqlite3_exec(db_.handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite_error(db_.handle(), "starting a write transaction");
  }
  return Status::Ok();
}

Status SqliteSession::commit() {
  if (sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error error = sqlite_error(db_.handle(), "committing");
    rollback();
    return error;
  }
  return Status::Ok();
}

void SqliteSession::rollback() {
  if (sqlite3_get_autocommit(db_.handle()) == 0) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

bool SqliteSession::in_transaction() const { return sqlite3_get_autocommit(db_.handle()) == 0; }

}  // namespace lf
