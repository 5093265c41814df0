// lfbatch's entry point: the global options, the subcommands' registrars,
// and turning parse errors and stray exceptions into exit codes. Each
// subcommand lives in its own *_command.cc.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"

namespace {

// Adds the global options to `app` (the top level and every subcommand, so
// they are accepted before or after the subcommand's name and shown in its
// --help). All copies write the same GlobalOptions.
void add_global_options(CLI::App& app, lf::GlobalOptions& global) {
  const std::string group = "Global options";
  app.add_option("--db", global.db_path,
                 "The queue: an SQLite file, or a postgresql:// URL for many runners (default: "
                 "$LFBATCH_DB, the config's \"database\", lfbatch.db)")
      ->group(group);
  app.add_option("--config", global.config_path,
                 "Config file, JSON (default: $LFBATCH_CONFIG; none: built-in defaults)")
      ->group(group);
  app.add_flag("--log-json", global.log_json, "Log one JSON object per line on stderr")->group(group);
  app.add_flag("-q,--quiet", global.quiet, "Log warnings and errors only; no summaries (cron)")
      ->group(group);
  app.add_flag("-v,--verbose", global.verbose, "Log debug lines too")->group(group);
}

}  // namespace

int main(int argc, char** argv) {
  lf::setup_logging({});
  CLI::App app{"lfbatch: verify archives of hand-held ID card photos with the LinkFace API", "lfbatch"};
  app.set_version_flag("--version", "lfbatch " LF_VERSION);
  app.require_subcommand(1);

  lf::GlobalOptions global;
  int exit_code = lf::kExitOk;
  lf::register_init_command(app, global, exit_code);
  lf::register_enqueue_command(app, global, exit_code);
  lf::register_status_command(app, global, exit_code);
  lf::register_run_command(app, global, exit_code);
  lf::register_report_command(app, global, exit_code);
  lf::register_retry_command(app, global, exit_code);
  lf::register_jobs_command(app, global, exit_code);
  lf::register_doctor_command(app, global, exit_code);
  // Other subcommands: add each registrar call here with its *_command.cc
  // (src/cli/CMakeLists.txt): run, report, retry, jobs.

  add_global_options(app, global);
  for (CLI::App* sub : app.get_subcommands({})) add_global_options(*sub, global);
  // Runs after parsing, before any subcommand's callback.
  app.parse_complete_callback([&global] {
    lf::setup_logging({.json = global.log_json, .quiet = global.quiet, .verbose = global.verbose});
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 says only "A subcommand is required" for a misspelt one: name it.
    if (e.get_name() == "RequiredError" && app.get_subcommands().empty()) {
      for (const std::string& word : app.remaining()) {
        if (word.empty() || word[0] == '-') continue;
        std::string names;
        for (const CLI::App* sub : app.get_subcommands({})) {
          names += (names.empty() ? "" : ", ") + sub->get_name();
        }
        std::fprintf(stderr, "lfbatch: unknown subcommand \"%s\"; the subcommands are %s "
                     "(lfbatch --help)\n", word.c_str(), names.c_str());
        return lf::kExitUsage;
      }
    }
    const int code = app.exit(e);
    return code == 0 ? lf::kExitOk : lf::kExitUsage;
  } catch (const std::exception& e) {
    spdlog::critical("internal error (a bug; please report it): {}", e.what());
    return lf::kExitInternal;
  }
  return exit_code;
}
