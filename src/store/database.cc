// Opening a linkface-batch database: pragmas, ownership checks and the
// embedded migrations.
#include "store/database.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "store/migrations.h"
#include "store/statement.h"

namespace lf {
namespace {

Result<std::int64_t> pragma_int(sqlite3* db, const char* sql) {
  Result<Statement> statement = Statement::prepare(db, sql);
  if (!statement) return statement.error();
  Result<bool> row = statement->step();
  if (!row) return row.error();
  return *row ? statement->column_int64(0) : 0;
}

std::string hex(std::int64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%08llx",
                static_cast<unsigned long long>(static_cast<std::uint32_t>(value)));
  return buffer;
}

}  // namespace

std::string sqlite_failure_fix(int extended_code, const std::string& path) {
  switch (extended_code & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return "; lfbatch must create " + path + "-wal and " + path +
             "-shm beside it: make its directory writable, remount a read-only file system "
             "read-write, or copy the database to a writable place";
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return "; check the disk that holds it: free space (df) and I/O errors (dmesg)";
    default:
      return "";
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

int Database::on_busy(void* self, int calls_so_far) {
  auto* db = static_cast<Database*>(self);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  if (calls_so_far == 0) db->busy_since_nanos_ = now;
  if (now - db->busy_since_nanos_ >=
      std::chrono::duration_cast<std::chrono::nanoseconds>(db->busy_timeout_).count()) {
    return 0;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}

int Database::latest_schema_version() {
  return static_cast<int>(embedded_migrations().size());
}

int Database::schema_version() const { return schema_version_; }

Status Database::exec(const std::string& sql) { return exec_sql(db_, sql); }

Result<std::unique_ptr<Database>> Database::open(const std::string& path, bool create) {
  if (path.empty()) {
    return Error{"no database path given; pass --db PATH or set `database` in the config"};
  }
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // Owns `raw` from here, so every return below closes it.
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) {
    std::error_code ec;
    if (!create && !std::filesystem::exists(path, ec)) {
      return Error{"no database at " + path + "; create it with `lfbatch init --db " + path + "`"};
    }
    return Error{"cannot open the database " + path + ": " +
                 (raw ? sqlite3_errmsg(raw) : "out of memory") +
                 " (check that its directory exists and is writable)"};
  }
  if (Status status = db->configure_and_migrate(); !status) return status.error();
  return db;
}

Status Database::configure_and_migrate() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_handler(db_, &Database::on_busy, this);

  // The first read of the file: a file that is not SQLite fails here.
  Result<std::int64_t> application_id = pragma_int(db_, "PRAGMA application_id");
  if (!application_id) {
    if ((sqlite3_errcode(db_) & 0xff) == SQLITE_NOTADB) {
      return Error{path_ + " is not a linkface-batch database (not an SQLite file); "
                   "check the --db path or the config's `database`"};
    }
    return Error{"cannot read the database " + path_ + ": " + sqlite3_errmsg(db_) +
                 sqlite_failure_fix(sqlite3_extended_errcode(db_), path_)};
  }
  Result<std::int64_t> user_version = pragma_int(db_, "PRAGMA user_version");
  if (!user_version) return Error{"cannot read the database " + path_ + ": " + sqlite3_errmsg(db_)};

  auto check_ours = [&](std::int64_t app_id, std::int64_t version) -> Status {
    if (app_id != 0 && app_id != kApplicationId) {
      return Error{path_ + " is an SQLite database of another application (application_id " +
                   hex(app_id) + "), not a linkface-batch one; use another --db path"};
    }
    if (version > 0 && app_id != kApplicationId) {
      return Error{path_ + " is an SQLite database of another application (user_version " +
                   std::to_string(version) + " but no linkface-batch id); use another --db path"};
    }
    if (version > latest_schema_version()) {
      return Error{path_ + " was written by a newer lfbatch (schema " + std::to_string(version) +
                   ", this binary knows " + std::to_string(latest_schema_version()) +
                   "); upgrade lfbatch"};
    }
    return Status::Ok();
  };
  if (Status status = check_ours(*application_id, *user_version); !status) return status;
  if (*user_version == 0) {
    Result<std::int64_t> objects = pragma_int(db_, "SELECT count(*) FROM sqlite_schema");
    if (!objects) return Error{"cannot read the database " + path_ + ": " + sqlite3_errmsg(db_)};
    if (*objects > 0) {
      return Error{path_ + " is an SQLite database with tables of another application, not a "
                   "linkface-batch one; use another --db path"};
    }
  }

  // WAL lets readers (status, reports) work beside a running writer.
  // In-memory databases answer "memory", which is fine.
  if (Status status = exec_sql(db_, "PRAGMA journal_mode = WAL"); !status) {
    return Error{"cannot switch " + path_ + " to WAL mode: " + status.message()};
  }
  // synchronous = FULL: every commit fsyncs the WAL, so what a command
  // committed survives a power loss (NORMAL may roll back the last commits).
  // The runner's writer, which must not wait for the disk, commits with
  // NORMAL and syncs the WAL on a thread of its own (store/wal_syncer.h).
  // The page cache is a ceiling per connection that a long `lfbatch run`
  // reaches (it touches every page of the queue in turn), so it bounds the
  // run's RSS whatever the queue size. 16 MiB holds the hot path (the inner
  // pages of jobs and its indexes, the head of jobs_due, the tail of
  // attempts) at 5,000,000 jobs: a run of 200,000 requests peaked at 30 MiB
  // RSS instead of 76 MiB with 64 MiB, at no more CPU; enqueue of 1,000,000
  // URLs took the same time (scripts/bench_large_queue.sh, bench_enqueue.sh).
  if (Status status = exec_sql(db_,
                               "PRAGMA synchronous = FULL;"
                               "PRAGMA foreign_keys = ON;"
                               "PRAGMA cache_size = -16384;");  // 16 MiB
      !status) {
    return Error{"cannot configure the database " + path_ + ": " + status.message()};
  }

  schema_version_ = static_cast<int>(*user_version);
  if (schema_version_ == latest_schema_version()) return Status::Ok();

  Result<Transaction> tx = Transaction::begin(db_, Transaction::Mode::kWrite);
  if (!tx) return Error{"cannot migrate " + path_ + ": " + tx.error().message};
  // Another process may have migrated while we waited for the write lock.
  application_id = pragma_int(db_, "PRAGMA application_id");
  user_version = pragma_int(db_, "PRAGMA user_version");
  if (!application_id || !user_version) {
    return Error{"cannot read the database " + path_ + ": " + sqlite3_errmsg(db_)};
  }
  if (Status status = check_ours(*application_id, *user_version); !status) return status;
  for (const Migration& migration : embedded_migrations()) {
    if (migration.version <= *user_version) continue;
    if (Status status = exec_sql(db_, migration.sql); !status) {
      return Error{"cannot migrate " + path_ + " to schema " + std::to_string(migration.version) +
                   " (" + std::string(migration.name) + "): " + status.message()};
    }
  }
  const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                            "; PRAGMA user_version = " + std::to_string(latest_schema_version());
  if (Status status = exec_sql(db_, stamp); !status) {
    return Error{"cannot record the schema version of " + path_ + ": " + status.message()};
  }
  if (Status status = tx->commit(); !status) {
    return Error{"cannot migrate " + path_ + ": " + status.message()};
  }
  schema_version_ = latest_schema_version();
  return Status::Ok();
}

}  // namespace lf
