// `lfbatch init`: creates the queue's database, or migrates an existing one
// to this binary's schema, and says where it is.
#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"

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
    std::error_code ec;
    const bool existed = std::filesystem::exists(config->database, ec);
    auto db = open_database(*config, /*create=*/true);
    if (!db) {
      exit_code = fail(db.error(), kExitDatabase);
      return;
    }
    const std::string where = std::filesystem::absolute(config->database, ec).lexically_normal().string();
    if (!global.quiet) {
      fmt::print("{} database {} (schema version {})\n", existed ? "Up to date:" : "Created",
                 where, (*db)->schema_version());
    }
    exit_code = kExitOk;
  });
}

}  // namespace lf
