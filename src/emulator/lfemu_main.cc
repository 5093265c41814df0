// lfemu: the emulator of the LinkFace handhold_idcard_verification API.
// Parses the command line and the config, then serves until SIGINT/SIGTERM.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "emulator/emulator_settings.h"
#include "emulator/http_server.h"
#include "emulator/verification_service.h"

namespace {

struct Flags {
  std::string config_path;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<int> threads;
  std::vector<std::string> accounts;
  std::optional<std::uint64_t> seed;
  std::optional<double> rps, burst, fail_rate, reset_rate, stall_rate, truncate_rate,
      bad_json_rate;
  std::optional<std::int64_t> quota, quota_reset_seconds, max_concurrent, latency_ms,
      latency_jitter_ms;
  bool retry_after = false;
  bool allow_remote_downloads = false;
  std::optional<std::uint64_t> call_log;
  std::string log_level = "info";
};

// A flag "applying to every account": sets the default and drops the
// accounts' own value of that knob.
template <typename T, typename Field>
void apply_to_all(const std::optional<T>& flag, lf::EmulatorSettings& settings, Field field) {
  if (!flag) return;
  settings.defaults.*field = *flag;
  for (auto& account : settings.accounts) (account.knobs.*field).reset();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lfemu: an emulator of the LinkFace POST /identity/handhold_idcard_verification "
               "API, with accounts, rate limits, quotas and injected faults.\n"
               "Admin: GET /_admin/stats, GET /_admin/calls[?since=N&limit=M] (with --call-log), "
               "GET|POST /_admin/config, POST /_admin/reset-quota, POST /_admin/reset-stats."};
  app.set_version_flag("--version", std::string("lfemu ") + LF_VERSION);
  Flags f;
  app.add_option("--config", f.config_path, "JSON config (see config/lfemu.example.json)")
      ->check(CLI::ExistingFile);
  app.add_option("--host", f.host, "address to listen on (default 127.0.0.1)");
  app.add_option("--port", f.port, "port to listen on; 0 picks a free port (default 8080)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", f.threads, "threads running the server (default 1)")
      ->check(CLI::Range(1, 256));
  app.add_option("--account", f.accounts, "an account ID:SECRET (repeatable)");
  app.add_option("--seed", f.seed, "seed of the RNG behind faults and ids");
  app.add_option("--rps", f.rps, "every account: admitted requests/s (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--burst", f.burst, "every account: token bucket size (0 = rps/10, >= 1)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--quota", f.quota, "every account: requests per quota period (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--quota-reset-seconds", f.quota_reset_seconds,
                 "every account: quota period (0 = never resets)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-concurrent", f.max_concurrent,
                 "every account: requests in flight (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fail-rate", f.fail_rate, "every account: fraction answered 500")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--reset-rate", f.reset_rate, "fraction of connections reset with no answer")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--stall-rate", f.stall_rate, "fraction answered with headers, then silence")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--truncate-rate", f.truncate_rate, "fraction with a truncated body")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--bad-json-rate", f.bad_json_rate, "fraction answered 200 with non-JSON")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--latency-ms", f.latency_ms, "added latency before every answer")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--latency-jitter-ms", f.latency_jitter_ms, "plus uniform random [0, this]")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--retry-after", f.retry_after, "send Retry-After on 403 throttling");
  app.add_flag("--allow-remote-downloads", f.allow_remote_downloads,
               "let file_url fetch non-loopback hosts (lfemu becomes a proxy)");
  app.add_option("--call-log", f.call_log,
                 "keep the last N API calls for GET /_admin/calls (JSON Lines: seq, at_ms, "
                 "request_id, account, source, sha256 of the image, http_status, api_status, "
                 "billed, faults); 0 = off, the default: nothing recorded or hashed")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32));
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  CLI11_PARSE(app, argc, argv);

  // stdout carries only the listening line; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("lfemu"));
  spdlog::set_level(spdlog::level::from_str(f.log_level));

  lf::LfemuConfig config;
  if (!f.config_path.empty()) {
    auto loaded = lf::load_lfemu_config(f.config_path);
    if (!loaded) {
      std::cerr << "lfemu: " << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(*loaded);
  }
  lf::EmulatorSettings& settings = config.emulator;
  for (const auto& text : f.accounts) {
    auto account = lf::parse_account_flag(text);
    if (!account) {
      std::cerr << "lfemu: " << account.error().message << "\n";
      return 2;
    }
    std::erase_if(settings.accounts,
                  [&](const lf::AccountSpec& a) { return a.api_id == account->api_id; });
    settings.accounts.push_back(std::move(*account));
  }
  if (f.host) config.server.host = *f.host;
  if (f.port) config.server.port = static_cast<std::uint16_t>(*f.port);
  if (f.threads) config.server.threads = *f.threads;
  if (f.seed) settings.service.seed = *f.seed;
  if (f.allow_remote_downloads) settings.service.allow_remote_downloads = true;
  if (f.call_log) settings.service.call_log_entries = *f.call_log;
  using K = lf::Knobs;
  apply_to_all(f.rps, settings, &K::rps);
  apply_to_all(f.burst, settings, &K::burst);
  apply_to_all(f.quota, settings, &K::quota);
  apply_to_all(f.quota_reset_seconds, settings, &K::quota_reset_seconds);
  apply_to_all(f.max_concurrent, settings, &K::max_concurrent);
  apply_to_all(f.fail_rate, settings, &K::fail_rate);
  apply_to_all(f.reset_rate, settings, &K::reset_rate);
  apply_to_all(f.stall_rate, settings, &K::stall_rate);
  apply_to_all(f.truncate_rate, settings, &K::truncate_rate);
  apply_to_all(f.bad_json_rate, settings, &K::bad_json_rate);
  apply_to_all(f.latency_ms, settings, &K::latency_ms);
  apply_to_all(f.latency_jitter_ms, settings, &K::latency_jitter_ms);
  if (f.retry_after) apply_to_all(std::optional<bool>(true), settings, &K::retry_after);
  if (settings.accounts.empty()) {
    spdlog::warn("lfemu: no accounts configured: every request will be UNAUTHORIZED "
                 "(add --account ID:SECRET or accounts in --config)");
  }

  lf::VerificationService service(settings);
  auto status = lf::run_http_server(config.server, service, [&](std::uint16_t port) {
    std::printf("lfemu listening on http://%s:%u\n", config.server.host.c_str(),
                static_cast<unsigned>(port));
    std::fflush(stdout);
    spdlog::info("lfemu: {} account(s), {} thread(s)", settings.accounts.size(),
                 config.server.threads);
  });
  if (!status) {
    std::cerr << "lfemu: " << status.message() << "\n";
    return 1;
  }
  spdlog::info("lfemu: stopped");
  return 0;
}
