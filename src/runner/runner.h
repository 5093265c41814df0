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
#include "core/job.h"
#include "core/rate_controller.h"
#include "core/retry_policy.h"
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
  std::int64_t lease_millis = 120'000;
  // --db-patience: how long the database may stay unwritable (locked by
  // another process, full, failing) before the run stops with exit 3. The
  // answers in hand are saved beside the database meanwhile.
  std::chrono::milliseconds store_patience{60'000};
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

// The lease owner name of run `run_id` (how leases are tied to runs).
std::string lease_owner_of(RunId run_id);

}  // namespace lf
