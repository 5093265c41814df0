// Bringing a PostgreSQL database to the schema this binary knows: the
// migrations of schema/postgresql/ (embedded, migrations.h), recorded in the
// table lfbatch_schema.
#pragma once

#include <span>

#include "core/result.h"
#include "store/migrations.h"

namespace lf {

class PgSession;

// The schema version of schema/postgresql/'s newest migration.
int latest_postgresql_schema_version();

// Applies the embedded migrations the database lacks, in order, each in a
// transaction of its own that also records it in
//   lfbatch_schema (version INTEGER PRIMARY KEY, applied_at BIGINT)
// (applied_at: the server's clock, ms since the Unix epoch), and sets
// *version_out (when not null) to the version the database is at when it
// returns, also after a failure (the migrations before the failed one stay).
//
// Several processes may migrate the same database at once: every
// transaction first takes pg_advisory_xact_lock(hashtext('lfbatch.migrate'))
// and reads the version under it (READ COMMITTED, whatever the server's
// default), so each migration is applied once; the others wait for it and
// find nothing left to do.
//
// Refuses, changing nothing: a database at a newer version than this binary
// knows (the message says to upgrade lfbatch), and a schema with tables but
// no lfbatch_schema ("not a linkface-batch database"). The tables live in
// the session's current schema (the first of its search_path, normally
// public), so two queues can share a database in two schemas (a URL with
// ?options=-csearch_path%3DNAME).
//
// A migration runs as one simple query: several statements, $$-quoted
// function bodies, no parameters. It must not BEGIN, COMMIT or ROLLBACK,
// nor use what cannot run in a transaction (CREATE INDEX CONCURRENTLY).
//
// REQUIRES: no transaction open on `session`.
Status migrate_postgresql(PgSession& session, int* version_out);

// The same with `migrations` in place of the embedded ones (for tests).
// REQUIRES: element i has version i + 1.
Status migrate_postgresql(PgSession& session, std::span<const Migration> migrations,
                          int* version_out);

}  // namespace lf
