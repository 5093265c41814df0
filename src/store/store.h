// Where the queue lives, opened: one connection to an SQLite file (the
// embedded default) or to a PostgreSQL database (many runners on many
// hosts), with the JobQueue and RunLog on it.
//
// `--db`, LFBATCH_DB and the config's "database" name either: a
// postgresql:// or postgres:// URL is PostgreSQL, anything else a file path.
// PostgreSQL's credentials follow libpq's conventions (PGPASSFILE,
// ~/.pgpass, PGSSLMODE, ...), never a flag; name() never shows a password.
//
// Not thread-safe: one Store per thread, like the connection it owns.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/job_queue.h"
#include "store/pg_url.h"  // is_postgresql_url, url_without_password
#include "store/run_log.h"
#include "store/sql_session.h"

namespace lf {

class Database;

enum class StoreKind {
  kSqlite,
  kPostgresql,
};

class Store {
 public:
  // Opens `db` and brings its schema up to date.
  //  - SQLite: `create` creates a missing file; without it a missing file is
  //    an error that says to run `lfbatch init`.
  //  - PostgreSQL: the database must exist (lfbatch creates tables, never
  //    databases); without `create`, a database without lfbatch's tables is
  //    an error that says to run `lfbatch init`.
  static Result<std::unique_ptr<Store>> open(const std::string& db, bool create);

  virtual ~Store() = default;

  virtual StoreKind kind() const = 0;
  // The file path, or the URL without its password: for messages.
  virtual const std::string& name() const = 0;
  virtual int schema_version() const = 0;

  // Whether several runners may work the queue at once (PostgreSQL). Then
  // no runner lock is taken, each run keeps a heartbeat, and a run is taken
  // for dead when its heartbeat is older than its lease time.
  bool shared() const { return kind() == StoreKind::kPostgresql; }

  virtual JobQueue& queue() = 0;
  virtual RunLog& log() = 0;
  virtual SqlSession& sql() = 0;

  // One write transaction around several queue and log calls (a group
  // commit): each call then joins it instead of committing on its own.
  virtual Status begin_write() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;

  // How long a write waits for another connection's lock before failing.
  virtual void set_lock_wait(std::chrono::milliseconds wait) = 0;

  // After a failed call: reconnects when the connection itself was lost
  // (a PostgreSQL server restarted, a network cut); nothing otherwise.
  virtual void reconnect_if_lost() {}

  // The SQLite database under the store (for what only SQLite has: the
  // runner lock, the WAL syncer, the unsaved-results file beside it);
  // nullptr for PostgreSQL.
  virtual Database* sqlite() { return nullptr; }
};

}  // namespace lf
