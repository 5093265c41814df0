// One connection to the database of either store, seen as SQL text in and
// rows out: what the report queries and the PostgreSQL queue are written
// against. The SQLite store adapts its Database (sqlite_session.h); the
// PostgreSQL store is one (pg_session.h).
//
// Parameters are written ?1, ?2, ... in the SQL text (SQLite's spelling);
// the PostgreSQL session rewrites them to $1, $2, ... outside quotes. Values
// never enter the SQL text.
//
// Not thread-safe: one session per thread, like the connection under it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace lf {

// A bound value: NULL, an integer, a real or text.
using SqlParam = std::variant<std::monostate, std::int64_t, double, std::string>;

enum class SqlDialect {
  kSqlite,
  kPostgresql,
};

// One row of a result, valid only inside the callback that received it.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual int columns() const = 0;
  virtual bool is_null(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;   // 0 for NULL
  virtual double real(int column) const = 0;            // 0 for NULL
  virtual std::string_view text(int column) const = 0;  // "" for NULL; valid until the next row

  std::optional<std::int64_t> optional_integer(int column) const {
    return is_null(column) ? std::nullopt : std::optional<std::int64_t>(integer(column));
  }
  std::optional<double> optional_real(int column) const {
    return is_null(column) ? std::nullopt : std::optional<double>(real(column));
  }
  std::string string(int column) const { return std::string(text(column)); }
};

// Called for each row in order; a failed Status stops the query and is
// returned by it.
using SqlRowCallback = std::function<Status(const SqlRow&)>;

class SqlSession {
 public:
  virtual ~SqlSession() = default;

  virtual SqlDialect dialect() const = 0;

  // Where the data lives, for messages: a file path, or a PostgreSQL URL
  // without its password.
  virtual const std::string& name() const = 0;

  // Runs one or more statements that return no rows (no parameters).
  virtual Status exec(std::string_view sql) = 0;

  // Runs one statement with `params` bound to ?1.. and hands each row to
  // `on_row` as it arrives (streamed: a million rows are never in memory at
  // once). Returns the number of rows changed for INSERT/UPDATE/DELETE
  // without RETURNING, else the number of rows handed over.
  virtual Result<std::int64_t> query(std::string_view sql, const std::vector<SqlParam>& params,
                                     const SqlRowCallback& on_row) = 0;

  // Convenience: a statement without rows wanted.
  Result<std::int64_t> run(std::string_view sql, const std::vector<SqlParam>& params = {}) {
    return query(sql, params, [](const SqlRow&) { return Status{}; });
  }

  // Transactions. begin_read gives one consistent snapshot for several
  // queries; begin_write takes what the dialect needs to write without
  // losing a race (SQLite: BEGIN IMMEDIATE). commit/rollback end either.
  virtual Status begin_read() = 0;
  virtual Status begin_write() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  // Whether a transaction is open on the connection (a caller's: the
  // store's calls then join it instead of opening their own).
  virtual bool in_transaction() const = 0;
};

// A transaction of the caller's own, rolled back on destruction unless
// committed: an early return leaves none open. When the session is already
// in one (a caller grouping several calls, e.g. the store writer's group
// commit), it joins that one instead: commit() then commits nothing, and
// the outer owner decides.
class SqlTransaction {
 public:
  enum class Mode { kRead, kWrite };
  static Result<SqlTransaction> begin(SqlSession& session, Mode mode) {
    if (session.in_transaction()) return SqlTransaction(nullptr);
    Status ok = mode == Mode::kRead ? session.begin_read() : session.begin_write();
    if (!ok) return ok.error();
    return SqlTransaction(&session);
  }
  SqlTransaction(SqlTransaction&& other) noexcept : session_(other.session_) {
    other.session_ = nullptr;
  }
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  ~SqlTransaction() {
    if (session_) session_->rollback();
  }
  Status commit() {
    SqlSession* s = session_;
    session_ = nullptr;
    return s ? s->commit() : Status::Ok();
  }

 private:
  explicit SqlTransaction(SqlSession* session) : session_(session) {}
  SqlSession* session_;  // null: joined the caller's, or already ended
};

}  // namespace lf
