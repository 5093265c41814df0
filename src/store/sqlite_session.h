// The SQLite store's Database seen as a SqlSession: what the report queries
// run on when the queue is a SQLite file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "store/database.h"
#include "store/sql_session.h"

struct sqlite3_stmt;

namespace lf {

// Statements and parameters:
//   - Parameters must be numbered (?1, ?2, ...), as the PostgreSQL session
//     requires: a statement with a bare '?' fails to prepare, and so does a
//     query whose params do not match the highest ?N, so a mistake shows on
//     SQLite before it reaches PostgreSQL.
//   - SqlParam binds as NULL, INTEGER, REAL or TEXT. Text is bound without a
//     copy: `params` outlives the query and is unbound before it returns.
//   - Rows are read in place: SqlRow::text is sqlite3_column_text, valid
//     until the next row.
//
// Prepared statements are kept by SQL text for the life of the session and
// finalized with it; each is reset when its query returns, so none holds a
// read open (which would pin the WAL). A query run from inside another
// query's callback with the same text gets a statement of its own.
//
// Errors name the database file, as the rest of the store's do
// (sqlite_error in store/statement.h).
//
// Not thread-safe, like the Database under it.
class SqliteSession : public SqlSession {
 public:
  // `db` is not owned and must outlive the session.
  explicit SqliteSession(Database& db);
  ~SqliteSession() override;
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  // The database file's path.
  const std::string& name() const override { return db_.path(); }

  Status exec(std::string_view sql) override;
  Result<std::int64_t> query(std::string_view sql, const std::vector<SqlParam>& params,
                             const SqlRowCallback& on_row) override;

  // BEGIN DEFERRED: a snapshot taken at the first read.
  Status begin_read() override;
  // BEGIN IMMEDIATE: the write lock up front, waiting up to the busy timeout.
  Status begin_write() override;
  Status commit() override;
  // Ends the open transaction, if any; a no-op outside one.
  void rollback() override;
  bool in_transaction() const override;

  // How many distinct statements are kept (for tests).
  std::size_t cached_statements() const { return statements_.size(); }

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;  // a query on it is under way
  };
  // Lookup by std::string_view without building a std::string per query.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Result<sqlite3_stmt*> prepare(std::string_view sql);
  Result<std::int64_t> bind_and_step(sqlite3_stmt* stmt, const std::vector<SqlParam>& params,
                                     const SqlRowCallback& on_row);

  Database& db_;
  std::unordered_map<std::string, Cached, TextHash, std::equal_to<>> statements_;
};

}  // namespace lf
