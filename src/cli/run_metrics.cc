// Gathering RunMetrics after a run and writing the metrics file.
#include "cli/run_metrics.h"

#include <spdlog/spdlog.h>

#include "cli/command_support.h"
#include "cli/metrics_file.h"
#include "core/api_status.h"
#include "report/run_history.h"
#include "store/job_queue.h"
#include "store/sqlite_job_queue.h"

namespace lf {
namespace {

// Requests the server counted: API answers other than RATE_LIMIT_EXCEEDED
// and OUT_OF_QUOTA (report_queries.h's definition, from the run's counters:
// by_code holds every code but OK, transport failures under their own names).
std::int64_t quota_used_of(const RunStats& stats) {
  std::int64_t not_counted = 0;
  for (const auto& [code, n] : stats.by_code) {
    auto status = parse_api_status(code);
    if (!status || *status == ApiStatus::kRateLimitExceeded || *status == ApiStatus::kOutOfQuota) {
      not_counted += n;
    }
  }
  return stats.requests - not_counted;
}

void add_database_figures(const Config& config, RunMetrics& m) {
  auto db = open_database(config, /*create=*/false);
  if (!db) {
    spdlog::debug("metrics file: no queue figures: {}", db.error().message);
    return;
  }
  SqliteJobQueue queue(**db);
  auto counts = queue.counts(now_millis());
  auto history = run_history(**db);
  if (!counts || !history) {
    spdlog::warn("metrics file: no queue figures: {}",
                 !counts ? counts.error().message : history.error().message);
    return;
  }
  m.have_queue = true;
  m.jobs_by_state = counts->by_state;
  m.results_by_status = counts->by_status;
  m.requests_all_runs = history->requests;
  m.throttled_all_runs = history->throttled;
  if (history->last_success_at) m.last_success_seconds = *history->last_success_at / 1000.0;
}

}  // namespace

void write_run_metrics(const GlobalOptions& global, const std::string& flag_path,
                       const FinishedRun* finished, int exit_code) {
  Result<Config> config = effective_config(global);
  std::string path = flag_path;
  if (path.empty() && config) path = config->metrics_file;
  if (path.empty()) return;

  RunMetrics m;
  m.exit_code = exit_code;
  m.finished_at_seconds = now_millis() / 1000.0;
  if (finished != nullptr) {
    m.run_id = finished->run_id;
    m.ended = finished->run_id == 0 ? "not_started" : std::string(ended_how(finished->end));
    m.requests = finished->stats.requests;
    m.done = finished->stats.done;
    m.failed = finished->stats.failed;
    m.retried = finished->stats.retried;
    m.throttled = finished->stats.throttled;
    m.quota_used = quota_used_of(finished->stats);
    m.remaining = finished->remaining;
    m.in_doubt = finished->in_doubt;
    m.decided_locally = finished->stats.decided_locally;
    m.reused = finished->stats.reused;
    m.sent_by_image_id = finished->stats.sent_by_image_id;
    m.duration_seconds = finished->elapsed_seconds;
    m.requests_per_second = finished->requests_per_second;
    m.by_code = finished->stats.by_code;
  } else {
    m.ended = "not_started";
  }
  if (config) add_database_figures(*config, m);
  if (Status s = write_metrics_file(path, render_metrics(m)); !s) {
    spdlog::warn("{}", s.message());
  } else {
    spdlog::debug("metrics written to {}", path);
  }
}

}  // namespace lf
