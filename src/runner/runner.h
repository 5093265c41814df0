// `lfbatch run`'s engine: works through the due jobs of the queue until none
// is left, a limit is reached or it is told to stop.
//
// Shape: one io_context thread runs C++20 coroutines — a feeder leasing jobs
// in batches (at most 2 x concurrency ahead), a dispatcher that paces
// requests through the RateController and keeps at most `concurrency`
// request coroutines in flight, a progress reporter, signal and deadline
// watchers. A second thread, the StoreWorker, owns the SQLite connection:
// outcomes reach it as Settlements and are committed in batches, so SQLite
// never blocks the network. Memory is bounded by the concurrency, not by
// the size of the queue.
//
// Crash safety: jobs are leased with an expiry and renewed while the run
// lives; a settlement only applies while this run holds the lease. Every
// request is on record (an attempts row committed) before it is sent, and
// every answer is committed promptly or saved beside the database
// (StoreWorker), so a crash loses no answer that was paid for beyond those
// in flight at that moment. Only one
// run per database (RunnerLock), so at start every lease left by an
// unfinished run is orphaned and is recovered, and that run is marked
// crashed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/api_client.h"
#include "core/circuit_breaker.h"
#include "core/job.h"
#include "core/rate_controller.h"
#include "core/retry_policy.h"
#include "image/preflight.h"
#include "runner/progress.h"

namespace lf {

enum class ProgressStyle {
  kAuto,   // a bar when stderr is a terminal, else a log line per interval
  kBar,
  kLines,
  kNone,
};

struct RunOptions {
  std::string db_path;
  ClientOptions client;                  // endpoint, credentials, timeouts, TLS, proxy
  int concurrency = 16;                  // requests in flight
  RateControllerOptions rate;            // ceiling_rps (--rate), burst (--burst)
  RetryPolicyOptions retry;              // --max-attempts, backoff
  std::int64_t max_requests = 0;         // --max-requests; 0 = no budget
  std::optional<UnixMillis> deadline;    // --until / --for: stop dispatching then
  std::optional<std::chrono::milliseconds> quota_wait;  // --on-quota wait=D; none: stop
  // Outages of the service (core/circuit_breaker.h): outage_limit is
  // --outage-limit / the config's "outage_limit" (0: wait for ever).
  CircuitBreakerOptions outage;
  // The same INVALID_ARGUMENT this many times in a row stops the run
  // (RunEnd::kAbortedConfiguration); 0: never.
  int invalid_argument_streak = 20;
  std::int64_t lease_millis = 120'000;
  // --db-patience: how long the database may stay unwritable (locked by
  // another process, full, failing) before the run stops with exit 3. The
  // answers in hand are saved beside the database meanwhile.
  std::chrono::milliseconds store_patience{60'000};
  // Pay only for what counts. Path jobs are read on `read_threads` threads
  // (never the network thread), checked against `image_limits` (a file the
  // API would reject is failed locally, nothing sent) and hashed; content
  // already answered with the same auto_rotate takes that answer (unless
  // `reuse` is false or the job is no_reuse), identical files in flight share
  // one request, and content uploaded less than `image_id_max_age_ms` ago is
  // sent as its image_id (file_id) instead of its bytes (0: never).
  ImageLimits image_limits;
  bool reuse = true;                     // --no-reuse: false
  bool send_file_names = false;          // the part's filename: the local base name, else
                                         // "image.<format>" (the default)
  std::int64_t image_id_max_age_ms = 7LL * 24 * 3600 * 1000;
  int read_threads = 4;
  // max_requests_per_day (0: none): requests sent per calendar day in
  // `budget_time_zone` (run_limits.h day_starts), counted across runs;
  // reaching it ends the run with RunEnd::kDailyBudget (exit 75).
  std::int64_t max_requests_per_day = 0;
  std::string budget_time_zone;
  std::string settings_json;             // recorded in runs.settings; never the secret
  ProgressStyle progress = ProgressStyle::kAuto;
  std::chrono::milliseconds log_interval{10'000};  // kLines
  std::optional<std::uint64_t> seed;     // jitter RNG; random when absent
  bool handle_signals = true;            // SIGINT/SIGTERM: stop cleanly; twice: exit now
  // Makes the API client on the engine's executor; ApiClient::create when
  // empty. Tests inject a scripted client.
  std::function<Result<std::unique_ptr<ApiClient>>(boost::asio::any_io_executor,
                                                   const ClientOptions&)>
      make_client;
};

// Runs the queue at `options.db_path` to an end and says how it ended
// (summary.exit_code() is the process's exit code). Never throws. Logs with
// spdlog; prints progress on stderr as `options.progress` says.
FinishedRun run_queue(const RunOptions& options);

}  // namespace lf
