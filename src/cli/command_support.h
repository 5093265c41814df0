// What lfbatch's subcommands share: the effective config (file, environment
// and the global flags), the queue's database, the clock, and turning an
// Error into a log line and an exit code.
#pragma once

#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/config.h"
#include "core/job.h"
#include "core/result.h"
#include "store/database.h"
#include "store/store.h"

namespace lf {

// The config as the global flags make it: `--config` (else $LFBATCH_CONFIG)
// read, the environment overlaid, then `--db` applied (flags win).
Result<Config> effective_config(const GlobalOptions& global);

// Opens the database `config.database`. With `create` false, a missing file
// is an error that says to run `lfbatch init`.
Result<std::unique_ptr<Database>> open_database(const Config& config, bool create);

// Opens the store `config.database` names: an SQLite file or a
// postgresql:// URL (store/store.h). `create` as Store::open.
Result<std::unique_ptr<Store>> open_store(const Config& config, bool create);

// How a command names the store in what it prints: an SQLite file's
// absolute path, a PostgreSQL URL without its password.
std::string store_display_name(const Config& config);

// Wall-clock now, in the unit of every database timestamp.
UnixMillis now_millis();

// Logs `error` at error level and returns `exit_code`.
int fail(const Error& error, int exit_code);

}  // namespace lf
