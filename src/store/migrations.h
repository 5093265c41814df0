// The schema migrations this binary embeds, generated at build time from
// schema/NNN_name.sql (SQLite) and schema/postgresql/NNN_name.sql by
// embed_migrations.cmake.
#pragma once

#include <span>
#include <string_view>

namespace lf {

struct Migration {
  int version;            // NNN of the file name; the schema version after applying it
  std::string_view name;  // the file name without ".sql", e.g. "001_init"
  std::string_view sql;
};

// Every migration, in version order: element i has version i + 1.
// SQLite's (PRAGMA user_version) and PostgreSQL's (table lfbatch_schema,
// pg_migrations.h) are numbered apart.
std::span<const Migration> embedded_migrations();
std::span<const Migration> embedded_postgresql_migrations();

}  // namespace lf
