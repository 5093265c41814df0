// The metrics file: what a run leaves behind for monitoring, in Prometheus'
// text exposition format (version 0.0.4), for node_exporter's textfile
// collector. Rendering is pure (figures in, text out); writing replaces the
// file atomically, so the collector never reads half a file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"

namespace lf {

// The figures of one `lfbatch run` and of the queue after it. Counts of the
// run are of that run only; `*_all_runs` are summed over the runs table
// (monotonic while the database lives: counters).
struct RunMetrics {
  // The run. run_id 0: it never began (config, database, credentials, lock);
  // then only exit_code, ended and the timestamps are meaningful.
  std::int64_t run_id = 0;
  std::string ended;            // runs.ended_how, e.g. "completed"; "not_started" when run_id is 0
  int exit_code = 0;
  std::int64_t requests = 0;
  std::int64_t done = 0;
  std::int64_t failed = 0;
  std::int64_t retried = 0;
  std::int64_t throttled = 0;   // RATE_LIMIT_EXCEEDED answers
  std::int64_t quota_used = 0;  // API answers other than RATE_LIMIT_EXCEEDED and OUT_OF_QUOTA
  std::int64_t remaining = 0;   // jobs pending or leased after the run
  std::int64_t in_doubt = 0;
  // Jobs settled without a request (pre-flight; an answer for identical
  // content), and requests that sent an image_id instead of the bytes.
  std::int64_t decided_locally = 0;
  std::int64_t reused = 0;
  std::int64_t sent_by_image_id = 0;
  double duration_seconds = 0;
  double requests_per_second = 0;
  std::map<std::string, std::int64_t> by_code;  // per request, every code other than OK
  double finished_at_seconds = 0;               // unix time the file was made

  // The queue after the run; absent when the database could not be read.
  bool have_queue = false;
  std::map<std::string, std::int64_t> jobs_by_state;   // all four states
  std::map<std::string, std::int64_t> results_by_status;  // final jobs by last API status

  // Over every run in the database; absent with the queue.
  std::int64_t requests_all_runs = 0;
  std::int64_t throttled_all_runs = 0;
  // End of the newest run that ended completed, deadline or budget (exit 0);
  // nullopt: none yet (rendered as 0, so "time() - x > 1d" alerts fire).
  std::optional<double> last_success_seconds;
};

// The text of the metrics file: every family with # HELP and # TYPE lines,
// names prefixed lfbatch_, counters ending _total, durations in _seconds,
// label values escaped (\\, \", \n) as the format requires. Deterministic:
// families and samples in a fixed order.
std::string render_metrics(const RunMetrics& metrics);

// A label value escaped for the text format: backslash, double quote and
// line feed become \\, \" and \n.
std::string escape_label_value(const std::string& value);

// Writes `text` to `path` atomically: to `path`.tmp in the same directory,
// fsync, rename over `path`, fsync of the directory. Errors name the path
// and the cause; on error `path` is unchanged and the temporary removed.
Status write_metrics_file(const std::string& path, const std::string& text);

}  // namespace lf
