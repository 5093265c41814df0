// `lfbatch doctor`: checks, without spending quota, what a nightly run needs
// (config, credentials, database, endpoint, disk, metrics file) and prints
// one line per check, with the fix for each that fails. Exit 0 only when
// every check passes (warnings allowed), else 1.
//
// The only network traffic is api/endpoint_probe.h's: DNS, a TCP connection,
// the TLS handshake, and one GET of the API path without credentials, which
// the API cannot bill (it takes only credentialed POSTs).
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "api/endpoint_probe.h"
#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "store/job_queue.h"
#include "store/sqlite_job_queue.h"

namespace lf {
namespace {

namespace fs = std::filesystem;

struct DoctorArgs {
  std::int64_t min_free_mb = 256;
  std::string endpoint;  // --endpoint, as for run
  bool insecure = false;
};

enum class Verdict { kOk, kWarn, kFail, kSkip };

// Prints the check lines and remembers whether any failed.
class CheckLog {
 public:
  void line(Verdict v, std::string_view check, std::string_view what, std::string_view fix = {}) {
    static constexpr const char* kTags[] = {"ok  ", "warn", "FAIL", "skip"};
    std::string out = fmt::format("{} {:<12} {}", kTags[static_cast<int>(v)], check, what);
    if (!fix.empty()) out += fmt::format(" -- fix: {}", fix);
    std::puts(out.c_str());
    if (v == Verdict::kFail) failed_ = true;
  }
  bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

void check_credentials(const Config& config, CheckLog& log) {
  Result<Credentials> credentials = load_credentials(config);
  if (!credentials) {
    struct stat st {};
    const bool too_open = !config.secrets_file.empty() && ::stat(config.secrets_file.c_str(), &st) == 0 &&
                          (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
    log.line(Verdict::kFail, "credentials", credentials.error().message,
             too_open ? fmt::format("chmod 600 {} (owned by the user lfbatch runs as)", config.secrets_file)
                      : "set LINKFACE_API_ID and LINKFACE_API_SECRET (for systemd: an EnvironmentFile of "
                        "mode 600), or name a secrets_file of mode 600 in the config");
    return;
  }
  if (env_set("LINKFACE_API_ID") && env_set("LINKFACE_API_SECRET")) {
    log.line(Verdict::kOk, "credentials",
             fmt::format("api_id {} from LINKFACE_API_ID / LINKFACE_API_SECRET", credentials->api_id));
    return;
  }
  struct stat st {};
  ::stat(config.secrets_file.c_str(), &st);
  log.line(Verdict::kOk, "credentials",
           fmt::format("api_id {} from secrets file {} (mode {:04o}, only its owner can read it)",
                       credentials->api_id, config.secrets_file, st.st_mode & 07777));
}

void check_database(const Config& config, CheckLog& log) {
  if (is_postgresql_url(config.database)) {
    auto store = open_store(config, /*create=*/false);
    if (!store) {
      log.line(Verdict::kFail, "database", store.error().message,
               "create the database (createdb), run `lfbatch init --db URL`, and put its "
               "password in ~/.pgpass or PGPASSFILE (never in a flag)");
      return;
    }
    auto counts = (*store)->queue().counts(now_millis());
    std::string jobs =
        counts ? fmt::format("; {} jobs, {} due now", counts->total, counts->due_now) : "";
    log.line(Verdict::kOk, "database",
             fmt::format("{} answers (PostgreSQL), schema version {}{}", (*store)->name(),
                         (*store)->schema_version(), jobs));
    return;
  }
  auto db = open_database(config, /*create=*/false);
  if (!db) {
    log.line(Verdict::kFail, "database", db.error().message,
             fmt::format("run `lfbatch init --db {}` (the systemd unit's ExecStartPre does), or point "
                         "--db / LFBATCH_DB / \"database\" at the right file",
                         config.database));
    return;
  }
  const fs::path path = fs::absolute(config.database);
  fs::path dir = path.parent_path();
  if (::access(path.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    log.line(Verdict::kFail, "database",
             fmt::format("{} or its directory {} is not writable by this user (uid {})", path.string(),
                         dir.string(), ::getuid()),
             "run lfbatch as the database's owner, or chown the database and its directory to it "
             "(SQLite writes its -wal and -shm files beside the database)");
    return;
  }
  SqliteJobQueue queue(**db);
  auto counts = queue.counts(now_millis());
  std::string jobs = counts ? fmt::format("; {} jobs, {} due now", counts->total, counts->due_now) : "";
  log.line(Verdict::kOk, "database",
           fmt::format("{} opens, schema version {} (this lfbatch's: {}){}", path.string(),
                       (*db)->schema_version(), Database::latest_schema_version(), jobs));
}

void check_endpoint(const Config& config, const DoctorArgs& args, CheckLog& log) {
  ProbeOptions options;
  options.endpoint = args.endpoint.empty() ? config.endpoint : args.endpoint;
  options.insecure = args.insecure || config.insecure;
  options.ca_file = config.ca_file;
  options.timeout_ms = config.timeouts.connect_ms;
  ProbeResult r = probe_endpoint(options);
  const std::string where = r.proxy.empty() ? "" : fmt::format(" (through proxy {})", r.proxy);
  auto reached = [&](ProbeStep step) { return static_cast<int>(r.failed_at) > static_cast<int>(step); };

  if (!reached(ProbeStep::kEndpoint)) {
    log.line(Verdict::kFail, "endpoint", r.error,
             fmt::format("set \"endpoint\" (or LFBATCH_ENDPOINT, --endpoint) to the API's full URL, e.g. {}",
                         kDefaultEndpoint));
    return;
  }
  if (!reached(ProbeStep::kResolve)) {
    log.line(Verdict::kFail, "dns", r.error,
             "check the endpoint's host name for typos and that this machine resolves names "
             "(/etc/resolv.conf); behind a proxy set HTTPS_PROXY");
    return;
  }
  if (!reached(ProbeStep::kConnect)) {
    log.line(Verdict::kFail, "connect", r.error,
             "check the host and port in the endpoint, that the service is up, and that no "
             "firewall blocks this machine (a run would exit 75, endpoint unreachable)");
    return;
  }
  log.line(Verdict::kOk, "connect", fmt::format("{} resolves and accepts connections at {}{}", r.host,
                                                r.address, where));
  if (!r.tls) {
    log.line(Verdict::kWarn, "tls",
             "plain http:// endpoint: no TLS, the API secret travels unencrypted (fine for lfemu "
             "on loopback only)");
  } else if (!reached(ProbeStep::kTls)) {
    log.line(Verdict::kFail, "tls", r.error,
             "check the clock (certificate dates); if a proxy re-signs TLS, name its CA bundle in "
             "the config's ca_file; never use insecure in production");
    return;
  } else if (options.insecure) {
    log.line(Verdict::kWarn, "tls",
             fmt::format("{} handshake, certificate NOT verified (insecure)", r.tls_version),
             "set \"insecure\": false (and ca_file if a private CA signs the endpoint)");
  } else {
    log.line(Verdict::kOk, "tls", fmt::format("{}, certificate of {} verified ({})", r.tls_version,
                                              r.host, r.peer));
  }
  if (!reached(ProbeStep::kHttp)) {
    log.line(Verdict::kFail, "api", r.error,
             "the host accepts connections but does not answer HTTP: check the endpoint's scheme "
             "and port");
    return;
  }
  const std::string answer =
      fmt::format("GET without credentials answered HTTP {}{}", r.http_status,
                  r.api_status.empty() ? "" : " " + r.api_status);
  if (r.http_status == 404 || r.api_status == "NOT_FOUND") {
    log.line(Verdict::kFail, "api", answer + ": the endpoint's path is not the API's",
             fmt::format("the endpoint must be the API's full URL, ending in the path of {}",
                         kDefaultEndpoint));
    return;
  }
  log.line(Verdict::kOk, "api", answer + " (not a verification: nothing billed)");
}

void check_disk(const Config& config, const DoctorArgs& args, CheckLog& log) {
  fs::path dir = fs::absolute(config.database).parent_path();
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) {
    log.line(Verdict::kFail, "disk", fmt::format("cannot stat the file system of {}", dir.string()),
             "create the database's directory (or fix --db)");
    return;
  }
  const double free_mb = static_cast<double>(vfs.f_bavail) * vfs.f_frsize / (1024.0 * 1024.0);
  if (free_mb < static_cast<double>(args.min_free_mb)) {
    log.line(Verdict::kFail, "disk",
             fmt::format("{:.0f} MiB free where the database lives ({}), under --min-free-mb {}", free_mb,
                         dir.string(), args.min_free_mb),
             "free space there or move the database; a full disk makes a run save its answers "
             "beside the database and stop with exit 3");
    return;
  }
  log.line(Verdict::kOk, "disk", fmt::format("{:.0f} MiB free in {}", free_mb, dir.string()));
}

void check_metrics_file(const Config& config, CheckLog& log) {
  if (config.metrics_file.empty()) return;  // not asked for: nothing to check
  fs::path dir = fs::absolute(config.metrics_file).parent_path();
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    log.line(Verdict::kFail, "metrics", fmt::format("cannot write in {} (metrics_file's directory)", dir.string()),
             "create it and let this user write there (e.g. setfacl -m u:lfbatch:rwx DIR), or change "
             "metrics_file");
    return;
  }
  log.line(Verdict::kOk, "metrics", fmt::format("{} can be written", config.metrics_file));
}

int run_doctor(const GlobalOptions& global, const DoctorArgs& args) {
  CheckLog log;
  Result<Config> config = effective_config(global);
  const std::string source = !global.config_path.empty() ? global.config_path
                             : env_set("LFBATCH_CONFIG") ? std::getenv("LFBATCH_CONFIG")
                                                         : "";
  if (!config) {
    log.line(Verdict::kFail, "config", config.error().message,
             "correct the file (see config/lfbatch.example.json) or the LFBATCH_* variable named");
    log.line(Verdict::kSkip, "others", "credentials, database, endpoint and disk need the config");
    return kExitChecksFailed;
  }
  log.line(Verdict::kOk, "config",
           source.empty() ? "no config file: built-in defaults and LFBATCH_* variables"
                          : fmt::format("{} parses", source));
  check_credentials(*config, log);
  check_database(*config, log);
  check_endpoint(*config, args, log);
  check_disk(*config, args, log);
  check_metrics_file(*config, log);
  return log.failed() ? kExitChecksFailed : kExitOk;
}

}  // namespace

void register_doctor_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand(
      "doctor",
      "Check what a nightly run needs, without spending quota: config, credentials (and the "
      "secrets file's mode), database and schema, endpoint (DNS, connection, TLS certificate, one "
      "GET without credentials, which is not billed), free disk. One line per check with its fix; "
      "exit 0 only when all pass, else 1");
  cmd->add_option("--endpoint", args->endpoint, "Check this endpoint instead of the config's");
  cmd->add_flag("--insecure", args->insecure, "Do not verify the TLS certificate (warns)");
  cmd->add_option("--min-free-mb", args->min_free_mb,
                  "Free space needed beside the database, in MiB (default 256)");
  cmd->callback([&global, &exit_code, args] { exit_code = run_doctor(global, *args); });
}

}  // namespace lf
