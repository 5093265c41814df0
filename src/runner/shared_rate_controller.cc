// The account's shared rate over PostgreSQL (see shared_rate_controller.h).
#include "runner/shared_rate_controller.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/shared_rate_leader.h"
#include "store/pg_account_limits.h"

namespace lf {

namespace {

using std::chrono::milliseconds;

TokenStashOptions stash_options(const SharedRateOptions& options) {
  TokenStashOptions o;
  o.tick = options.tick;
  o.max_draw = options.max_draw;
  return o;
}

}  // namespace

SharedRateController::SharedRateController(SharedRateOptions options, SqlConnector connect)
    : options_(std::move(options)),
      connect_(std::move(connect)),
      stash_(stash_options(options_), Clock::now()),
      last_ok_(Clock::now()) {
  thread_ = std::thread([this] { run(); });
}

SharedRateController::~SharedRateController() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

SharedRateController::Duration SharedRateController::acquire(TimePoint now) {
  std::lock_guard lock(mu_);
  if (!local_ && now - last_ok_ > options_.fallback_after) enter_fallback_locked(now);
  if (local_) return local_->acquire(now);
  Duration wait = stash_.take(now);
  if (wait != Duration::zero() && stash_.held() == 0 && idle_ && !draw_requested_) {
    draw_requested_ = true;
    wake_.notify_all();  // draw now rather than at the next idle tick
  }
  return wait;
}

void SharedRateController::log_failure(const std::string& what) {
  const TimePoint now = Clock::now();
  ++failures_in_streak_;
  if (failures_in_streak_ == 1 || now - failure_logged_at_ >= std::chrono::seconds(30)) {
    failure_logged_at_ = now;
    spdlog::warn("shared rate of {}: {}{}", options_.account, what,
                 failures_in_streak_ > 1
                     ? fmt::format(" ({} failures in a row; reconnecting with backoff)",
                                   failures_in_streak_)
                     : "");
  } else {
    spdlog::debug("shared rate of {}: {}", options_.account, what);
  }
}

void SharedRateController::enter_fallback_locked(TimePoint now) {
  RateControllerResume resume;
  if (drawn_rate_at_last_ok_ > 0) resume = {drawn_rate_at_last_ok_, drawn_rate_at_last_ok_};
  local_.emplace(options_.rate, now, resume);
  stash_.clear();
  tally_.take();
  stats_.fallback = true;
  spdlog::warn("shared rate of {}: no word from the database for {} ms; going on alone at {:.1f} "
               "req/s until it is back",
               options_.account, options_.fallback_after.count(), local_->rate());
}

void SharedRateController::on_response(TimePoint sent_at, TimePoint now, bool throttled) {
  std::lock_guard lock(mu_);
  if (local_) {
    local_->on_response(sent_at, now, throttled);
    return;
  }
  tally_.on_response(sent_at, throttled);
}

void SharedRateController::pause_until(TimePoint until) {
  std::lock_guard lock(mu_);
  stash_.pause_until(until);
  if (local_) local_->pause_until(until);
  pending_pause_ = std::max(pending_pause_.value_or(until), until);
}

double SharedRateController::rate() const {
  std::lock_guard lock(mu_);
  return local_ ? local_->rate() : shared_rate_;
}

void SharedRateController::on_out_of_quota(TimePoint now, std::optional<TimePoint> until) {
  std::lock_guard lock(mu_);
  quota_ = QuotaExhausted{now, until};
  pending_quota_ = quota_;
}

void SharedRateController::on_quota_answer(TimePoint sent_at) {
  std::lock_guard lock(mu_);
  pending_quota_seen_ = std::max(pending_quota_seen_.value_or(sent_at), sent_at);
  if (quota_ && quota_->since <= sent_at) quota_.reset();
  if (pending_quota_ && pending_quota_->since <= sent_at) pending_quota_.reset();
}

std::optional<QuotaExhausted> SharedRateController::quota_exhausted() const {
  std::lock_guard lock(mu_);
  return quota_;
}

bool SharedRateController::leading() const {
  std::lock_guard lock(mu_);
  return stats_.leading;
}

SharedRateStats SharedRateController::stats() const {
  std::lock_guard lock(mu_);
  SharedRateStats s = stats_;
  s.rate = local_ ? local_->rate() : shared_rate_;
  s.drawn = stash_.drawn_total();
  s.spent = stash_.taken_total();
  s.held = stash_.held();
  return s;
}

void SharedRateController::run() {
  std::unique_ptr<SqlSession> session;
  std::optional<PgAccountLimits> limits;
  Duration backoff = options_.reconnect_min;
  TimePoint next_connect = Clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const TimePoint tick_start = Clock::now();
    lock.unlock();
    if (!session && tick_start >= next_connect) {
      Result<std::unique_ptr<SqlSession>> opened = connect_();
      Status ready = opened ? Status::Ok() : Status(opened.error());
      if (ready) {
        session = std::move(*opened);
        limits.emplace(*session, options_.account);
        ready = limits->ensure_row();
      }
      if (ready) {
        backoff = options_.reconnect_min;
        if (ever_connected_ && failures_in_streak_ > 0) {
          spdlog::info("shared rate of {}: connected again", options_.account);
        }
        failures_in_streak_ = 0;
        std::lock_guard relock(mu_);
        ++stats_.connects;
        stats_.connected = true;
        ever_connected_ = true;
      } else {
        log_failure("cannot reach the database: " + ready.message());
        limits.reset();
        session.reset();
        next_connect = Clock::now() + backoff;
        backoff = std::min<Duration>(backoff * 2, options_.reconnect_max);
      }
    }
    if (session && !tick(*limits)) {
      // The connection or the row failed: drop it (the lead goes with it),
      // and connect again after a backoff.
      limits.reset();
      session.reset();
      leader_.reset();
      next_connect = Clock::now() + backoff;
      backoff = std::min<Duration>(backoff * 2, options_.reconnect_max);
      std::lock_guard relock(mu_);
      ++stats_.failed_ticks;
      stats_.connected = false;
      stats_.leading = false;
    }
    lock.lock();
    // Idle: not leading, holding tokens or answers for no one, wanting none.
    idle_ = !leader_ && !local_ && stash_.held() == 0 && tally_.empty() && !pending_pause_ &&
            !pending_quota_ && !pending_quota_seen_ && stats_.connected && last_want_ == 0;
    const auto next = tick_start + (idle_ ? options_.idle_tick : options_.tick);
    wake_.wait_until(lock, next, [this] { return stopping_ || draw_requested_; });
    idle_ = false;
    draw_requested_ = false;
  }
}

bool SharedRateController::tick(PgAccountLimits& limits) {
  const TimePoint sent = Clock::now();
  AccountDraw draw;
  AnswerTally::Report report;
  std::optional<TimePoint> pause;
  std::optional<QuotaExhausted> quota;
  std::optional<TimePoint> quota_seen;
  {
    std::lock_guard lock(mu_);
    draw.want = local_ ? 0 : stash_.want(sent);
    last_want_ = draw.want;
  }
  // The leader takes its share after its mint (publish), not before it.
  std::int64_t leader_want = 0;
  if (leader_) leader_want = std::exchange(draw.want, 0);
  {
    std::lock_guard lock(mu_);
    report = tally_.take();
    pause = std::exchange(pending_pause_, std::nullopt);
    quota = std::exchange(pending_quota_, std::nullopt);
    quota_seen = std::exchange(pending_quota_seen_, std::nullopt);
  }
  // Before the server's clock is known (the first tick), throttles count
  // whatever the last decrease: there is none this runner could know of.
  const auto to_server = [&](TimePoint t) {
    return server_clock_.known() ? server_clock_.to_server_ms(t)
                                 : std::numeric_limits<std::int64_t>::max();
  };
  draw.admitted = report.admitted;
  for (TimePoint t : report.throttled_sent_at) draw.throttled_sent_at.push_back(to_server(t));
  if (pause && server_clock_.known()) draw.pause_until = to_server(*pause);
  if (quota && server_clock_.known()) {
    draw.out_of_quota_at = to_server(quota->since);
    if (quota->until) draw.out_of_quota_until = to_server(*quota->until);
  }
  if (quota_seen && server_clock_.known()) draw.quota_seen_at = to_server(*quota_seen);

  Result<AccountState> drawn = limits.draw(draw);
  const TimePoint received = Clock::now();
  if (!drawn) {
    log_failure(drawn.error().message);
    std::lock_guard lock(mu_);
    // What was not delivered goes with the next tick (a draw that failed
    // took no token: the statement is one transaction).
    if (!local_) tally_.put_back(std::move(report));
    if (pause) pending_pause_ = std::max(pending_pause_.value_or(*pause), *pause);
    if (quota && !pending_quota_) pending_quota_ = quota;
    if (quota_seen && !pending_quota_seen_) pending_quota_seen_ = quota_seen;
    return false;
  }
  const bool had_clock = server_clock_.known();
  server_clock_.observe(sent, received, drawn->now);
  if (!had_clock) {
    // The first tick could not convert its times: they go with the next.
    std::lock_guard lock(mu_);
    if (pause) pending_pause_ = std::max(pending_pause_.value_or(*pause), *pause);
    if (quota && !pending_quota_) pending_quota_ = quota;
    if (quota_seen && !pending_quota_seen_) pending_quota_seen_ = quota_seen;
  }
  const AccountState& row = *drawn;

  // The lead: tried when the leader's heartbeat is old (or there is none).
  const bool leader_stale =
      !row.refilled_at || row.now - *row.refilled_at > options_.leader_stale_after.count();
  if (!leader_stale) lock_refused_since_.reset();
  if (!leader_ && leader_stale && received >= next_lead_try_) {
    next_lead_try_ = received + options_.leader_stale_after;
    Result<bool> took = limits.try_lead();
    if (!took) {
      log_failure(took.error().message);
      return false;
    }
    if (!*took) {
      if (!lock_refused_since_) lock_refused_since_ = received;
      if (received - *lock_refused_since_ >= options_.leader_dead_after) {
        lock_refused_since_.reset();
        Result<std::int64_t> ended = limits.depose_leader();
        if (!ended) {
          log_failure(ended.error().message);
          return false;
        }
        if (*ended > 0) {
          spdlog::warn("shared rate of {}: the leader ({}) held the lead without a heartbeat "
                       "for {} ms; its database session was ended",
                       options_.account, row.leader.empty() ? "unnamed" : row.leader,
                       options_.leader_dead_after.count());
          next_lead_try_ = received;  // take it at the next tick
          std::lock_guard lock(mu_);
          ++stats_.deposed;
        }
      }
    }
    if (*took) {
      lock_refused_since_.reset();
      leader_ = std::make_unique<SharedRateLeader>(
          options_.rate, received, RateControllerResume{row.rate, row.last_limit}, options_.tick);
      published_decrease_.reset();
      spdlog::info("shared rate of {}: this runner leads the account's rate now ({}, from {:.1f} "
                   "req/s{})",
                   options_.account, row.leader.empty() ? "the first" : "after " + row.leader,
                   leader_->rate(), row.rate > 0 ? "" : ", afresh");
      std::lock_guard lock(mu_);
      ++stats_.lead_terms;
      stats_.leading = true;
    }
  }

  double rate = row.rate;
  std::int64_t leader_granted = 0;
  if (leader_) {
    if (row.paused_until) leader_->pause_until(server_clock_.to_local(*row.paused_until));
    leader_->on_counters(row.admitted, row.throttled, received);
    LeaderPublication publication;
    publication.leader = options_.runner;
    publication.mint = leader_->mint(row.tokens, received);
    publication.bucket = leader_->bucket_size();
    publication.rate = leader_->rate();
    publication.last_limit = leader_->last_max_rate();
    if (leader_->last_decrease_at() != published_decrease_) {
      published_decrease_ = leader_->last_decrease_at();
      if (published_decrease_) publication.last_decrease_at = to_server(*published_decrease_);
    }
    publication.want = leader_want;
    Result<LeaderPublished> published = limits.publish(publication);
    if (!published) {
      log_failure(published.error().message);
      return false;
    }
    leader_->on_published(published->throttled);
    leader_granted = published->granted;
    rate = leader_->rate();
    std::lock_guard lock(mu_);
    stats_.minted += publication.mint;
    stats_.decreases = leader_->controller().decreases();
  }

  const TimePoint done = Clock::now();
  std::unique_lock lock(mu_);
  if (local_) {
    local_.reset();
    stats_.fallback = false;
    lock.unlock();  // no logging under the lock the callers take
    spdlog::info("shared rate of {}: the database answers again; back on the account's rate",
                 options_.account);
    lock.lock();
  }
  stash_.add(row.granted + leader_granted, received);
  if (row.paused_until) {
    const TimePoint until = server_clock_.to_local(*row.paused_until);
    if (until > received) stash_.pause_until(until);
  }
  // The quota flag: the row's, unless this runner has news not sent yet.
  if (!pending_quota_ && !pending_quota_seen_) {
    if (row.out_of_quota_at) {
      std::optional<TimePoint> until;
      if (row.out_of_quota_until) until = server_clock_.to_local(*row.out_of_quota_until);
      quota_ = QuotaExhausted{server_clock_.to_local(*row.out_of_quota_at), until};
    } else {
      quota_.reset();
    }
  }
  shared_rate_ = rate;
  last_ok_ = received;
  drawn_rate_at_last_ok_ = stash_.drawn_rate(received);
  ++stats_.ticks;
  stats_.connected = true;
  stats_.leading = leader_ != nullptr;
  stats_.leader = leader_ ? options_.runner : row.leader;
  stats_.last_tick = std::chrono::duration_cast<std::chrono::microseconds>(done - sent);
  return true;
}

}  // namespace lf
