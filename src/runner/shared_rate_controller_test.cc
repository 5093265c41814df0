// The account's shared rate with several runners (SharedRateController
// instances, each with its own connection) against a real PostgreSQL (the
// CTest fixture "pg"), and its fallback without one. Behaviour only: waits
// have generous timeouts, nothing asserts a speed.
#include "runner/shared_rate_controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/token_bucket.h"
#include "store/pg_account_limits.h"
#include "store/pg_database_for_test.h"
#include "store/pg_migrations.h"
#include "store/pg_session.h"

namespace lf {
namespace {

using namespace std::chrono_literals;
using Clock = SharedRateController::Clock;
using TimePoint = SharedRateController::TimePoint;

constexpr char kAccount[] = "https://api.example/ test-id";

// Waits up to `timeout` for `condition`; true when it held.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = 20s) {
  const TimePoint end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

SqlConnector connector_to(const std::string& url) {
  return [url]() -> Result<std::unique_ptr<SqlSession>> {
    auto session = PgSession::connect(url);
    if (!session) return session.error();
    return std::unique_ptr<SqlSession>(std::move(*session));
  };
}

SharedRateOptions options_for(const std::string& runner, double ceiling = 0) {
  SharedRateOptions options;
  options.account = kAccount;
  options.runner = runner;
  options.rate.ceiling_rps = ceiling;
  return options;
}

// The server's side of the account: admits `rps` (burst `burst`), for
// all runners together; unlimited when rps <= 0.
class FakeServer {
 public:
  FakeServer(double rps, double burst) : bucket_(rps, burst, Clock::now()) {}
  bool admit(TimePoint now) {
    std::lock_guard lock(mu_);
    bool ok = bucket_.try_take(now);
    (ok ? admitted_ : throttled_)++;
    return ok;
  }
  std::int64_t admitted() const { std::lock_guard lock(mu_); return admitted_; }
  std::int64_t throttled() const { std::lock_guard lock(mu_); return throttled_; }

 private:
  mutable std::mutex mu_;
  TokenBucket bucket_;
  std::int64_t admitted_ = 0;
  std::int64_t throttled_ = 0;
};

// A runner's engine, reduced to its use of the controller: sends whenever
// acquire allows, each answer at once (throttled when the server says so).
class Driver {
 public:
  Driver(SharedRateController& controller, FakeServer& server)
      : thread_([this, &controller, &server] {
          while (!stop_) {
            const TimePoint now = Clock::now();
            auto wait = controller.acquire(now);
            if (wait == Clock::duration::zero()) {
              controller.on_response(now, Clock::now(), !server.admit(now));
              ++sent_;
            } else {
              std::this_thread::sleep_for(std::min<Clock::duration>(wait, 5ms));
            }
          }
        }) {}
  ~Driver() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::int64_t sent() const { return sent_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> sent_{0};
  std::thread thread_;
};

class SharedRate : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    admin_ = db_.connect();
    ASSERT_TRUE(admin_);
    Status migrated = migrate_postgresql(*admin_, nullptr);
    ASSERT_TRUE(migrated) << migrated.message();
  }

  std::unique_ptr<SharedRateController> start(const std::string& runner, double ceiling = 0) {
    return std::make_unique<SharedRateController>(options_for(runner, ceiling),
                                                  connector_to(db_.url()));
  }

  AccountState row() {
    PgAccountLimits limits(*admin_, kAccount);
    Result<AccountState> state = limits.read();
    EXPECT_TRUE(state.ok()) << state.error().message;
    return state.ok() ? *state : AccountState{};
  }

  // Ends the backend that holds the account's leader lock (pg_locks shows
  // a bigint advisory key as its high and low halves, objsubid 1); returns
  // how many it ended.
  std::int64_t terminate_leaders_backend() {
    std::int64_t ended = 0;
    Result<std::int64_t> rows = admin_->query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objsubid = 1 AND database = (SELECT oid FROM pg_database"
        "                                  WHERE datname = current_database())"
        " AND objid::bigint = (" + std::string(PgAccountLimits::kLeaderLockKey) +
            "::bigint & 4294967295)",
        {std::string(kAccount)}, [&](const SqlRow& row) {
          ended += row.integer(0);
          return Status::Ok();
        });
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return ended;
  }

  int leaders(const std::vector<std::unique_ptr<SharedRateController>>& runners) {
    int n = 0;
    for (const auto& r : runners) n += r && r->leading() ? 1 : 0;
    return n;
  }

  PgDatabaseForTest db_;
  std::unique_ptr<PgSession> admin_;
};

TEST_F(SharedRate, OneOfThreeLeadsAndTheirDrawsNeverExceedWhatWasMinted) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b", "c"}) runners.push_back(start(name, 200));
  ASSERT_TRUE(eventually([&] { return leaders(runners) == 1; }));
  FakeServer server(0, 1);  // admits everything: only the shared bucket limits
  {
    std::vector<std::unique_ptr<Driver>> drivers;
    for (auto& r : runners) drivers.push_back(std::make_unique<Driver>(*r, server));
    ASSERT_TRUE(eventually([&] {
      for (auto& d : drivers) {
        if (d->sent() < 20) return false;
      }
      return true;
    }));
  }
  // Idle now: within a tick or two every want is 0 and nothing is drawn.
  std::this_thread::sleep_for(300ms);
  std::int64_t drawn = 0;
  for (auto& r : runners) {
    SharedRateStats s = r->stats();
    EXPECT_LE(s.spent, s.drawn);
    EXPECT_EQ(s.failed_ticks, 0);  // tokens >= 0 is a CHECK: a draw beyond it would fail
    EXPECT_FALSE(s.fallback);
    drawn += s.drawn;
  }
  EXPECT_EQ(leaders(runners), 1);
  AccountState state = row();
  std::printf("minted %lld drawn %lld tokens %lld bucket %lld\n",
              static_cast<long long>(state.minted), static_cast<long long>(state.drawn),
              static_cast<long long>(state.tokens), static_cast<long long>(state.bucket));
  EXPECT_EQ(drawn, state.drawn);
  EXPECT_LE(state.drawn, state.minted);
  EXPECT_EQ(state.minted - state.drawn, state.tokens);
  EXPECT_GE(state.tokens, 0);
  EXPECT_LE(state.tokens, state.bucket);
  EXPECT_EQ(server.admitted(), [&] {
    std::int64_t spent = 0;
    for (auto& r : runners) spent += r->stats().spent;
    return spent;
  }());
}

TEST_F(SharedRate, AThrottleReportedByOneRunnerLowersTheRateAllSee) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b", "c"}) runners.push_back(start(name, 100));
  ASSERT_TRUE(eventually([&] {
    if (leaders(runners) != 1) return false;
    for (auto& r : runners) {
      if (r->rate() != 100) return false;
    }
    return true;
  }));
  FakeServer server(0, 1);
  std::vector<std::unique_ptr<Driver>> drivers;
  for (auto& r : runners) drivers.push_back(std::make_unique<Driver>(*r, server));
  std::this_thread::sleep_for(1s);  // answers for the admitted-rate estimate
  for (auto& r : runners) EXPECT_EQ(r->rate(), 100);  // told the limit, never throttled
  // The one that does not lead is told RATE_LIMIT_EXCEEDED.
  SharedRateController& follower = runners[0]->leading() ? *runners[1] : *runners[0];
  const TimePoint now = Clock::now();
  follower.on_response(now, now, true);
  EXPECT_TRUE(eventually([&] {
    for (auto& r : runners) {
      if (!(r->rate() < 100)) return false;
    }
    return true;
  }));
  EXPECT_GT(row().last_limit, 0);
  EXPECT_GT(row().last_decrease_at.value_or(0), 0);
}

TEST_F(SharedRate, WhenTheLeaderEndsAnotherRunnerTakesOverFromThePublishedRate) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b"}) runners.push_back(start(name, 100));
  ASSERT_TRUE(eventually([&] { return leaders(runners) == 1; }));
  FakeServer server(0, 1);
  {
    std::vector<std::unique_ptr<Driver>> drivers;
    for (auto& r : runners) drivers.push_back(std::make_unique<Driver>(*r, server));
    std::this_thread::sleep_for(500ms);
    const TimePoint now = Clock::now();
    runners[0]->on_response(now, now, true);  // a throttle: a limit found, to resume from
    ASSERT_TRUE(eventually([&] { return row().last_limit > 0; }));
  }
  const double last_limit = row().last_limit;
  const std::size_t leader = runners[0]->leading() ? 0 : 1;
  const std::size_t other = 1 - leader;
  const std::string old_name = row().leader;
  runners[leader].reset();  // its connection closes: the lock goes with it
  ASSERT_TRUE(eventually([&] { return runners[other]->leading(); }));
  ASSERT_TRUE(eventually([&] { return row().leader != old_name; }));
  EXPECT_EQ(row().leader, other == 0 ? "a" : "b");
  EXPECT_EQ(runners[other]->stats().lead_terms, 1);
  // Resumed, not started afresh (a fresh leader told --rate 100 would
  // publish no last limit and 100 req/s).
  EXPECT_NEAR(row().last_limit, last_limit, 1e-9);
}

TEST_F(SharedRate, ALeaderWhoseConnectionDiesIsReplacedAndReconnects) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b"}) runners.push_back(start(name, 100));
  ASSERT_TRUE(eventually([&] { return leaders(runners) == 1; }));
  const std::size_t leader = runners[0]->leading() ? 0 : 1;
  // The server ends the backend that holds the account's lock.
  ASSERT_EQ(terminate_leaders_backend(), 1);
  ASSERT_TRUE(eventually([&] { return runners[leader]->stats().failed_ticks >= 1; }));
  ASSERT_TRUE(eventually([&] { return runners[leader]->stats().connects >= 2; }));
  // Someone leads again (either of them) and only one.
  ASSERT_TRUE(eventually([&] {
    return leaders(runners) == 1 && runners[0]->stats().ticks > 0 && runners[1]->stats().ticks > 0;
  }));
  const std::string now_leading = row().leader;
  EXPECT_TRUE(now_leading == "a" || now_leading == "b") << now_leading;
}

TEST_F(SharedRate, ALeaderHoldingTheLockWithoutAHeartbeatIsDeposed) {
  // A session holds the account's lock and never ticks (a stopped leader).
  std::unique_ptr<PgSession> hung = db_.connect();
  ASSERT_TRUE(hung);
  Result<bool> held = PgAccountLimits(*hung, kAccount).try_lead();
  ASSERT_TRUE(held.ok() && *held);
  SharedRateOptions options = options_for("a", 100);
  options.leader_dead_after = 1000ms;
  SharedRateController runner(options, connector_to(db_.url()));
  ASSERT_TRUE(eventually([&] { return runner.leading(); }));
  EXPECT_EQ(runner.stats().deposed, 1);
  EXPECT_FALSE(hung->run("SELECT 1").ok());
  EXPECT_TRUE(hung->connection_lost());
}

TEST_F(SharedRate, ARetryAfterGivenToOneRunnerPausesAll) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b"}) runners.push_back(start(name, 100));
  ASSERT_TRUE(eventually([&] { return leaders(runners) == 1 && runners[1]->stats().ticks > 2; }));
  const TimePoint until = Clock::now() + 30s;
  runners[0]->pause_until(until);
  EXPECT_TRUE(eventually([&] { return runners[1]->acquire(Clock::now()) > 20s; }));
}

TEST_F(SharedRate, OutOfQuotaSeenByOneRunnerIsSeenByAllUntilAnAnswerClearsIt) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b"}) runners.push_back(start(name, 100));
  ASSERT_TRUE(eventually([&] { return runners[0]->stats().ticks > 2 && runners[1]->stats().ticks > 2; }));
  EXPECT_FALSE(runners[1]->quota_exhausted());
  const TimePoint seen = Clock::now();
  runners[0]->on_out_of_quota(seen, seen + 15min);
  EXPECT_TRUE(runners[0]->quota_exhausted());  // at once for the runner told
  ASSERT_TRUE(eventually([&] { return runners[1]->quota_exhausted().has_value(); }));
  std::optional<QuotaExhausted> flag = runners[1]->quota_exhausted();
  ASSERT_TRUE(flag->until);
  EXPECT_GT(*flag->until, seen + 14min);
  EXPECT_LT(*flag->until, seen + 16min);
  // A probe sent after the flag was set is answered: the quota is back for all.
  runners[1]->on_quota_answer(Clock::now());
  EXPECT_FALSE(runners[1]->quota_exhausted());
  EXPECT_TRUE(eventually([&] { return !runners[0]->quota_exhausted(); }));
}

TEST_F(SharedRate, ThreeRunnersTogetherFollowTheAccountsLimit) {
  std::vector<std::unique_ptr<SharedRateController>> runners;
  for (const char* name : {"a", "b", "c"}) runners.push_back(start(name));  // told nothing
  FakeServer server(60, 6);
  std::vector<std::unique_ptr<Driver>> drivers;
  for (auto& r : runners) drivers.push_back(std::make_unique<Driver>(*r, server));
  // The slow start finds the limit and the leader backs off below it.
  ASSERT_TRUE(eventually([&] { return server.throttled() > 0; }));
  ASSERT_TRUE(eventually([&] { return row().last_limit > 0; }));
  std::this_thread::sleep_for(3s);
  for (auto& d : drivers) d->stop();
  const double rate = row().rate;
  std::printf("rate %.1f last limit %.1f admitted %lld throttled %lld\n", rate, row().last_limit,
              static_cast<long long>(server.admitted()),
              static_cast<long long>(server.throttled()));
  EXPECT_GT(rate, 10);
  EXPECT_LT(rate, 120);  // never above twice what the server admits
  EXPECT_LT(server.throttled(), server.admitted());
}

// Without a database: nothing to connect to.
SqlConnector unreachable(std::atomic<int>* calls) {
  return [calls]() -> Result<std::unique_ptr<SqlSession>> {
    ++*calls;
    return Error{"connection refused (a test)"};
  };
}

TEST(SharedRateWithoutDatabase, FallsBackToALocalControllerAndRetriesWithBackoff) {
  std::atomic<int> calls{0};
  SharedRateOptions options = options_for("a", 50);
  options.fallback_after = 200ms;
  options.reconnect_min = 10ms;
  options.reconnect_max = 40ms;
  SharedRateController controller(options, unreachable(&calls));
  EXPECT_GT(controller.acquire(Clock::now()), Clock::duration::zero());  // nothing drawn yet
  ASSERT_TRUE(eventually([&] { return controller.acquire(Clock::now()) == Clock::duration::zero(); }));
  EXPECT_TRUE(controller.stats().fallback);
  EXPECT_FALSE(controller.stats().connected);
  EXPECT_DOUBLE_EQ(controller.rate(), 50);  // never drew: a fresh controller, told 50
  ASSERT_TRUE(eventually([&] { return calls >= 5; }));
}

TEST_F(SharedRate, AfterAnOutageOfTheDatabaseItGoesBackToTheSharedRate) {
  std::atomic<bool> reachable{true};
  const std::string url = db_.url();
  SqlConnector connect = [&reachable, url]() -> Result<std::unique_ptr<SqlSession>> {
    if (!reachable) return Error{"connection refused (a test)"};
    return connector_to(url)();
  };
  SharedRateOptions options = options_for("a", 100);
  options.fallback_after = 300ms;
  options.reconnect_min = 10ms;
  options.reconnect_max = 50ms;
  SharedRateController controller(options, connect);
  FakeServer server(0, 1);
  Driver driver(controller, server);
  ASSERT_TRUE(eventually([&] { return controller.leading() && controller.stats().spent > 10; }));
  reachable = false;
  ASSERT_EQ(terminate_leaders_backend(), 1);
  ASSERT_TRUE(eventually([&] { return controller.stats().fallback; }));
  const double local_rate = controller.rate();
  EXPECT_GT(local_rate, 0);
  EXPECT_LE(local_rate, 100);  // its own share: it was the only runner
  const std::int64_t sent_in_fallback = driver.sent();
  ASSERT_TRUE(eventually([&] { return driver.sent() > sent_in_fallback + 5; }));  // still sending
  reachable = true;
  ASSERT_TRUE(eventually([&] { return !controller.stats().fallback && controller.leading(); }));
}

}  // namespace
}  // namespace lf
