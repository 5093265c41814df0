// `lfbatch init`: creates the queue's database, or migrates an existing one
// to this binary's schema, and says where it is.
#include <filesystem>
#include <optional>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "store/runner_lock.h"
#include "store/sqlite_store.h"
#include "store/unsaved_results.h"

namespace lf {

void register_init_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "init", "Create the queue database (or migrate an existing one to this version's schema)");
  cmd->callback([&global, &exit_code] {
    Result<Config> config = effective_config(global);
    if (!config) {
      exit_code = fail(config.error(), kExitUsage);
      return;
    }
    if (is_postgresql_url(config->database)) {
      // Tables in an existing database (lfbatch creates no databases); the
      // runners store their own unsaved answers (unsaved_results.h).
      auto store = open_store(*config, /*create=*/true);
      if (!store) {
        exit_code = fail(store.error(), kExitDatabase);
        return;
      }
      if (!global.quiet) {
        fmt::print("Ready: database {} (PostgreSQL, schema version {})\n", (*store)->name(),
                   (*store)->schema_version());
      }
      exit_code = kExitOk;
      return;
    }
    std::error_code ec;
    const bool existed = std::filesystem::exists(config->database, ec);
    // Answers a run could not commit may wait beside the database: they are
    // stored below under the runner lock, taken before the database is
    // opened (closing the lock's descriptor while SQLite has the file open
    // would drop SQLite's own locks; see runner_lock.h).
    const std::string unsaved = unsaved_results_path(config->database);
    const bool has_unsaved = existed && std::filesystem::exists(unsaved, ec);
    std::optional<RunnerLock> lock;
    std::string lock_refused;
    if (has_unsaved) {
      Result<RunnerLock> taken = RunnerLock::acquire(config->database);
      if (taken) {
        lock.emplace(std::move(taken).value());
      } else {
        lock_refused = taken.error().message;
      }
    }
    auto db = SqliteStore::open(config->database, /*create=*/true);
    if (!db) {
      exit_code = fail(db.error(), kExitDatabase);
      return;
    }
    const std::string where = std::filesystem::absolute(config->database, ec).lexically_normal().string();
    if (!global.quiet) {
      fmt::print("{} database {} (schema version {})\n", existed ? "Up to date:" : "Created",
                 where, (*db)->schema_version());
    }
    // Store them now, unless a run is working (it cannot take them mid-run;
    // the next one will).
    if (has_unsaved) {
      if (!lock) {
        fmt::print("Unsaved answers wait in {}: {}; the next `lfbatch run` stores them\n",
                   unsaved, lock_refused);
      } else {
        Result<UnsavedImport> imported = import_unsaved_results(**db, unsaved, now_millis());
        if (!imported) {
          exit_code = fail(imported.error(), kExitDatabase);
          return;
        }
        if (!global.quiet) {
          fmt::print("Stored {} answers an earlier run could not ({} were stored already{}) "
                     "from {}\n",
                     imported->imported, imported->already_stored,
                     imported->unreadable > 0
                         ? fmt::format(", {} unreadable lines skipped", imported->unreadable)
                         : std::string(),
                     unsaved);
        }
      }
    }
    exit_code = kExitOk;
  });
}

}  // namespace lf
