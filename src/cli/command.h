// How lfbatch's subcommands plug into the command line: each *_command.cc
// registers one CLI11 subcommand; lfbatch_main.cc only calls the registrars.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace lf {

// Options every subcommand accepts, filled by CLI11 before a callback runs.
struct GlobalOptions {
  std::string db_path;      // --db; empty: the config's `database`
  std::string config_path;  // --config; empty: $LFBATCH_CONFIG or none
  bool log_json = false;    // --log-json: one JSON object per log line
  bool quiet = false;       // --quiet: warnings and errors only (cron)
  bool verbose = false;     // --verbose: debug lines
};

// Each registrar adds its subcommand to `app`. Its callback sets
// `exit_code` (0 success; see README "Exit codes").
void register_init_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_enqueue_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_status_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_run_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_report_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_retry_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_jobs_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void register_doctor_command(CLI::App& app, GlobalOptions& global, int& exit_code);

}  // namespace lf
