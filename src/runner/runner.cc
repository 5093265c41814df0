// The run engine (see runner.h): coroutines on one io_context, SQLite on the
// StoreWorker thread.
#include "runner/runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <random>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include "core/concurrency_limit.h"
#include "core/daily_budget.h"
#include "image/image_file.h"
#include "runner/decision.h"
#include "runner/run_limits.h"
#include "runner/store_worker.h"
#include "store/database.h"
#include "store/job_queue.h"
#include "store/run_log.h"
#include "runner/shared_rate_controller.h"
#include "store/pg_session.h"
#include "store/store.h"
#include "store/runner_lock.h"
#include "store/unsaved_results.h"

namespace lf {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

UnixMillis wall_now() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wakes every coroutine waiting on it; waiters re-check their condition
// after every wake (single-threaded, so a check and the wait that follows it
// cannot be split by a notify).
class Event {
 public:
  // Waits until notify() or until `timeout` has passed.
  awaitable<void> wait(SteadyClock::duration timeout = SteadyClock::duration::max()) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    if (timeout == SteadyClock::duration::max()) {
      timer.expires_at(SteadyClock::time_point::max());
    } else {
      timer.expires_after(std::max(timeout, SteadyClock::duration::zero()));
    }
    waiters_.push_back(&timer);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &timer));
  }
  void notify() {
    for (asio::steady_timer* t : waiters_) t->cancel();
  }

 private:
  std::vector<asio::steady_timer*> waiters_;
};

// Seconds elapsed over the last few progress ticks, for req/s and ETA.
class RecentRate {
 public:
  void add(SteadyClock::time_point t, std::int64_t requests, std::int64_t finished) {
    samples_.push_back({t, requests, finished});
    while (samples_.size() > 2 && samples_.front().t < t - std::chrono::seconds(10)) {
      samples_.pop_front();
    }
  }
  double requests_per_second() const { return per_second(&Sample::requests); }
  double finished_per_second() const { return per_second(&Sample::finished); }

 private:
  struct Sample {
    SteadyClock::time_point t;
    std::int64_t requests;
    std::int64_t finished;
  };
  double per_second(std::int64_t Sample::*field) const {
    if (samples_.size() < 2) return 0;
    double dt = std::chrono::duration<double>(samples_.back().t - samples_.front().t).count();
    if (dt <= 0) return 0;
    return static_cast<double>(samples_.back().*field - samples_.front().*field) / dt;
  }
  std::deque<Sample> samples_;
};

int terminal_width() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 100;
}

// The budget's day starts as local times of its zone ("2026-12-02 00:00
// +08:00"), formatted before the run's threads start: formatting in a named
// zone sets TZ, which no thread may do while others run.
using DayLabels = std::map<UnixMillis, std::string>;

DayLabels label_days(const std::vector<UnixMillis>& days, const std::string& zone) {
  DayLabels labels;
  for (UnixMillis day : days) labels[day] = format_in_zone(zone, day);
  return labels;
}

// "max_requests_per_day N spent (...); it resets at ..., in 5h12m: ...".
std::string daily_budget_message(const DailyBudget& budget, const DayLabels& labels,
                                 const std::string& zone, UnixMillis now) {
  auto label = [&](UnixMillis at) {
    auto it = labels.find(at);
    // Past the days labelled at start: the instant in UTC (no TZ change).
    return it != labels.end() ? it->second : format_in_zone("+00:00", at);
  };
  const UnixMillis left = std::max<UnixMillis>(0, budget.resets_at() - now);
  return fmt::format("max_requests_per_day {} spent ({} requests since {}, {}); it resets at "
                     "{}, in {}h{:02}m: jobs stay queued, run again then",
                     budget.limit(), budget.used(), label(budget.day_start()),
                     zone.empty() ? "local time" : zone, label(budget.resets_at()),
                     left / 3'600'000, (left / 60'000) % 60);
}

class Engine {
 public:
  Engine(asio::io_context& io, asio::any_io_executor readers, const RunOptions& options,
         StoreWorker& store, ApiClient& client, RunId run_id, std::int64_t total,
         DailyBudget budget, DayLabels day_labels, bool shared_store,
         std::unique_ptr<SharedRateController> shared_rate)
      : io_(io),
        ex_(io.get_executor()),
        readers_(std::move(readers)),
        budget_(std::move(budget)),
        shared_store_(shared_store),
        day_labels_(std::move(day_labels)),
        options_(options),
        store_(store),
        client_(client),
        run_id_(run_id),
        owner_(lease_owner_of(run_id)),
        controller_(options.rate, SteadyClock::now()),
        shared_rate_(std::move(shared_rate)),
        in_flight_limit_(ConcurrencyLimitOptions{options.concurrency}),
        policy_(options.retry),
        breaker_(options.outage),
        invalid_streak_(options.invalid_argument_streak),
        rng_(options.seed ? *options.seed : std::random_device{}()),
        total_(total),
        started_(SteadyClock::now()) {
    uniform_ = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); };
    if (options.image_id_max_age_ms > 0) {
      image_id_not_before_ = wall_now() - options.image_id_max_age_ms;
    }
  }

  // Called from the StoreWorker thread.
  void store_failed(const Error& error) {
    asio::post(ex_, [this, message = error.message] {
      store_gave_up_ = true;
      spdlog::error("database: {}", message);
      request_stop(RunEnd::kStoreError, "database: " + message);
    });
  }
  void store_blocked(const Error& error) {
    asio::post(ex_, [this, message = error.message] {
      store_blocked_ = true;
      spdlog::warn("database: {}; answers in hand are saved beside it, sending is paused, "
                   "retrying for up to {} s",
                   message, options_.store_patience.count() / 1000);
    });
  }
  void store_unblocked() {
    asio::post(ex_, [this] {
      store_blocked_ = false;
      spdlog::info("database: writable again; resuming");
      wake_.notify();
    });
  }

  awaitable<void> run() {
    if (options_.handle_signals) asio::co_spawn(ex_, watch_signals(), asio::detached);
    if (options_.deadline) asio::co_spawn(ex_, watch_deadline(), asio::detached);
    asio::co_spawn(ex_, report_progress(), asio::detached);
    feeder_running_ = true;
    asio::co_spawn(ex_, feed(), asio::detached);
    preparer_running_ = true;
    asio::co_spawn(ex_, prepare(), asio::detached);
    lookup_running_ = true;
    asio::co_spawn(ex_, look_up(), asio::detached);
    if (shared_store_ && options_.max_requests_per_day > 0) {
      asio::co_spawn(ex_, watch_shared_budget(), asio::detached);
    }

    co_await dispatch();

    // Stopped dispatching: let the requests in flight finish, the files being
    // read come back, and the feeder return from a lease it may wait for.
    while (in_flight_ > 0 || feeder_running_ || preparer_running_ || preparing_ > 0 ||
           lookup_running_) {
      co_await wake_.wait();
    }

    // Jobs leased but never sent go back untouched (after every settlement
    // queued so far, so none is overtaken).
    // (Store calls are built as named std::functions first: GCC 12 destroys
    // a lambda temporary inside a co_await expression twice.)
    std::function<Result<std::int64_t>(JobQueue&, RunLog&)> release =
        [owner = owner_](JobQueue& q, RunLog&) { return q.release_all(owner, wall_now()); };
    auto released = co_await store_call(std::move(release));
    if (released) released_ = *released;
    std::function<Result<QueueCounts>(JobQueue&, RunLog&)> count =
        [](JobQueue& q, RunLog&) { return q.counts(wall_now()); };
    auto counts = co_await store_call(std::move(count));
    if (counts) {
      remaining_ = count_of(*counts, "pending") + count_of(*counts, "leased");
    }
    finished_ = true;
    if (bar_shown_) {
      // The last state of the bar stays on screen, ended by a newline so the
      // summary that follows starts on a line of its own.
      std::string bar = format_progress_bar(snapshot(), terminal_width() - 1);
      std::fprintf(stderr, "\r\033[K%s\n", bar.c_str());
      std::fflush(stderr);
    }
    progress_timer_.cancel();
    wake_.notify();
    if (signals_) signals_->cancel();
    client_.close_idle();
  }

  FinishedRun summary() const {
    FinishedRun s;
    s.run_id = run_id_;
    s.end = end_;
    s.detail = detail_;
    s.stats = stats_;
    s.total = total_;
    s.remaining = remaining_;
    s.released = released_;
    s.elapsed_seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    s.requests_per_second =
        s.elapsed_seconds > 0 ? static_cast<double>(stats_.requests) / s.elapsed_seconds : 0;
    return s;
  }

 private:
  enum class QuotaState { kOpen, kWaiting, kProbing };

  // A leased job ready to be sent: as it stands (URL, file_id), or a path
  // job's checked bytes, maybe with an image_id to send in their place.
  struct Ready {
    Job job;
    std::shared_ptr<const PreparedImage> image;  // path jobs
    std::string dedup_key;       // content_hash + auto_rotate: this job leads that content
    std::string content_hash;
    std::string image_id;        // an earlier upload of the same content, sent as file_id
    UnixMillis image_uploaded_at = 0;
    bool outage_probe = false;   // the one request of an open circuit (breaker_)
    int level = 0;               // requests in flight when it left, itself included
  };

  // A path job read and checked, waiting for the store's word on its content.
  struct Lookup {
    Job job;
    ImageFile file;
    std::string key;  // dedup_key_of(file.sha256, job.auto_rotate)
  };

  // The job whose request will answer for content that other leased jobs
  // of this run also have: they wait for its answer instead of paying again.
  struct Leader {
    JobId job_id = 0;
    std::vector<Job> followers;
  };

  static std::string dedup_key_of(const std::string& hash, bool auto_rotate) {
    return hash + (auto_rotate ? "/rotate" : "/as-is");
  }

  // Jobs leased and not yet sent, settled or waiting on a leader.
  std::size_t queued_ahead() const {
    return buffer_.size() + ready_.size() + static_cast<std::size_t>(preparing_);
  }
  bool nothing_in_hand() const {
    return buffer_.empty() && ready_.empty() && preparing_ == 0 && in_flight_ == 0;
  }

  static std::int64_t count_of(const QueueCounts& c, const std::string& state) {
    auto it = c.by_state.find(state);
    return it == c.by_state.end() ? 0 : it->second;
  }

  // Runs `fn` on the StoreWorker thread (after the settlements queued before
  // it) and resumes with its result on the engine's executor. The run's
  // work guard keeps the io_context alive meanwhile.
  template <typename T>
  awaitable<T> store_call(std::function<T(JobQueue&, RunLog&)> fn) {
    auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      store_.call([ex = ex_, shared, fn = std::move(fn)](JobQueue& q, RunLog& l) mutable {
        auto result = std::make_shared<T>(fn(q, l));
        asio::post(ex, [shared, result]() mutable { (*shared)(std::move(*result)); });
      });
    };
    co_return co_await asio::async_initiate<decltype(use_awaitable), void(T)>(std::move(initiate),
                                                                               use_awaitable);
  }

  void request_stop(RunEnd end, std::string detail) {
    RunEnd stronger = stopping_ ? stronger_end(end_, end) : end;
    if (!stopping_ || stronger != end_) {
      end_ = stronger;
      detail_ = std::move(detail);
    }
    if (!stopping_) {
      stopping_ = true;
      spdlog::debug("stopping: {} ({})", ended_how(end_), detail_);
    }
    wake_.notify();
  }

  // Leases due jobs in batches, keeping at most 2 x concurrency ahead, and
  // notices when the queue has nothing left.
  awaitable<void> feed() {
    const std::size_t target = static_cast<std::size_t>(2 * options_.concurrency);
    const std::size_t low = static_cast<std::size_t>(options_.concurrency);
    auto last_counts = SteadyClock::time_point{};
    while (!stopping_) {
      if (queued_ahead() > low) {
        co_await wake_.wait();
        continue;
      }
      int want = static_cast<int>(target - queued_ahead());
      std::function<Result<std::vector<Job>>(JobQueue&, RunLog&)> lease =
          [want, owner = owner_, millis = options_.lease_millis](JobQueue& q, RunLog&) {
            return q.lease(want, owner, wall_now(), millis);
          };
      auto jobs = co_await store_call(std::move(lease));
      if (!jobs) {
        // A database locked by another process for a while: the worker's
        // patience decides when the run gives up, not one failed lease.
        if (store_gave_up_) break;
        spdlog::debug("leasing jobs: {}; retrying", jobs.error().message);
        co_await wake_.wait(milliseconds(200));
        continue;
      }
      if (!jobs->empty()) {
        for (Job& j : *jobs) buffer_.push_back(std::move(j));
        wake_.notify();
        continue;
      }
      // Nothing due now. When nothing is in flight either, ask whether
      // anything is left at all (at most once a second; index probes, no
      // count: every pending job may be waiting out a delay).
      if (nothing_in_hand() && quota_state_ == QuotaState::kOpen &&
          SteadyClock::now() - last_counts >= std::chrono::seconds(1)) {
        last_counts = SteadyClock::now();
        std::function<Result<WorkLeft>(JobQueue&, RunLog&)> probe = [](JobQueue& q, RunLog&) {
          UnixMillis now = wall_now();
          (void)q.recover_expired_leases(now);
          return q.work_left(now);
        };
        auto left = co_await store_call(std::move(probe));
        if (!left) {
          if (store_gave_up_) break;
          spdlog::debug("probing for jobs left: {}; retrying", left.error().message);
          co_await wake_.wait(milliseconds(200));
          continue;
        }
        if (!left->pending && !left->leased && nothing_in_hand()) {
          request_stop(RunEnd::kCompleted, "");
          break;
        }
        if (left->pending && !left->due_now) continue_waiting_logged();
      }
      co_await wake_.wait(milliseconds(100));
    }
    feeder_running_ = false;
    wake_.notify();
  }

  void continue_waiting_logged() {
    if (!logged_waiting_) {
      spdlog::debug("waiting for jobs whose next attempt is not due yet");
      logged_waiting_ = true;
    }
  }

  // Sends the buffered jobs: at most `concurrency` in flight, paced by the
  // rate controller, within the budget and the deadline, one probe at a time
  // while waiting for quota.
  awaitable<void> dispatch() {
    for (;;) {
      if (stopping_) co_return;
      if (in_flight_ >= in_flight_limit_.limit() || ready_.empty() ||
          quota_state_ == QuotaState::kProbing) {
        co_await wake_.wait();
        continue;
      }
      if (quota_state_ == QuotaState::kWaiting) {
        auto now = SteadyClock::now();
        if (now < quota_until_) {
          co_await wake_.wait(quota_until_ - now);
          continue;
        }
      }
      if (auto down = breaker_.wait_time(SteadyClock::now());
          down > SteadyClock::duration::zero()) {
        if (breaker_.gave_up(SteadyClock::now())) {
          request_stop(RunEnd::kUnreachable, outage_given_up());
          co_return;
        }
        co_await wake_.wait(std::min<SteadyClock::duration>(down, milliseconds(1000)));
        continue;
      }
      if (shared_rate_ && quota_state_ == QuotaState::kOpen) {
        // Another runner of the account was told OUT_OF_QUOTA.
        if (std::optional<QuotaExhausted> q = shared_rate_->quota_exhausted()) {
          if (options_.quota_wait) {
            spdlog::warn("OUT_OF_QUOTA (seen by another runner of the account): pausing");
            quota_state_ = QuotaState::kWaiting;
            quota_until_ = q->until.value_or(SteadyClock::now() + *options_.quota_wait);
            continue;
          }
          request_stop(RunEnd::kOutOfQuota,
                       "OUT_OF_QUOTA, seen by another runner of the account");
          co_return;
        }
      }
      auto wait = shared_rate_ ? shared_rate_->acquire(SteadyClock::now())
                               : controller_.acquire(SteadyClock::now());
      if (wait > SteadyClock::duration::zero()) {
        co_await wake_.wait(wait);
        continue;
      }
      if (options_.max_requests > 0 && sent_ >= options_.max_requests) {
        request_stop(RunEnd::kBudget, fmt::format("--max-requests {} spent", options_.max_requests));
        co_return;
      }
      if (options_.deadline && wall_now() >= *options_.deadline) {
        request_stop(RunEnd::kDeadline, "deadline reached");
        co_return;
      }
      if (!budget_.may_send(wall_now())) {
        request_stop(RunEnd::kDailyBudget, daily_budget_spent());
        co_return;
      }
      bool probe = false;
      if (quota_state_ == QuotaState::kWaiting) {
        quota_state_ = QuotaState::kProbing;
        probe = true;
        spdlog::info("probing the quota with one request");
      }
      Ready ready = std::move(ready_.front());
      ready_.pop_front();
      ready.outage_probe = breaker_.on_send(SteadyClock::now());
      if (ready.outage_probe) {
        spdlog::debug("outage: probing with one request (job {})", ready.job.id);
      }
      ++sent_;
      budget_.on_sent(wall_now());
      ++in_flight_;
      ready.level = in_flight_;
      wake_.notify();  // the preparer and the feeder may top up
      asio::co_spawn(ex_, request(std::move(ready), probe), asio::detached);
    }
  }

  std::string outage_given_up() const {
    return fmt::format("{} could not be reached for {} (--outage-limit; last: {}); jobs stay "
                       "queued: check the network, proxy or endpoint and run again",
                       options_.client.endpoint, duration_text(options_.outage.outage_limit),
                       last_outage_.empty() ? "no answer" : last_outage_);
  }

  std::string daily_budget_spent() const {
    return daily_budget_message(budget_, day_labels_, options_.budget_time_zone, wall_now());
  }

  // Runs `fn` on a reader thread and resumes with its result on the
  // engine's executor.
  template <typename T>
  awaitable<T> on_reader(std::function<T()> fn) {
    auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      asio::post(readers_, [ex = ex_, shared, fn = std::move(fn)]() mutable {
        auto result = std::make_shared<T>(fn());
        asio::post(ex, [shared, result]() mutable { (*shared)(std::move(*result)); });
      });
    };
    co_return co_await asio::async_initiate<decltype(use_awaitable), void(T)>(std::move(initiate),
                                                                               use_awaitable);
  }

  // Moves leased jobs from the buffer to ready_: URL and file_id jobs at
  // once, path jobs once read, checked and matched against what the run and
  // the store know of their content. At most max(4, concurrency / 2) jobs
  // are being read or wait ready, which bounds the bytes held in memory
  // besides the requests in flight.
  awaitable<void> prepare() {
    const int ahead = std::max(4, options_.concurrency / 2);
    while (!stopping_) {
      if (buffer_.empty() || preparing_ + static_cast<int>(ready_.size()) >= ahead) {
        co_await wake_.wait();
        continue;
      }
      Job job = std::move(buffer_.front());
      buffer_.pop_front();
      if (job.kind != SourceKind::kPath) {
        ready_.push_back(Ready{std::move(job), nullptr, {}, {}, {}, 0});
        wake_.notify();
        continue;
      }
      ++preparing_;
      asio::co_spawn(ex_, prepare_path(std::move(job)), asio::detached);
    }
    preparer_running_ = false;
    wake_.notify();
  }

  awaitable<void> prepare_path(Job job) {
    std::function<Result<ImageFile>()> read = [path = job.source, limits = options_.image_limits] {
      return read_image_file(path, limits);
    };
    Result<ImageFile> file = co_await on_reader(std::move(read));
    if (!file) {
      Outcome local;
      local.failure = TransportFailure::kLocalFileError;
      local.failure_detail = file.error().message +
                             " (nothing sent; fix the file, then lfbatch retry --status "
                             "LOCAL_FILE_ERROR)";
      settle_without_request(job, std::move(local), Decider::kPreflight, 0, "");
    } else if (file->verdict.rejected) {
      Outcome local;
      ApiAnswer answer;
      answer.status = *file->verdict.rejected;
      answer.reason = file->verdict.detail + " (decided locally, nothing sent)";
      local.answer = std::move(answer);
      settle_without_request(job, std::move(local), Decider::kPreflight, 0, file->sha256);
    } else {
      std::string key = dedup_key_of(file->sha256, job.auto_rotate);
      if (!follow(key, job)) {
        // Still being prepared until its lookup comes back (look_up()).
        to_look_up_.push_back(Lookup{std::move(job), std::move(file).value(), std::move(key)});
        wake_.notify();
        co_return;
      }
    }
    --preparing_;
    wake_.notify();
  }

  // Asks the store what it knows of the content of the jobs read meanwhile,
  // all in one call (one trip to the writer thread however many there are),
  // then lets each follow, reuse or lead.
  awaitable<void> look_up() {
    while (!(stopping_ && preparing_ == 0 && to_look_up_.empty()) && !finished_) {
      if (to_look_up_.empty()) {
        co_await wake_.wait();
        continue;
      }
      auto batch = std::make_shared<std::vector<Lookup>>(std::move(to_look_up_));
      to_look_up_.clear();
      std::function<std::vector<Result<ContentLookup>>(JobQueue&, RunLog&)> lookup =
          [batch, reuse = options_.reuse, not_before = image_id_not_before_](JobQueue& q,
                                                                             RunLog&) {
            std::vector<Result<ContentLookup>> found;
            found.reserve(batch->size());
            for (const Lookup& l : *batch) {
              found.push_back(q.find_content(l.file.sha256, l.job.auto_rotate,
                                             reuse && !l.job.no_reuse, not_before));
            }
            return found;
          };
      std::vector<Result<ContentLookup>> found = co_await store_call(std::move(lookup));
      for (std::size_t i = 0; i < batch->size(); ++i) {
        Lookup& l = (*batch)[i];
        if (!found[i]) {
          // Not knowing costs at most a call paid twice; it never loses a result.
          spdlog::debug("job {}: looking up its content: {}", l.job.id, found[i].error().message);
          found[i] = ContentLookup{};
        }
        match_content(l, *found[i]);
        --preparing_;
      }
      wake_.notify();
    }
    lookup_running_ = false;
    wake_.notify();
  }

  // A path job whose bytes passed pre-flight, with what the store knows of
  // its content: follow a leader of the same content (one may have appeared
  // while the store was asked), take a stored answer, or lead (maybe sending
  // an image_id instead of the bytes).
  void match_content(Lookup& l, const ContentLookup& found) {
    Job& job = l.job;
    ImageFile& file = l.file;
    if (follow(l.key, job)) return;
    if (found.answer) {
      Outcome copied;
      copied.answer = found.answer->answer;
      settle_without_request(job, std::move(copied), Decider::kReused, found.answer->job_id,
                             file.sha256);
      return;
    }
    auto image = std::make_shared<PreparedImage>();
    image->bytes = file.bytes;
    const ImageFormat format = file.verdict.format.value_or(ImageFormat::kJpeg);
    image->content_type = std::string(mime_type_of(format));
    image->file_name = options_.send_file_names ? base_name_of(job.source)
                                                : std::string(neutral_file_name(format));
    Ready ready{std::move(job), std::move(image), l.key, file.sha256, {}, 0};
    if (found.upload && image_id_not_before_ > 0 &&
        found.upload->uploaded_at >= image_id_not_before_) {
      ready.image_id = found.upload->image_id;
      ready.image_uploaded_at = found.upload->uploaded_at;
    }
    leaders_[l.key] = Leader{ready.job.id, {}};
    ready_.push_back(std::move(ready));
  }

  static std::string base_name_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }

  // Joins `job` to the leader of `key`, if there is one.
  bool follow(const std::string& key, const Job& job) {
    auto it = leaders_.find(key);
    if (it == leaders_.end()) return false;
    it->second.followers.push_back(job);
    return true;
  }

  // Settles `job` final with `outcome` decided without a request: by
  // pre-flight, or reused from job `reused_from`.
  void settle_without_request(const Job& job, Outcome outcome, Decider decider,
                              JobId reused_from, const std::string& content_hash) {
    outcome.job_id = job.id;
    outcome.started_at = outcome.finished_at = wall_now();
    Settlement settlement;
    settlement.job_id = job.id;
    const bool done = outcome.answer && outcome.answer->status == ApiStatus::kOk;
    settlement.kind = done ? SettleKind::kDone : SettleKind::kFailed;
    settlement.decided_by = decider;
    settlement.reused_from = reused_from;
    settlement.content_hash = content_hash;
    RunCounts delta;
    delta.done = done ? 1 : 0;
    delta.failed = done ? 0 : 1;
    (decider == Decider::kReused ? delta.reused : delta.decided_locally) = 1;
    stats_.done += delta.done;
    stats_.failed += delta.failed;
    stats_.reused += delta.reused;
    stats_.decided_locally += delta.decided_locally;
    if (decider == Decider::kPreflight) {
      spdlog::debug("job {}: {}: {}", job.id, outcome.code(),
                    outcome.answer ? outcome.answer->reason : outcome.failure_detail);
    }
    settlement.outcome = std::move(outcome);
    store_.settle(std::move(settlement), delta);
  }

  // The leader of `key` got `outcome`: its followers take the answer when it
  // is final and a verdict on the image; otherwise they go back to the queue
  // untouched, to be read and tried on their own.
  void release_followers(const std::string& key, const Outcome& outcome, bool final) {
    auto it = leaders_.find(key);
    if (it == leaders_.end()) return;
    Leader leader = std::move(it->second);
    leaders_.erase(it);
    const bool carries =
        final && outcome.answer && is_verdict_on_image(outcome.answer->status);
    const std::string hash = key.substr(0, key.find('/'));
    for (const Job& follower : leader.followers) {
      if (carries) {
        Outcome copied;
        copied.answer = *outcome.answer;
        copied.answer->retry_after_seconds.reset();
        settle_without_request(follower, std::move(copied), Decider::kReused, leader.job_id,
                               hash);
      } else {
        Settlement release;
        release.job_id = follower.id;
        release.kind = SettleKind::kRelease;
        store_.settle(std::move(release), RunCounts{});
      }
    }
  }

  // The attempts row of a request about to be sent, once committed.
  awaitable<Result<AttemptId>> record_sent(JobId job_id, UnixMillis started_at,
                                           std::string sent_image_id) {
    SentAttempt sent;
    sent.job_id = job_id;
    sent.started_at = started_at;
    sent.sent_image_id = std::move(sent_image_id);
    auto initiate = [this, sent = std::move(sent)](auto handler) mutable {
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      store_.record_sent(std::move(sent), [ex = ex_, shared](Result<AttemptId> id) {
        asio::post(ex, [shared, id = std::move(id)]() mutable { (*shared)(std::move(id)); });
      });
    };
    co_return co_await asio::async_initiate<decltype(use_awaitable), void(Result<AttemptId>)>(
        std::move(initiate), use_awaitable);
  }

  // One request: on record, sent, answered. Nullopt when the store gave up
  // before it could be recorded (the run is stopping).
  awaitable<std::optional<std::pair<AttemptId, Outcome>>> call(const Ready& ready) {
    // On record before it leaves: a crash from here on leaves an attempt the
    // next run counts as in doubt, never a call nobody knows of.
    Result<AttemptId> attempt = co_await record_sent(ready.job.id, wall_now(), ready.image_id);
    if (!attempt) co_return std::nullopt;
    UnixMillis started = wall_now();
    Payload payload;
    payload.image = ready.image.get();
    payload.image_id = ready.image_id;
    Outcome outcome;
    try {
      outcome = co_await client_.verify(ready.job, payload);
    } catch (const std::exception& e) {
      // ApiClient promises not to throw; if it does, the attempt is a
      // transport failure like any other.
      outcome = Outcome{};
      outcome.failure = TransportFailure::kConnectionLost;
      outcome.failure_detail = std::string("client error: ") + e.what();
    }
    outcome.job_id = ready.job.id;
    if (outcome.started_at == 0) outcome.started_at = started;
    if (outcome.finished_at == 0) outcome.finished_at = wall_now();
    if (!outcome.answer && !outcome.failure) {
      outcome.failure = TransportFailure::kMalformedResponse;
      outcome.failure_detail = "the client returned neither an answer nor a failure";
    }
    co_return std::make_pair(*attempt, std::move(outcome));
  }

  awaitable<void> request(Ready ready, bool probe) {
    auto sent_at = SteadyClock::now();
    auto answered = co_await call(ready);
    std::int64_t by_image_id = ready.image_id.empty() ? 0 : 1;
    if (answered && by_image_id > 0 && answered->second.answer &&
        answered->second.answer->status == ApiStatus::kImageIdNotExist) {
      // The earlier upload is gone. This attempt stays on record as what it
      // was (the job's attempts unchanged) and the bytes go up instead; no
      // id at least as old is tried again in this run.
      const Outcome expired = std::move(answered->second);
      ++stats_.requests;
      ++stats_.sent_by_image_id;
      ++stats_.image_ids_expired;
      ++stats_.by_code[std::string(expired.code())];
      image_id_not_before_ = std::max(image_id_not_before_, ready.image_uploaded_at + 1);
      spdlog::debug("job {}: image_id {} no longer exists; uploading the file", ready.job.id,
                    ready.image_id);
      Settlement keep;
      keep.job_id = ready.job.id;
      keep.kind = SettleKind::kKeep;
      keep.attempt_id = answered->first;
      keep.outcome = expired;
      keep.attempt_disposition = "image_id_expired";
      RunCounts counted;
      counted.sent_by_image_id = 1;
      store_.settle(std::move(keep), counted);
      ready.image_id.clear();
      by_image_id = 0;
      if (may_send_another()) {
        ++sent_;
        budget_.on_sent(wall_now());
        sent_at = SteadyClock::now();
        answered = co_await call(ready);
      } else {
        // Stopping, or a budget is spent: the job goes back untouched.
        Settlement release;
        release.job_id = ready.job.id;
        release.kind = SettleKind::kRelease;
        store_.settle(std::move(release), RunCounts{});
        if (!ready.dedup_key.empty()) release_followers(ready.dedup_key, expired, false);
        --in_flight_;
        wake_.notify();
        co_return;
      }
    }
    --in_flight_;
    if (!answered) {
      // The store gave up; the run is stopping and the job (and any job
      // following it) stays leased until the next run releases it.
      wake_.notify();
      co_return;
    }
    stats_.sent_by_image_id += by_image_id;
    settle(ready, answered->first, answered->second, sent_at, probe, by_image_id);
    wake_.notify();
  }

  // Whether a request beyond those dispatched may still go now.
  bool may_send_another() {
    if (stopping_) return false;
    if (options_.max_requests > 0 && sent_ >= options_.max_requests) return false;
    return budget_.may_send(wall_now());
  }

  void settle(const Ready& ready, AttemptId attempt, const Outcome& outcome,
              SteadyClock::time_point sent_at, bool probe, std::int64_t by_image_id) {
    const Job& job = ready.job;
    auto now = SteadyClock::now();
    const bool outage = !outcome.answer && outcome.failure && is_outage(*outcome.failure);
    if (outage) {
      if (breaker_.on_outage(now, ready.outage_probe, uniform_(),
                             policy_.retry_after(outcome.gateway_retry_after_seconds))) {
        spdlog::warn("the service is not answering ({} requests in a row; last: {}: {}); "
                     "pausing: one probe at a time, no job charged an attempt; giving up after "
                     "{} (--outage-limit)",
                     breaker_.failures_in_a_row(), outcome.code(), outcome.failure_detail,
                     duration_text(options_.outage.outage_limit));
      } else if (ready.outage_probe) {
        spdlog::info("outage for {:.0f} s: probe failed ({}); next in {:.1f} s",
                     std::chrono::duration<double>(breaker_.outage_age(now)).count(),
                     outcome.code(),
                     std::chrono::duration<double>(breaker_.next_probe_at() - now).count());
      }
    } else {
      const auto age = breaker_.outage_age(now);
      const auto probes = breaker_.probes();
      if (breaker_.on_answer()) {
        spdlog::info("the service answers again after an outage of {:.1f} s ({} probes); "
                     "resuming",
                     std::chrono::duration<double>(age).count(), probes);
      }
    }
    Decision d = decide(job, outcome, policy_, uniform_, wall_now(), outage && breaker_.open());
    d.settlement.attempt_id = attempt;
    if (d.final) d.settlement.content_hash = ready.content_hash;
    if (!outage) {
      const int before = in_flight_limit_.limit();
      const bool by_count = in_flight_limit_.on_answer(ready.level, d.throttled, sent_at, now);
      if (!by_count) {
        if (shared_rate_) {
          shared_rate_->on_response(sent_at, now, d.throttled);
        } else {
          controller_.on_response(sent_at, now, d.throttled);
        }
      }
      if (in_flight_limit_.limit() != before && in_flight_limit_.found()) {
        spdlog::log(in_flight_limit_.limit() < before ? spdlog::level::info : spdlog::level::debug,
                    "the server throttles requests in flight beyond about {}: now at most {} "
                    "in flight", in_flight_limit_.limit() + 1, in_flight_limit_.limit());
      }
    }
    if (d.pause) {
      if (shared_rate_) {
        shared_rate_->pause_until(now + *d.pause);
      } else {
        controller_.pause_until(now + *d.pause);
      }
    }

    RunCounts delta;  // requests: counted when the attempt was recorded
    delta.done = d.settlement.kind == SettleKind::kDone ? 1 : 0;
    delta.failed = d.settlement.kind == SettleKind::kFailed ? 1 : 0;
    delta.retried = d.retried ? 1 : 0;
    delta.throttled = d.throttled ? 1 : 0;
    delta.sent_by_image_id = by_image_id;
    stats_.requests += 1;
    stats_.done += delta.done;
    stats_.failed += delta.failed;
    stats_.retried += delta.retried;
    stats_.throttled += delta.throttled;
    std::string code(outcome.code());
    if (code != "OK") ++stats_.by_code[code];

    std::string reason = outcome.answer ? outcome.answer->reason : outcome.failure_detail;
    if (outage) last_outage_ = std::string(code) + ": " + reason;
    if (breaker_.gave_up(now)) request_stop(RunEnd::kUnreachable, outage_given_up());
    if (invalid_streak_.tripped_after(outcome)) {
      request_stop(RunEnd::kAbortedConfiguration,
                   fmt::format("{} requests in a row answered INVALID_ARGUMENT (last: {}): the "
                               "requests lfbatch builds are refused, not the images; stopping "
                               "before the archive is spent. Check the options, the endpoint "
                               "and any proxy that rewrites requests, then `lfbatch retry "
                               "--status INVALID_ARGUMENT`",
                               invalid_streak_.length(), reason.empty() ? "no reason" : reason));
    }
    switch (d.stop) {
      case StopSignal::kNone:
        // An answer of the API: the account has quota (again), for all.
        if (shared_rate_ && outcome.answer) shared_rate_->on_quota_answer(sent_at);
        if (probe && quota_state_ == QuotaState::kProbing) {
          quota_state_ = QuotaState::kOpen;
          spdlog::info("quota available again; resuming");
        }
        break;
      case StopSignal::kQuota:
        if (shared_rate_) {
          std::optional<SteadyClock::time_point> until;
          if (options_.quota_wait) until = now + *options_.quota_wait;
          shared_rate_->on_out_of_quota(now, until);
        }
        if (options_.quota_wait) {
          if (quota_state_ != QuotaState::kWaiting) {
            spdlog::warn("OUT_OF_QUOTA: pausing; probing again in {:.1f}s",
                         std::chrono::duration<double>(*options_.quota_wait).count());
          }
          quota_state_ = QuotaState::kWaiting;
          quota_until_ = now + *options_.quota_wait;
        } else {
          request_stop(RunEnd::kOutOfQuota,
                       fmt::format("OUT_OF_QUOTA after {} requests", stats_.requests));
        }
        break;
      case StopSignal::kCredentials:
        request_stop(RunEnd::kAbortedCredentials,
                     fmt::format("{}{}{}: check LINKFACE_API_ID / LINKFACE_API_SECRET or the "
                                 "secrets file",
                                 code, reason.empty() ? "" : " ", reason));
        break;
      case StopSignal::kConfiguration:
        // NOT_FOUND names the endpoint; a transport failure (a redirect, a
        // rejected certificate) carries its own detail and fix.
        request_stop(RunEnd::kAbortedConfiguration,
                     outcome.failure
                         ? fmt::format("{}: {}", code, reason)
                         : fmt::format("{}: {} is not the API's path; check --endpoint or the "
                                       "config's \"endpoint\"",
                                       code, options_.client.endpoint));
        break;
    }
    if (d.settlement.kind == SettleKind::kFailed || d.retried) {
      spdlog::debug("job {}: {}{}{} -> {}", job.id, code, reason.empty() ? "" : ": ", reason,
                    d.retried ? "retry" : "failed");
    }
    store_.settle(std::move(d.settlement), delta);
    if (!ready.dedup_key.empty()) release_followers(ready.dedup_key, outcome, d.final);
  }

  awaitable<void> watch_signals() {
    signals_.emplace(ex_, SIGINT, SIGTERM);
    int seen = 0;
    auto first_at = SteadyClock::time_point{};
    for (;;) {
      boost::system::error_code ec;
      int sig = co_await signals_->async_wait(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      // One signal sent to the process and to its group (timeout(1), some
      // supervisors) arrives twice at once: that is not a second request.
      if (seen > 0 && SteadyClock::now() - first_at < milliseconds(100)) continue;
      if (seen == 0) first_at = SteadyClock::now();
      ++seen;
      RunEnd end = sig == SIGINT ? RunEnd::kInterrupted : RunEnd::kTerminated;
      if (seen > 1) {
        // Nothing is lost: what was committed stays; leases of the jobs in
        // flight expire and the next run recovers them.
        std::fputs("\nlfbatch: second signal, exiting now\n", stderr);
        std::_Exit(exit_code_of(end));
      }
      spdlog::warn("{}: finishing {} requests in flight, then stopping (again to exit now)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM", in_flight_);
      request_stop(end, sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
  }

  awaitable<void> watch_deadline() {
    while (!stopping_) {
      UnixMillis left = *options_.deadline - wall_now();
      if (left <= 0) {
        request_stop(RunEnd::kDeadline, "deadline reached");
        break;
      }
      co_await wake_.wait(milliseconds(std::min<std::int64_t>(left, 60'000)));
    }
  }

  // Runners sharing a PostgreSQL queue spend one account's daily budget:
  // once a second the store's count of the day's requests (every runner's)
  // replaces this run's when it is higher. Between two looks the runners
  // together may overshoot by what they send in that second.
  awaitable<void> watch_shared_budget() {
    auto next = SteadyClock::now();
    while (!stopping_) {
      if (SteadyClock::now() < next) {
        co_await wake_.wait(next - SteadyClock::now());
        continue;
      }
      next = SteadyClock::now() + std::chrono::seconds(1);
      const UnixMillis day = budget_.day_start();
      std::function<Result<std::int64_t>(JobQueue&, RunLog&)> count =
          [day](JobQueue& q, RunLog&) { return q.count_requests_since(day); };
      auto used = co_await store_call(std::move(count));
      if (used) budget_.observe_used(day, *used);
    }
  }

  ProgressSnapshot snapshot() const {
    ProgressSnapshot s;
    s.stats = stats_;
    s.total = total_;
    s.in_flight = in_flight_;
    s.elapsed_seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    s.recent_requests_per_second = recent_.requests_per_second();
    s.recent_finished_per_second = recent_.finished_per_second();
    s.rate_limit = shared_rate_ ? shared_rate_->rate() : controller_.rate();
    if (stopping_) {
      s.state = "stopping";
    } else if (store_blocked_) {
      s.state = "waiting for the database";
    } else if (quota_state_ != QuotaState::kOpen) {
      s.state = "waiting for quota";
    } else if (breaker_.open()) {
      s.state = "service down: probing";
    }
    return s;
  }

  awaitable<void> report_progress() {
    ProgressStyle style = options_.progress;
    if (style == ProgressStyle::kAuto) {
      style = isatty(STDERR_FILENO) ? ProgressStyle::kBar : ProgressStyle::kLines;
    }
    const auto tick = style == ProgressStyle::kBar ? milliseconds(250) : milliseconds(1000);
    auto next_line = SteadyClock::now() + options_.log_interval;
    while (!finished_) {
      progress_timer_.expires_after(tick);
      boost::system::error_code ec;
      co_await progress_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
      auto now = SteadyClock::now();
      recent_.add(now, stats_.requests, stats_.done + stats_.failed);
      if (finished_) break;
      if (style == ProgressStyle::kBar) {
        std::string bar = format_progress_bar(snapshot(), terminal_width() - 1);
        std::fprintf(stderr, "\r\033[K%s", bar.c_str());
        std::fflush(stderr);
        bar_shown_ = true;
      } else if (style == ProgressStyle::kLines && now >= next_line) {
        spdlog::info("{}", format_progress_line(snapshot()));
        next_line = now + options_.log_interval;
      }
    }
  }

  asio::io_context& io_;
  asio::any_io_executor ex_;
  asio::any_io_executor readers_;  // the reader threads: file reads, never on ex_
  DailyBudget budget_;
  const bool shared_store_;  // other runners may share the queue (PostgreSQL)
  DayLabels day_labels_;  // the budget's day starts as local times, made before any thread
  const RunOptions& options_;
  StoreWorker& store_;
  ApiClient& client_;
  RunId run_id_;
  std::string owner_;
  RateController controller_;  // this run's own, unless shared_rate_ is set
  // The account's one controller, shared with every runner of the account
  // through PostgreSQL (shared_rate_controller.h); null on SQLite.
  std::unique_ptr<SharedRateController> shared_rate_;
  ConcurrencyLimit in_flight_limit_;  // a limit on requests in flight the server enforces
  RetryPolicy policy_;
  CircuitBreaker breaker_;        // outages of the service: pause, probe, give up
  InvalidArgumentStreak invalid_streak_;
  std::mt19937_64 rng_;
  Uniform01 uniform_;
  std::int64_t total_;
  SteadyClock::time_point started_;

  Event wake_;
  std::deque<Job> buffer_;      // leased, not yet prepared
  std::deque<Ready> ready_;     // prepared, not yet sent; with buffer_ and the jobs being
                                // read, at most 2 x concurrency
  int preparing_ = 0;           // path jobs being read or matched (to_look_up_ included)
  bool preparer_running_ = false;
  std::vector<Lookup> to_look_up_;  // read and checked, for look_up()'s next batch
  bool lookup_running_ = false;
  // Content (hash + auto_rotate) -> the job of this run that will answer for
  // it; entries live from the leader's preparation to its answer.
  std::unordered_map<std::string, Leader> leaders_;
  // Uploads answered before this instant are not sent as image_ids (the
  // configured age, raised past any id the server said it no longer has).
  UnixMillis image_id_not_before_ = 0;
  int in_flight_ = 0;
  std::int64_t sent_ = 0;       // requests dispatched (the budget counts these)
  bool feeder_running_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool logged_waiting_ = false;
  bool bar_shown_ = false;
  bool store_blocked_ = false;   // commits fail; answers go to the unsaved-results file
  bool store_gave_up_ = false;   // the database stayed unwritable past the patience
  RunEnd end_ = RunEnd::kCompleted;
  std::string detail_;
  QuotaState quota_state_ = QuotaState::kOpen;
  std::string last_outage_;      // the code and words of the last outage-class failure
  SteadyClock::time_point quota_until_{};
  RunStats stats_;
  RecentRate recent_;
  std::int64_t released_ = 0;
  std::int64_t remaining_ = 0;
  std::optional<asio::signal_set> signals_;
  asio::steady_timer progress_timer_{ex_};
};

FinishedRun failed_start(RunEnd end, std::string detail) {
  FinishedRun s;
  s.end = end;
  s.detail = std::move(detail);
  return s;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

FinishedRun run_queue(const RunOptions& options) {
  // The runs write to sockets that peers may close; a broken pipe is an
  // error code, never a signal that kills the process.
  ::signal(SIGPIPE, SIG_IGN);

  // SQLite: one run per database. The lock is taken before the database is
  // opened and, declared first, released after it is closed: closing the
  // lock's descriptor of the file while SQLite has it open in this process
  // would drop SQLite's own locks (runner_lock.h). PostgreSQL: many runs at
  // once, each alive by its heartbeat.
  std::optional<RunnerLock> lock;
  if (!is_postgresql_url(options.db_path)) {
    Result<RunnerLock> acquired = RunnerLock::acquire(options.db_path);
    if (!acquired) {
      // Held by another run (exit 69), or no database to lock (a store error).
      const bool held = RunnerLock::holder(options.db_path).has_value();
      return failed_start(held ? RunEnd::kLocked : RunEnd::kStoreError,
                          acquired.error().message);
    }
    lock.emplace(std::move(acquired).value());
  }

  Result<std::unique_ptr<Store>> opened = Store::open(options.db_path, /*create=*/false);
  if (!opened) return failed_start(RunEnd::kStoreError, opened.error().message);
  Store& store = **opened;
  JobQueue& queue = store.queue();
  RunLog& log = store.log();

  UnixMillis now = wall_now();
  const std::string unsaved_path = unsaved_results_path(options.db_path);
  UnsavedImport imported;
  if (!store.shared()) {
    // Holding the lock proves no other run is alive. First store the
    // answers an earlier run could not commit (their leases are still held
    // by their dead owners); then every attempt an unfinished run sent
    // without storing its answer is in doubt, every lease it left is
    // orphaned: put those jobs back and mark the runs crashed.
    auto import = import_unsaved_results(store, unsaved_path, now);
    if (!import) return failed_start(RunEnd::kStoreError, import.error().message);
    imported = *import;
    if (imported.imported + imported.already_stored + imported.unreadable > 0) {
      spdlog::warn("stored {} answers an earlier run could not ({} were stored already, {} "
                   "unreadable lines) from {}",
                   imported.imported, imported.already_stored, imported.unreadable,
                   unsaved_path);
    }
  }
  std::int64_t recovered = 0;
  std::int64_t in_doubt = 0;
  std::int64_t crashed = 0;
  if (!store.shared()) {
    auto recent = log.recent_runs(100);
    if (!recent) return failed_start(RunEnd::kStoreError, recent.error().message);
    for (const RunRecord& r : *recent) {
      if (r.finished_at) continue;
      auto doubt = queue.mark_in_doubt(r.id);
      if (!doubt) return failed_start(RunEnd::kStoreError, doubt.error().message);
      in_doubt += *doubt;
      auto n = queue.release_all(lease_owner_of(r.id), now);
      if (!n) return failed_start(RunEnd::kStoreError, n.error().message);
      recovered += *n;
    }
    auto marked = log.mark_crashed_runs();
    if (!marked) return failed_start(RunEnd::kStoreError, marked.error().message);
    crashed = *marked;
  }
  // Then any other expired lease (PostgreSQL: with the work of every run
  // whose heartbeat stopped; live runs on other hosts keep theirs).
  auto expired = queue.recover_expired_leases(now);
  if (!expired) return failed_start(RunEnd::kStoreError, expired.error().message);
  recovered += *expired;
  if (crashed > 0 || recovered > 0) {
    spdlog::warn("recovered {} jobs leased by earlier run(s) that did not finish", recovered);
  }
  if (store.shared()) {
    // The answers this host's earlier runs could not commit, one file per
    // run: a finished (or reaped) run's file is imported; a live one's is
    // that run's own to empty.
    for (const UnsavedFile& file : unsaved_results_files(options.db_path)) {
      auto run = log.run(file.run_id);
      if (!run) return failed_start(RunEnd::kStoreError, run.error().message);
      if (*run && !(*run)->finished_at) continue;
      auto import = import_unsaved_results(store, file.path, now);
      if (!import) return failed_start(RunEnd::kStoreError, import.error().message);
      imported.imported += import->imported;
      imported.already_stored += import->already_stored;
      imported.unreadable += import->unreadable;
      spdlog::warn("stored {} answers run {} could not ({} were stored already, {} unreadable "
                   "lines) from {}",
                   import->imported, file.run_id, import->already_stored, import->unreadable,
                   file.path);
    }
  }
  if (in_doubt > 0) {
    spdlog::warn("{} requests of those runs were sent but their answers never stored: they are "
                 "in doubt (the server may have counted them) and their jobs will be sent again",
                 in_doubt);
  }

  auto counts = queue.counts(now);
  if (!counts) return failed_start(RunEnd::kStoreError, counts.error().message);
  std::int64_t total = 0;
  if (auto it = counts->by_state.find("pending"); it != counts->by_state.end()) total = it->second;

  // The daily budget: the day's start in the configured zone (computed
  // here, before any thread of the run exists: day_starts may set TZ), and
  // what earlier runs sent since.
  std::vector<UnixMillis> days;
  std::int64_t used_today = 0;
  if (options.max_requests_per_day > 0) {
    auto starts = day_starts(options.budget_time_zone, now, 7);
    if (!starts) return failed_start(RunEnd::kAbortedConfiguration, starts.error().message);
    days = std::move(starts).value();
    auto used = queue.count_requests_since(days.front());
    if (!used) return failed_start(RunEnd::kStoreError, used.error().message);
    used_today = *used;
  }
  DayLabels day_labels = label_days(days, options.budget_time_zone);
  DailyBudget budget(options.max_requests_per_day, std::move(days), used_today);
  if (!budget.may_send(now)) {
    return failed_start(RunEnd::kDailyBudget,
                        daily_budget_message(budget, day_labels, options.budget_time_zone, now));
  }

  asio::io_context io(1);
  auto make = options.make_client;
  Result<std::unique_ptr<ApiClient>> client =
      make ? make(io.get_executor(), options.client)
           : ApiClient::create(io.get_executor(), options.client);
  if (!client) return failed_start(RunEnd::kAbortedConfiguration, client.error().message);

  Result<RunId> run_id = log.start_run(options.settings_json, host_name(), getpid(), now);
  if (!run_id) return failed_start(RunEnd::kStoreError, run_id.error().message);
  if (Status alive = log.heartbeat(*run_id, options.lease_millis); !alive) {
    return failed_start(RunEnd::kStoreError, alive.message());
  }
  spdlog::info("run {}: {} jobs to do, concurrency {}, rate {}", *run_id, total,
               options.concurrency,
               options.rate.ceiling_rps > 0 ? fmt::format("{}/s", options.rate.ceiling_rps)
                                            : std::string("adaptive"));

  // Read by the worker thread's callbacks, set and cleared by this one.
  std::atomic<Engine*> engine_ptr{nullptr};
  StoreWorkerOptions worker_options;
  worker_options.owner = lease_owner_of(*run_id);
  worker_options.run_id = *run_id;
  worker_options.lease_millis = options.lease_millis;
  worker_options.patience = options.store_patience;
  worker_options.unsaved_path = unsaved_results_path(options.db_path, *run_id);
  if (store.shared()) {
    // PostgreSQL's unsaved results live in this user's state directory,
    // made on first need, private to the user (the answers are theirs).
    std::error_code ec;
    const auto dir = std::filesystem::path(worker_options.unsaved_path).parent_path();
    if (!std::filesystem::exists(dir, ec) && std::filesystem::create_directories(dir, ec)) {
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    if (ec) {
      spdlog::warn("cannot create {} for answers the database cannot take: {}", dir.string(),
                   ec.message());
    }
  }
  worker_options.now = wall_now;
  worker_options.on_blocked = [&engine_ptr](const Error& e) {
    if (Engine* engine = engine_ptr.load()) engine->store_blocked(e);
  };
  worker_options.on_unblocked = [&engine_ptr] {
    if (Engine* engine = engine_ptr.load()) engine->store_unblocked();
  };
  worker_options.on_fatal = [&engine_ptr](const Error& e) {
    if (Engine* engine = engine_ptr.load()) engine->store_failed(e);
  };
  FinishedRun summary;
  {
    // Declared before the engine: every read it posts has come back before
    // run() returns, and the pool joins after the engine is gone.
    asio::thread_pool readers(static_cast<std::size_t>(std::max(1, options.read_threads)));
    StoreWorker worker(store, worker_options);
    std::unique_ptr<SharedRateController> shared_rate;
    if (store.shared()) {
      // One controller for the account (endpoint and api_id; never the
      // secret), on a connection of its own.
      SharedRateOptions shared;
      shared.account = options.client.endpoint + " " + options.client.api_id;
      shared.runner = fmt::format("{} {}", host_name(), getpid());
      shared.rate = options.rate;
      shared_rate = std::make_unique<SharedRateController>(
          std::move(shared), [url = options.db_path]() -> Result<std::unique_ptr<SqlSession>> {
            Result<std::unique_ptr<PgSession>> session = PgSession::connect(url);
            if (!session) return session.error();
            return std::unique_ptr<SqlSession>(std::move(session).value());
          });
    }
    Engine engine(io, readers.get_executor(), options, worker, **client, *run_id, total,
                  std::move(budget), std::move(day_labels), store.shared(),
                  std::move(shared_rate));
    engine_ptr = &engine;
    auto guard = asio::make_work_guard(io);
    bool done = false;
    asio::co_spawn(io, engine.run(), [&](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::critical("runner: {}", ex.what());
        }
      }
      done = true;
    });
    while (!done) io.run_one();
    // The watchers (signals, deadline, progress) end on their own once the
    // run has finished; give them, and the client's closing connections, a
    // moment rather than destroying their frames mid-wait.
    guard.reset();
    io.run_for(std::chrono::seconds(2));
    worker.stop();
    summary = engine.summary();
    // The worker may have given up on the last answers after the engine
    // ended (a store error outranks every other end).
    if (std::optional<Error> failure = worker.failure();
        failure && summary.end != RunEnd::kStoreError) {
      summary.end = RunEnd::kStoreError;
      summary.detail = "database: " + failure->message;
      spdlog::error("{}", summary.detail);
    }
    summary.in_doubt = in_doubt;
    summary.imported_unsaved = imported.imported;
    engine_ptr = nullptr;
  }
  client->reset();

  // The worker has joined: the connection is ours again (with the default
  // lock wait).
  store.set_lock_wait(std::chrono::milliseconds(Database::kBusyTimeoutMillis));
  Status finished = log.finish_run(*run_id, ended_how(summary.end), summary.detail, wall_now());
  if (!finished) spdlog::error("recording the end of run {}: {}", *run_id, finished.message());
  return summary;
}

}  // namespace lf
