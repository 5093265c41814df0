// What a run shows while it works and when it ends: the progress bar (TTY),
// the periodic log line (cron), and the one-line JSON summary (--json).
// Pure formatting of snapshots; the engine decides when to print.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/job.h"
#include "runner/decision.h"

namespace lf {

// The counters of a run at one moment. Counts are of this run only.
struct RunStats {
  std::int64_t requests = 0;   // requests sent and answered (or failed)
  std::int64_t done = 0;       // jobs settled done
  std::int64_t failed = 0;     // jobs settled failed
  std::int64_t retried = 0;    // transient failures sent back for another attempt
  std::int64_t throttled = 0;  // RATE_LIMIT_EXCEEDED answers
  // What was not paid for (of done + failed): jobs decided by pre-flight,
  // jobs that took an answer for identical content; and requests that sent
  // an earlier upload's image_id instead of the bytes.
  std::int64_t decided_locally = 0;
  std::int64_t reused = 0;
  std::int64_t sent_by_image_id = 0;
  std::int64_t image_ids_expired = 0;  // of those, answered IMAGE_ID_NOT_EXIST (then uploaded)
  std::map<std::string, std::int64_t> by_code;  // every code other than OK, per request
};

struct ProgressSnapshot {
  RunStats stats;
  std::int64_t total = 0;       // jobs to do when the run started
  int in_flight = 0;
  double elapsed_seconds = 0;
  double recent_requests_per_second = 0;  // over the last few seconds
  double recent_finished_per_second = 0;  // jobs reaching done/failed, same window
  double rate_limit = 0;        // the rate controller's rate; 0 = not limiting
  std::string state;            // "", "waiting for quota", "service down: probing", "stopping"
};

// "[########............]  1234/2000  61.7%  48.9 req/s  ETA 0:15  in flight 16
//  | throttled 3 | INTERNAL_ERROR 12 CONNECTION_LOST 4", at most `width`
// columns (the error list is cut first).
std::string format_progress_bar(const ProgressSnapshot& s, int width);

// One log line for a non-interactive run: the same facts without the bar.
std::string format_progress_line(const ProgressSnapshot& s);

// "1:02:03", "4:05", "--:--" for an unknown or absurd time.
std::string format_eta(double seconds);

// How a run ended and what it did (named apart from report's RunSummary,
// which describes a run read back from the database).
struct FinishedRun {
  RunId run_id = 0;            // 0 when the run never started (lock, database, options)
  RunEnd end = RunEnd::kCompleted;
  std::string detail;          // why it ended, in words
  RunStats stats;
  std::int64_t total = 0;      // jobs to do when the run started
  std::int64_t remaining = 0;  // jobs pending or leased after the run
  std::int64_t released = 0;   // leased jobs put back unsent at the end
  std::int64_t in_doubt = 0;   // requests of crashed runs found unanswered at the start
  std::int64_t imported_unsaved = 0;  // answers of an earlier run stored at the start
  double elapsed_seconds = 0;
  double requests_per_second = 0;
  int exit_code() const { return exit_code_of(end); }
};

// One line of JSON: {"run_id","ended","exit_code","detail","total","done",
// "failed","retried","throttled","requests","remaining","in_doubt",
// "imported_unsaved","elapsed_s","req_per_s","saved":{"decided_locally",
// "reused","sent_by_image_id","image_ids_expired"},"by_code":{...}}.
std::string finished_run_json(const FinishedRun& summary);

// A human sentence for the log at the end of a run.
std::string finished_run_line(const FinishedRun& summary);

}  // namespace lf
