// The writer thread: batched settlements, lease renewal, queued calls.
#include "runner/store_worker.h"

#include <utility>

#include <spdlog/spdlog.h>

namespace lf {

using Clock = std::chrono::steady_clock;

StoreWorker::StoreWorker(JobQueue& queue, RunLog& log, StoreWorkerOptions options)
    : queue_(queue), log_(log), options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

StoreWorker::~StoreWorker() { stop(); }

void StoreWorker::settle(Settlement settlement, const RunCounts& delta) {
  std::lock_guard lock(mu_);
  if (pending_.empty()) first_pending_at_ = Clock::now();
  pending_.push_back(std::move(settlement));
  pending_counts_.requests += delta.requests;
  pending_counts_.done += delta.done;
  pending_counts_.failed += delta.failed;
  pending_counts_.retried += delta.retried;
  pending_counts_.throttled += delta.throttled;
  if (pending_.size() >= options_.flush_batch) cv_.notify_one();
}

void StoreWorker::call(std::function<void(JobQueue&, RunLog&)> fn) {
  std::lock_guard lock(mu_);
  calls_.push_back(std::move(fn));
  cv_.notify_one();
}

void StoreWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::int64_t StoreWorker::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::int64_t StoreWorker::ignored() const {
  std::lock_guard lock(mu_);
  return ignored_;
}

void StoreWorker::commit(std::vector<Settlement>& batch, RunCounts& counts) {
  if (batch.empty()) return;
  Result<std::int64_t> ignored = queue_.settle(batch, options_.owner, options_.run_id,
                                               options_.now());
  if (!ignored) {
    if (options_.on_error) options_.on_error(ignored.error());
  } else {
    if (Status s = log_.add_counts(options_.run_id, counts); !s && options_.on_error) {
      options_.on_error(s.error());
    }
    if (*ignored > 0) {
      spdlog::warn("{} of {} results were not stored: their lease was no longer held by {}",
                   *ignored, batch.size(), options_.owner);
    }
    std::lock_guard lock(mu_);
    committed_ += static_cast<std::int64_t>(batch.size());
    ignored_ += *ignored;
  }
  batch.clear();
  counts = RunCounts{};
}

void StoreWorker::loop() {
  const auto renew_every = std::chrono::milliseconds(std::max<std::int64_t>(options_.lease_millis / 4, 1));
  auto next_renewal = Clock::now() + renew_every;
  std::vector<Settlement> batch;
  RunCounts counts;
  std::deque<std::function<void(JobQueue&, RunLog&)>> calls;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      auto due = [&] {
        return stopping_ || !calls_.empty() || pending_.size() >= options_.flush_batch ||
               (!pending_.empty() && Clock::now() >= first_pending_at_ + options_.flush_interval);
      };
      while (!due()) {
        auto wake = next_renewal;
        if (!pending_.empty()) wake = std::min(wake, first_pending_at_ + options_.flush_interval);
        if (cv_.wait_until(lock, wake) == std::cv_status::timeout && Clock::now() >= next_renewal) break;
      }
      batch.swap(pending_);
      std::swap(counts, pending_counts_);
      pending_counts_ = RunCounts{};
      calls.swap(calls_);
      stopping = stopping_;
    }
    commit(batch, counts);
    for (auto& fn : calls) fn(queue_, log_);
    calls.clear();
    if (Clock::now() >= next_renewal) {
      Status s = queue_.renew_leases(options_.owner, options_.now() + options_.lease_millis);
      if (!s && options_.on_error) options_.on_error(s.error());
      next_renewal = Clock::now() + renew_every;
    }
    if (stopping) {
      std::lock_guard lock(mu_);
      if (pending_.empty() && calls_.empty()) return;
    }
  }
}

}  // namespace lf
