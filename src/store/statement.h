// RAII over SQLite for the store's own modules: a prepared statement
// (prepare, bind, step, reset) and a transaction that rolls back unless
// committed. Private to src/store: it brings in sqlite3.h.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lf {

// An Error for the last failure on `db`: "<what>: <sqlite message> (database <file>)".
Error sqlite_error(sqlite3* db, std::string_view what);

// Runs `sql` (one or more statements, no rows wanted).
Status exec_sql(sqlite3* db, std::string_view sql);

// A prepared statement. Owns its sqlite3_stmt; the connection must outlive
// it. Not thread-safe (like its connection).
class Statement {
 public:
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);

  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind parameter `index` (1-based). A failed bind (a bug: bad index) is
  // reported by the next step().
  Statement& bind_int64(int index, std::int64_t value);
  Statement& bind_double(int index, double value);
  Statement& bind_text(int index, std::string_view value);  // copied by SQLite
  Statement& bind_null(int index);
  // NULL when `value` is empty / absent.
  Statement& bind_text_or_null(int index, std::string_view value);
  Statement& bind_optional(int index, const std::optional<double>& value);
  Statement& bind_optional(int index, const std::optional<std::int64_t>& value);

  // One step: true when a row is ready, false when the statement is done.
  Result<bool> step();
  // Steps to the end, ignoring rows.
  Status run();
  // Ready for new bindings and a new run; ends any read the statement holds.
  void reset();

  bool column_is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;  // "" for NULL
  std::optional<std::int64_t> column_optional_int64(int column) const;
  std::optional<double> column_optional_double(int column) const;

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  void note_bind(int rc);

  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// Resets a statement when the scope ends, so no early return leaves a read
// open (which would pin the WAL).
class StatementReset {
 public:
  explicit StatementReset(Statement& statement) : statement_(statement) {}
  ~StatementReset() { statement_.reset(); }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  Statement& statement_;
};

// A transaction on one connection, rolled back on destruction unless
// committed. When the connection is already inside a transaction (a caller
// grouping several store calls), it is a SAVEPOINT inside that one instead,
// so the store's calls compose.
class Transaction {
 public:
  enum class Mode {
    kWrite,  // BEGIN IMMEDIATE: takes the write lock up front, waiting up to the busy timeout
    kRead,   // BEGIN DEFERRED: a consistent snapshot for reads
  };

  static Result<Transaction> begin(sqlite3* db, Mode mode);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  Transaction(sqlite3* db, bool savepoint) : db_(db), savepoint_(savepoint) {}
  void roll_back();

  sqlite3* db_ = nullptr;  // null once committed, rolled back or moved from
  bool savepoint_ = false;
};

}  // namespace lf
