// `lfbatch status`: how many jobs are in each state, the last API status of
// finished jobs, and how many are due now; a table, or JSON with --json.
#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "core/job.h"
#include "store/job_queue.h"
#include "store/unsaved_results.h"

namespace lf {
namespace {

constexpr std::array kStates = {JobState::kPending, JobState::kLeased, JobState::kDone,
                                JobState::kFailed};

// Every state, zeros included, so scripts can read any key.
std::map<std::string, std::int64_t> all_states(const QueueCounts& counts) {
  std::map<std::string, std::int64_t> states;
  for (JobState s : kStates) states[std::string(to_string(s))] = 0;
  for (const auto& [state, n] : counts.by_state) states[state] = n;
  return states;
}

std::string status_json(const QueueCounts& counts, std::int64_t unsaved) {
  nlohmann::ordered_json j = {
      {"total", counts.total},
      {"by_state", all_states(counts)},
      {"by_status", counts.by_status},
      {"due_now", counts.due_now},
      {"in_doubt", counts.in_doubt},
      {"unsaved_results", unsaved},
  };
  return j.dump(2) + "\n";
}

std::string status_table(const std::string& where, const QueueCounts& counts,
                         std::int64_t unsaved, const std::string& unsaved_path) {
  const auto states = all_states(counts);
  auto label = [](const std::string& status) { return status.empty() ? std::string("(none)") : status; };
  std::size_t width = std::string_view("due now").size();
  for (const auto& [name, n] : states) width = std::max(width, name.size());
  for (const auto& [name, n] : counts.by_status) width = std::max(width, label(name).size());
  const std::size_t digits = fmt::format("{}", std::max<std::int64_t>(counts.total, 0)).size();
  auto row = [&](const std::string& name, std::int64_t n) {
    return fmt::format("  {:<{}}  {:>{}}", name, width, n, digits);
  };

  std::string out = fmt::format("Database {}\n\nJobs by state\n", where);
  for (JobState s : kStates) out += row(std::string(to_string(s)), states.at(std::string(to_string(s)))) + "\n";
  for (const auto& [name, n] : states) {  // states a newer schema may add
    if (std::none_of(kStates.begin(), kStates.end(), [&](JobState s) { return to_string(s) == name; })) {
      out += row(name, n) + "\n";
    }
  }
  out += row("total", counts.total) + "\n";
  out += row("due now", counts.due_now) + "  (pending jobs whose next attempt is due)\n";
  if (counts.in_doubt > 0) {
    out += fmt::format("\n{} requests are in doubt: sent by runs that died before storing the "
                       "answer (the server may have counted them)\n",
                       counts.in_doubt);
  }
  if (unsaved > 0) {
    out += fmt::format("\n{} answers wait in {} (the database could not take them): "
                       "`lfbatch run` or `lfbatch init` stores them\n",
                       unsaved, unsaved_path);
  }
  if (!counts.by_status.empty()) {
    out += "\nFinished jobs by last API status\n";
    for (const auto& [name, n] : counts.by_status) out += row(label(name), n) + "\n";
  }
  return out;
}

}  // namespace

void register_status_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "status", "Count jobs by state and by the last API status of finished jobs");
  cmd->add_flag("--json", *json,
                "Print JSON: {\"total\", \"by_state\": {...}, \"by_status\": {...}, \"due_now\", "
                "\"in_doubt\", \"unsaved_results\"}");
  cmd->callback([&global, &exit_code, json] {
    Result<Config> config = effective_config(global);
    if (!config) {
      exit_code = fail(config.error(), kExitUsage);
      return;
    }
    auto store = open_store(*config, /*create=*/false);
    if (!store) {
      exit_code = fail(store.error(), kExitDatabase);
      return;
    }
    Result<QueueCounts> counts = (*store)->queue().counts(now_millis());
    if (!counts) {
      exit_code = fail(counts.error(), kExitDatabase);
      return;
    }
    const std::string where = store_display_name(*config);
    std::string unsaved_path = unsaved_results_path(config->database);
    std::int64_t unsaved = 0;
    if ((*store)->shared()) {
      // One file per run of this host (unsaved_results.h).
      for (const UnsavedFile& file : unsaved_results_files(config->database)) {
        unsaved += count_unsaved_results(file.path);
        unsaved_path = std::filesystem::path(file.path).parent_path().string();
      }
    } else {
      unsaved = count_unsaved_results(unsaved_path);
    }
    fmt::print("{}", *json ? status_json(*counts, unsaved)
                           : status_table(where, *counts, unsaved, unsaved_path));
    exit_code = kExitOk;
  });
}

}  // namespace lf
