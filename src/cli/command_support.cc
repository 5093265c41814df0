// Shared steps of lfbatch's subcommands.
#include "cli/command_support.h"

#include <chrono>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lf {

Result<Config> effective_config(const GlobalOptions& global) {
  Result<Config> config = load_config(global.config_path);
  if (!config) return config;
  if (!global.db_path.empty()) config->database = global.db_path;
  return config;
}

Result<std::unique_ptr<Database>> open_database(const Config& config, bool create) {
  if (config.database.empty()) {
    return Error{"no database named; pass --db PATH, set LFBATCH_DB, or set \"database\" in the config"};
  }
  if (!create) {
    std::error_code ec;
    if (!std::filesystem::exists(config.database, ec)) {
      return Error{fmt::format("no database at {}; create it with `lfbatch init --db {}` or point "
                               "--db / LFBATCH_DB / the config's \"database\" at an existing one",
                               config.database, config.database)};
    }
  }
  return Database::open(config.database, create);
}

Result<std::unique_ptr<Store>> open_store(const Config& config, bool create) {
  return Store::open(config.database, create);
}

std::string store_display_name(const Config& config) {
  if (is_postgresql_url(config.database)) return url_without_password(config.database);
  std::error_code ec;
  return std::filesystem::absolute(config.database, ec).lexically_normal().string();
}

UnixMillis now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fail(const Error& error, int exit_code) {
  spdlog::error("{}", error.message);
  return exit_code;
}

}  // namespace lf
