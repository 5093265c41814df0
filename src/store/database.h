// A connection to the linkface-batch SQLite database: opened with WAL,
// a busy timeout and foreign keys on, migrated to the schema this binary
// embeds (schema/NNN_*.sql, recorded in PRAGMA user_version).
//
// One connection per thread: a Database is not safe to use from two
// threads at once. Several connections (threads or processes) may share a
// file; writers queue on SQLite's lock for up to kBusyTimeoutMillis.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

struct sqlite3;

namespace lf {

// What to do when SQLite could not read or write the database at `path`,
// given its extended result code: "" when there is nothing to add, else "; " and the
// fix (a read-only file system or directory for SQLITE_CANTOPEN and
// SQLITE_READONLY: WAL mode must create PATH-wal and PATH-shm; the disk for
// SQLITE_IOERR and SQLITE_FULL). Pure.
std::string sqlite_failure_fix(int extended_code, const std::string& path);

class Database {
 public:
  // Opens (creating if `create` is true) the database at `path` and applies
  // the migrations it lacks. Fails with a message naming `path` when the
  // file cannot be opened, is not a linkface-batch database, or was written
  // by a newer lfbatch (schema version above the one this binary knows).
  static Result<std::unique_ptr<Database>> open(const std::string& path, bool create = true);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements that return no rows.
  Status exec(const std::string& sql);

  // The schema version of the open database (== latest_schema_version()
  // after open).
  int schema_version() const;
  static int latest_schema_version();

  const std::string& path() const { return path_; }

  // How long a statement waits for another connection's write lock before
  // failing with "database is locked"; kBusyTimeoutMillis after open.
  void set_busy_timeout(std::chrono::milliseconds timeout) { busy_timeout_ = timeout; }

  // The raw handle, for the store's own modules. Owned by this Database.
  sqlite3* handle() const { return db_; }

  // PRAGMA application_id of every linkface-batch database ("LfBt"), set by
  // the first migration; a database with another id is not ours.
  static constexpr std::int32_t kApplicationId = 0x4C664274;
  // How long a write waits for another connection's write transaction
  // before failing with "database is locked". Waiters poll the lock every
  // millisecond (SQLite's own busy_timeout backs off to 100 ms and would
  // starve behind a writer with short gaps between transactions).
  static constexpr int kBusyTimeoutMillis = 5000;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status configure_and_migrate();
  static int on_busy(void* self, int calls_so_far);

  sqlite3* db_;
  std::string path_;
  int schema_version_ = 0;
  std::int64_t busy_since_nanos_ = 0;  // steady clock; start of the current wait
  std::chrono::milliseconds busy_timeout_{kBusyTimeoutMillis};
};

}  // namespace lf
