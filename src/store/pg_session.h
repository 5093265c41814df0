// One connection to a PostgreSQL database over libpq, as a SqlSession: the
// PostgreSQL queue's connection. libpq stays inside pg_session.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "store/sql_session.h"

struct pg_conn;  // libpq's PGconn

namespace lf {

// Statements, parameters and rows:
//   - Parameters are ?1, ?2, ... in the SQL text (rewrite_placeholders turns
//     them into $1, $2, ...) and are sent as text, apart from the SQL:
//     int64 in decimal, double with the shortest digits that read back to
//     the same double, text as it is, monostate as NULL. The server infers
//     each parameter's type from where it stands; cast (?1::bigint) where it
//     cannot.
//   - Text must be valid UTF-8 without NUL bytes (the session's
//     client_encoding is UTF8, whatever the URL or PGCLIENTENCODING say).
//     Invalid UTF-8 fails the statement naming the parameter (SQLSTATE
//     22021), a NUL fails it before anything is sent. Callers storing bytes
//     that may not be UTF-8 (file names on Linux are any bytes but '/' and
//     NUL) must encode them reversibly before binding and decode what they
//     read back: schema/postgresql/001 stores such a source as '\x' and the
//     hex of its bytes (no real source starts with a backslash).
//   - Rows come as text: integer() parses decimal (booleans 't'/'f' read
//     as 1/0; a value that is not a number reads as 0), real() parses any
//     float8/numeric output ("Infinity" and "NaN" included), locale-free.
//
// Prepared statements: query() prepares each distinct SQL text once per
// connection (PQprepare, named lf_1, lf_2, ...) and executes the prepared
// statement after that: the queue runs a handful of statements thousands
// of times a second. At most kMaxPrepared texts are kept; further texts
// run unprepared (PQsendQueryParams), so a caller building SQL text
// dynamically cannot grow the server's memory without bound. Prepared
// statements belong to the connection, not to a transaction (a ROLLBACK
// keeps them); reconnect() forgets them. A statement whose result columns
// changed under it (ALTER TABLE of a SELECT * table, SQLSTATE 0A000) is
// prepared afresh: at once when outside a transaction, else at its next
// use. Not for a pooler in transaction mode (pgbouncer before 1.21), which
// moves prepared statements between clients' connections.
//
// Errors: every failure is a value: "<what failed> on <name()>: <the
// server's message>" with its detail and hint. last_sqlstate() keeps the
// SQLSTATE of the last failed statement (40001 serialization failure,
// 40P01 deadlock: retry the transaction); connection_lost() tells a dead
// connection from an SQL error, and reconnect() opens it again.
//
// Not thread-safe: one session per thread (libpq's rule for a PGconn).
class PgSession : public SqlSession {
 public:
  static constexpr std::size_t kMaxPrepared = 200;

  // Connects to `url` (postgresql://USER@HOST:PORT/DATABASE?PARAMS or
  // postgres://...; any libpq URL). Credentials come by libpq's
  // conventions: ~/.pgpass or PGPASSFILE, PGPASSWORD, PGSSLMODE and the
  // other PG* variables; a password in the URL works too. The password never
  // appears in name() nor in any message. The failure names the database
  // and the fix (start the server or fix the host/port, put the password in
  // ~/.pgpass, create the database, ...). Unless PGCONNECT_TIMEOUT or the
  // URL say otherwise, an unreachable host fails after 10 s per address.
  static Result<std::unique_ptr<PgSession>> connect(const std::string& url);

  ~PgSession() override;
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }
  // The URL without its password (url_without_password in pg_url.h).
  const std::string& name() const override { return name_; }

  // One or more statements without parameters (a simple-protocol query:
  // migrations, BEGIN/COMMIT). Rows they return are discarded.
  Status exec(std::string_view sql) override;

  // One statement. Rows are streamed (libpq's single-row mode): only the row
  // being handed over is in memory, whatever the size of the result. When
  // `on_row` fails, the rows still coming are read and dropped so that the
  // session can run the next statement; outside a transaction the server is
  // also asked to cancel the statement (inside one, a cancel would abort
  // the caller's transaction). Returns PQcmdTuples (rows changed) for a
  // statement without a result set, else the number of rows handed over.
  Result<std::int64_t> query(std::string_view sql, const std::vector<SqlParam>& params,
                             const SqlRowCallback& on_row) override;

  // begin_read: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (one
  // snapshot for every query until commit). begin_write: BEGIN (the
  // server's default isolation, READ COMMITTED unless configured
  // otherwise); writers take their row locks (FOR UPDATE) themselves.
  // After a failed statement the transaction is aborted: every statement
  // fails (SQLSTATE 25P02) until rollback(). commit() of an aborted
  // transaction fails (the server rolled it back). rollback() does nothing
  // outside a transaction or on a lost connection, and keeps
  // last_sqlstate() (SqlTransaction rolls back before the caller looks).
  Status begin_read() override;
  Status begin_write() override;
  Status commit() override;
  void rollback() override;
  // Whether a transaction is open on the connection, an aborted one
  // included; false on a lost connection (its transaction is gone).
  bool in_transaction() const override;

  // True when the connection is gone (server restarted, backend terminated,
  // network dropped): no statement can succeed until reconnect().
  bool connection_lost() const;
  // Opens the connection again with the same parameters (PQreset). Any
  // transaction, prepared statement and session setting (SET) is gone.
  Status reconnect();

  // The SQLSTATE of the last failure of exec, query, begin_*, or commit;
  // "" after a success. "08006" when the connection was lost without the
  // server saying why.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // The backend's process id (pg_backend_pid()), e.g. for tests to
  // terminate it; 0 when there is no connection.
  int backend_pid() const;

 private:
  struct Closer {
    void operator()(pg_conn* conn) const;
  };

  PgSession(std::unique_ptr<pg_conn, Closer> conn, std::string url, std::string name,
            std::vector<std::string> secrets);

  // Runs `sql` as a simple query, for exec and the transaction statements.
  // Returns the command tag of the last statement ("COMMIT", "ROLLBACK").
  Result<std::string> simple(std::string_view sql, std::string_view what);
  // Prepares `sql` if it is new and there is room; the statement's name,
  // or "" to run it unprepared.
  Result<std::string> prepared_name(std::string_view sql);
  Result<std::int64_t> run_streamed(std::string_view sql, const std::vector<SqlParam>& params,
                                    const SqlRowCallback& on_row, bool* plan_changed);
  // An Error for the last failure, with the server's words; sets last_sqlstate_.
  Error failure(std::string_view what, const std::string& message, const std::string& sqlstate);

  // Lookups by string_view, without copying the SQL text.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  std::unique_ptr<pg_conn, Closer> conn_;
  std::string url_;  // as given, password included: never shown
  std::string name_;
  // Spellings of the password, redacted from connection errors (reconnect).
  std::vector<std::string> secrets_;
  std::string last_sqlstate_;
  // SQL text as given -> name of its prepared statement on this connection.
  std::unordered_map<std::string, std::string, TextHash, std::equal_to<>> prepared_;
  std::uint64_t next_statement_ = 1;
};

}  // namespace lf
