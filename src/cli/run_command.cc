// `lfbatch run`: maps the config and flags to RunOptions and runs the queue
// (src/runner). Credentials come from the environment or the secrets file,
// never from a flag.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/command_support.h"
#include "cli/exit_codes.h"
#include "cli/run_metrics.h"
#include "runner/run_limits.h"
#include "runner/runner.h"

namespace lf {
namespace {

struct RunArgs {
  std::optional<int> concurrency;
  std::optional<double> rate;
  std::optional<double> burst;
  std::optional<double> share;
  std::string outage_limit;  // empty: the config's
  std::optional<int> max_attempts;
  std::int64_t max_requests = 0;
  std::string until;
  std::string for_duration;
  std::string on_quota = "stop";
  std::string endpoint;
  bool insecure = false;
  std::string ca_file;  // --ca-file; empty: the config's ca_file
  bool json = false;
  std::string progress = "auto";
  std::string db_patience = "60s";
  bool no_reuse = false;
  bool send_file_names = false;
  std::string image_id_max_age;  // empty: the config's
  std::string metrics_file;  // --metrics-file; empty: the config's metrics_file
  std::string lease;         // --lease; empty: the config's lease_seconds
};

// The run's settings as recorded in runs.settings: what a reader of a report
// needs to interpret the run. Never the secret.
std::string settings_json(const RunOptions& o, const RunArgs& args) {
  nlohmann::json j = {
      {"endpoint", o.client.endpoint},
      {"api_id", o.client.api_id},
      {"concurrency", o.concurrency},
      {"rate", o.rate.ceiling_rps},
      {"burst", o.rate.burst},
      {"share", o.rate.share},
      {"outage_limit_ms", o.outage.outage_limit.count()},
      {"max_attempts", o.retry.max_attempts},
      {"max_requests", o.max_requests},
      {"on_quota", args.on_quota},
      {"insecure", o.client.insecure},
      {"reuse", o.reuse},
      {"send_file_names", o.send_file_names},
      {"image_id_max_age_ms", o.image_id_max_age_ms},
      {"max_requests_per_day", o.max_requests_per_day},
      {"budget_time_zone", o.budget_time_zone},
      {"lease_ms", o.lease_millis},
  };
  if (o.deadline) j["deadline"] = *o.deadline;
  return j.dump();
}

Result<RunOptions> run_options(const Config& config, const Credentials& credentials,
                               const RunArgs& args) {
  RunOptions o;
  o.db_path = config.database;
  o.client.endpoint = args.endpoint.empty() ? config.endpoint : args.endpoint;
  o.client.api_id = credentials.api_id;
  o.client.api_secret = credentials.api_secret;
  o.client.connect_timeout_ms = config.timeouts.connect_ms;
  o.client.request_timeout_ms = config.timeouts.request_ms;
  o.client.insecure = args.insecure || config.insecure;
  o.client.ca_file = args.ca_file.empty() ? config.ca_file : args.ca_file;
  o.concurrency = args.concurrency.value_or(config.concurrency);
  if (o.concurrency < 1 || o.concurrency > 4096) {
    return Error{fmt::format("--concurrency {}: give 1..4096 requests in flight", o.concurrency)};
  }
  o.client.max_idle_connections = std::max(o.concurrency, 1);
  o.rate.ceiling_rps = args.rate.value_or(config.rate);
  o.rate.burst = args.burst.value_or(config.burst);
  if (o.rate.ceiling_rps < 0) {
    return Error{"--rate must be >= 0 requests/s (0: find the server's limit adaptively)"};
  }
  if (o.rate.burst < 0) return Error{"--burst must be >= 0 (0: one second's worth of --rate)"};
  o.retry.max_attempts = args.max_attempts.value_or(config.retry.max_attempts);
  if (o.retry.max_attempts < 1) return Error{"--max-attempts must be at least 1"};
  o.retry.base_delay = std::chrono::milliseconds(config.retry.base_delay_ms);
  o.retry.max_delay = std::chrono::milliseconds(config.retry.max_delay_ms);
  o.retry.download_attempts = config.retry.download_attempts;
  o.retry.download_delay = std::chrono::milliseconds(config.retry.download_delay_ms);
  o.rate.share = args.share.value_or(config.share);
  if (!(o.rate.share > 0 && o.rate.share <= 1)) {
    return Error{fmt::format("--share {}: give the share of the account's limit to use, above 0 "
                             "and at most 1 (e.g. 0.8 leaves a fifth to its other users)",
                             o.rate.share)};
  }
  {
    const std::string& limit = args.outage_limit.empty() ? config.outage_limit : args.outage_limit;
    if (limit == "0" || limit == "never") {
      o.outage.outage_limit = std::chrono::milliseconds(0);
    } else {
      auto d = parse_duration(limit);
      if (!d) {
        return Error{"outage_limit " + limit + ": " + d.error().message +
                     " (or 0 to wait for the service for ever)"};
      }
      o.outage.outage_limit = *d;
    }
  }
  o.invalid_argument_streak = config.invalid_argument_streak;
  if (args.max_requests < 0) return Error{"--max-requests must be >= 0 (0: no budget)"};
  o.max_requests = args.max_requests;
  o.lease_millis = config.lease_seconds * 1000;
  if (!args.lease.empty()) {
    auto d = parse_duration(args.lease);
    if (!d) return Error{"--lease: " + d.error().message};
    if (d->count() < 2000) {
      return Error{"--lease " + args.lease + ": give at least 2s (leases are renewed every "
                   "quarter of it)"};
    }
    o.lease_millis = d->count();
  }
  {
    auto d = parse_duration(args.db_patience);
    if (!d) return Error{"--db-patience: " + d.error().message};
    if (d->count() < 1000) return Error{"--db-patience " + args.db_patience + ": give at least 1s"};
    o.store_patience = *d;
  }

  UnixMillis now = now_millis();
  if (!args.until.empty()) {
    auto at = next_local_time(args.until, now);
    if (!at) return Error{"--until: " + at.error().message};
    o.deadline = *at;
  }
  if (!args.for_duration.empty()) {
    auto d = parse_duration(args.for_duration);
    if (!d) return Error{"--for: " + d.error().message};
    UnixMillis at = now + d->count();
    o.deadline = o.deadline ? std::min(*o.deadline, at) : at;
  }
  o.reuse = !args.no_reuse;
  o.send_file_names = args.send_file_names || config.send_file_names;
  {
    const std::string& age = args.image_id_max_age.empty() ? config.image_id_max_age
                                                           : args.image_id_max_age;
    if (age == "0" || age == "off" || age == "never") {
      o.image_id_max_age_ms = 0;
    } else {
      auto d = parse_duration(age);
      if (!d) {
        return Error{"image_id_max_age " + age + ": " + d.error().message +
                     " (or 0 to always upload the bytes)"};
      }
      o.image_id_max_age_ms = d->count();
    }
  }
  o.max_requests_per_day = config.max_requests_per_day;
  o.budget_time_zone = config.budget_time_zone == "local" ? "" : config.budget_time_zone;
  if (o.max_requests_per_day > 0) {
    // Checked now, so a bad zone is a usage error before anything runs.
    auto days = day_starts(o.budget_time_zone, now, 1);
    if (!days) return Error{"budget_time_zone: " + days.error().message};
  }
  auto on_quota = parse_on_quota(args.on_quota);
  if (!on_quota) return on_quota.error();
  o.quota_wait = *on_quota;

  if (args.progress == "auto") {
    o.progress = ProgressStyle::kAuto;
  } else if (args.progress == "bar") {
    o.progress = ProgressStyle::kBar;
  } else if (args.progress == "lines") {
    o.progress = ProgressStyle::kLines;
  } else if (args.progress == "none") {
    o.progress = ProgressStyle::kNone;
  } else {
    return Error{"--progress " + args.progress + ": use auto, bar, lines or none"};
  }
  o.settings_json = settings_json(o, args);
  return o;
}

// `finished` receives the runner's summary once the runner ran.
int run_run(const GlobalOptions& global, const RunArgs& args, std::optional<FinishedRun>& finished) {
  Result<Config> config = effective_config(global);
  if (!config) return fail(config.error(), kExitUsage);
  {
    auto store = open_store(*config, /*create=*/false);
    if (!store) return fail(store.error(), kExitDatabase);
  }
  Result<Credentials> credentials = load_credentials(*config);
  if (!credentials) return fail(credentials.error(), kExitConfig);
  Result<RunOptions> options = run_options(*config, *credentials, args);
  if (!options) return fail(options.error(), kExitUsage);
  if (options->client.insecure) {
    spdlog::warn("--insecure: TLS certificates are NOT verified; anyone on the path can read "
                 "the API secret and forge answers");
  }
  if (global.quiet && options->progress == ProgressStyle::kAuto) {
    options->progress = ProgressStyle::kNone;
  }

  FinishedRun summary = run_queue(*options);
  finished = summary;
  if (summary.run_id == 0) {
    // The run never started: the detail says why.
    spdlog::error("{}", summary.detail);
  } else {
    auto level = summary.exit_code() == 0 ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(level, "{}", finished_run_line(summary));
  }
  if (args.json) {
    std::fputs((finished_run_json(summary) + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
  return summary.exit_code();
}

}  // namespace

void register_run_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Send the queue's due jobs to the API until none is left, a limit is reached or a signal "
      "stops it. Credentials: LINKFACE_API_ID / LINKFACE_API_SECRET or the config's "
      "secrets_file. Exit codes: 0 done (or --until/--for/--max-requests reached), 75 out of "
      "quota, max_requests_per_day spent or endpoint unreachable, 77 credentials refused, 78 wrong endpoint or missing "
      "credentials, 130/143 interrupted, 69 another run holds the database, 3 database error");
  cmd->add_option("--concurrency", args->concurrency, "Requests in flight (default: config, 16)");
  cmd->add_option("--rate", args->rate,
                  "The account's limit in requests/s, if known: never exceeded (default: config; "
                  "0 = find it adaptively)");
  cmd->add_option("--burst", args->burst,
                  "Requests that may leave at once after a pause (default: one second of --rate)");
  cmd->add_option("--share", args->share,
                  "Use at most this share of the account's limit, as found or as --rate says, "
                  "leaving the rest to its other users, e.g. 0.8 (default: config, 1)");
  cmd->add_option("--outage-limit", args->outage_limit,
                  "When the service stays unreachable (refused, reset, timing out, gateway 5xx), "
                  "pause and probe for this long, then stop with exit 75, e.g. 30m, 2h; 0 = wait "
                  "for ever (default: config, 30m)");
  cmd->add_option("--max-attempts", args->max_attempts,
                  "Requests per job before a transient failure is final (default: config, 5)");
  cmd->add_option("--max-requests", args->max_requests,
                  "Send at most N requests in this run (a budget; 0 = none)");
  cmd->add_option("--until", args->until, "Stop sending at HH:MM local time (the next one)");
  cmd->add_option("--for", args->for_duration, "Stop sending after DURATION, e.g. 90s, 15m, 2h");
  cmd->add_option("--on-quota", args->on_quota,
                  "On OUT_OF_QUOTA: 'stop' (exit 75, default) or 'wait=DURATION' (probe again "
                  "with one request after DURATION)");
  cmd->add_option("--endpoint", args->endpoint,
                  "Full URL of the API path (default: config, the real LinkFace endpoint)");
  cmd->add_flag("--insecure", args->insecure, "Do not verify TLS certificates (warns)");
  cmd->add_option("--ca-file", args->ca_file,
                  "A PEM bundle of extra trusted CAs, for an endpoint a private CA signs "
                  "(default: the config's ca_file)");
  cmd->add_flag("--json", args->json, "Print a one-line JSON summary on stdout at the end");
  cmd->add_option("--db-patience", args->db_patience,
                  "How long the database may stay unwritable (locked by another process, disk "
                  "full) before the run stops with exit 3; answers meanwhile are saved beside it "
                  "and stored by the next run (default 60s)");
  cmd->add_option("--lease", args->lease,
                  "How long a job stays leased to this run without a renewal (renewed every "
                  "quarter of it); with several runners on PostgreSQL, how soon a killed "
                  "runner's jobs go to the others (default: config lease_seconds, 120s)");
  cmd->add_flag("--no-reuse", args->no_reuse,
                "Verify every job for real: never take an earlier answer for identical content "
                "(identical files in this run still share one request)");
  cmd->add_flag("--send-file-names", args->send_file_names,
                "Send each file's local name as the upload's filename (default: a neutral "
                "\"image.jpg\" from the sniffed format; names often carry personal data)");
  cmd->add_option("--image-id-max-age", args->image_id_max_age,
                  "Send the image_id of an upload of the same content younger than this instead "
                  "of the bytes, e.g. 7d, 12h; 0 = always upload (default: config, 7d)");
  cmd->add_option("--progress", args->progress,
                  "auto (a bar on a terminal, else a log line every 10 s), bar, lines or none");
  cmd->add_option("--metrics-file", args->metrics_file,
                  "Write a Prometheus text file (node_exporter textfile collector) at the end of "
                  "the run, atomically (default: the config's metrics_file; none)");
  cmd->callback([&global, &exit_code, args] {
    std::optional<FinishedRun> finished;
    exit_code = run_run(global, *args, finished);
    write_run_metrics(global, args->metrics_file, finished ? &*finished : nullptr, exit_code);
  });
}

}  // namespace lf
