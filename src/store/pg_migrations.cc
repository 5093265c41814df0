// The PostgreSQL migrations: one transaction per migration under an
// advisory lock, the version in lfbatch_schema.
#include "store/pg_migrations.h"

#include <string>

#include "store/pg_session.h"

namespace lf {
namespace {

// Rolls back on destruction unless released: every early return below
// leaves no transaction open (and so releases the advisory lock).
class OpenTransaction {
 public:
  explicit OpenTransaction(PgSession& session) : session_(&session) {}
  OpenTransaction(const OpenTransaction&) = delete;
  OpenTransaction& operator=(const OpenTransaction&) = delete;
  ~OpenTransaction() {
    if (session_) session_->rollback();
  }
  void release() { session_ = nullptr; }

 private:
  PgSession* session_;
};

Result<std::int64_t> one_integer(PgSession& session, std::string_view sql,
                                 const std::vector<SqlParam>& params = {}) {
  std::int64_t value = 0;
  Result<std::int64_t> rows = session.query(sql, params, [&](const SqlRow& row) {
    value = row.integer(0);
    return Status::Ok();
  });
  if (!rows) return rows.error();
  return value;
}

// The version recorded in the current schema, 0 for a schema without any
// table; an Error for a schema that is someone else's.
Result<int> recorded_version(PgSession& session) {
  std::string schema;
  bool has_schema = false;
  Result<std::int64_t> rows = session.query("SELECT current_schema()", {}, [&](const SqlRow& row) {
    has_schema = !row.is_null(0);
    schema = row.string(0);
    return Status::Ok();
  });
  if (!rows) return rows.error();
  if (!has_schema) {
    return Error{session.name() + " has no schema to create the tables in (none of its search_path "
                 "exists): create one, or fix search_path (?options=-csearch_path%3DNAME in --db)"};
  }
  Result<std::int64_t> ours = one_integer(
      session,
      "SELECT count(*) FROM pg_catalog.pg_tables"
      " WHERE schemaname = current_schema() AND tablename = 'lfbatch_schema'");
  if (!ours) return ours.error();
  if (*ours > 0) {
    Result<std::int64_t> version =
        one_integer(session, "SELECT coalesce(max(version), 0) FROM lfbatch_schema");
    if (!version) return version.error();
    return static_cast<int>(*version);
  }
  std::string others;
  std::int64_t count = 0;
  rows = session.query(
      "SELECT tablename, count(*) OVER () FROM pg_catalog.pg_tables"
      " WHERE schemaname = current_schema() ORDER BY tablename LIMIT 3",
      {}, [&](const SqlRow& row) {
        others += (others.empty() ? "" : ", ") + row.string(0);
        count = row.integer(1);
        return Status::Ok();
      });
  if (!rows) return rows.error();
  if (count > 0) {
    return Error{session.name() + " is not a linkface-batch database: its schema " + schema +
                 " has " + std::to_string(count) + " table(s) (" + others +
                 (count > 3 ? ", ..." : "") +
                 ") but no lfbatch_schema; give another database in --db (or another schema: "
                 "?options=-csearch_path%3DNAME)"};
  }
  return 0;
}

}  // namespace

int latest_postgresql_schema_version() {
  return static_cast<int>(embedded_postgresql_migrations().size());
}

Status migrate_postgresql(PgSession& session, int* version_out) {
  return migrate_postgresql(session, embedded_postgresql_migrations(), version_out);
}

Status migrate_postgresql(PgSession& session, std::span<const Migration> migrations,
                          int* version_out) {
  const int latest = static_cast<int>(migrations.size());
  while (true) {
    // READ COMMITTED: each statement sees what was committed before it
    // began, so the version read after the lock is the last holder's.
    if (Status status = session.exec("BEGIN ISOLATION LEVEL READ COMMITTED"); !status) {
      return Error{"cannot migrate: " + status.message()};
    }
    OpenTransaction transaction(session);
    if (Result<std::int64_t> locked =
            session.run("SELECT pg_advisory_xact_lock(hashtext('lfbatch.migrate'))");
        !locked) {
      return Error{"cannot migrate: " + locked.error().message};
    }
    Result<int> version = recorded_version(session);
    if (!version) return version.error();
    if (version_out) *version_out = *version;
    if (*version > latest) {
      return Error{session.name() + " was written by a newer lfbatch (schema " +
                   std::to_string(*version) + ", this binary knows " + std::to_string(latest) +
                   "); upgrade lfbatch"};
    }
    if (*version == latest) return Status::Ok();  // the rollback ends the transaction

    const Migration& migration = migrations[static_cast<std::size_t>(*version)];
    const std::string which = "cannot migrate to schema " + std::to_string(migration.version) +
                              " (" + std::string(migration.name) + "): ";
    if (*version == 0) {
      if (Status status = session.exec(
              "CREATE TABLE IF NOT EXISTS lfbatch_schema ("
              " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
          !status) {
        return Error{which + status.message()};
      }
    }
    if (Status status = session.exec(migration.sql); !status) return Error{which + status.message()};
    if (Result<std::int64_t> recorded = session.run(
            "INSERT INTO lfbatch_schema (version, applied_at)"
            " VALUES (?1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
            {std::int64_t{migration.version}});
        !recorded) {
      return Error{which + recorded.error().message};
    }
    transaction.release();
    if (Status status = session.commit(); !status) {
      session.rollback();
      return Error{which + status.message()};
    }
    if (version_out) *version_out = migration.version;
  }
}

}  // namespace lf
