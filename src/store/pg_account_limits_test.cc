// The statements on account_limits against a real server: draws never take
// more than the bucket holds, throttles of requests sent before the last
// decrease are not counted, the lock has one holder, the quota flag.
#include "store/pg_account_limits.h"

#include <gtest/gtest.h>

#include "store/pg_database_for_test.h"
#include "store/pg_migrations.h"
#include "store/pg_session.h"

namespace lf {
namespace {

constexpr char kAccount[] = "https://api.example/ id";

// (Not designated initializers: -Wmissing-field-initializers.)
AccountDraw wanting(std::int64_t want) {
  AccountDraw d;
  d.want = want;
  return d;
}

LeaderPublication minting(std::int64_t mint, std::int64_t bucket, double rate) {
  LeaderPublication p;
  p.leader = "a";
  p.mint = mint;
  p.bucket = bucket;
  p.rate = rate;
  return p;
}

class PgAccountLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    a_ = db_.connect();
    b_ = db_.connect();
    ASSERT_TRUE(a_ && b_);
    Status migrated = migrate_postgresql(*a_, nullptr);
    ASSERT_TRUE(migrated) << migrated.message();
    Status row = PgAccountLimits(*a_, kAccount).ensure_row();
    ASSERT_TRUE(row) << row.message();
  }
  AccountState draw(PgSession& session, const AccountDraw& d) {
    Result<AccountState> state = PgAccountLimits(session, kAccount).draw(d);
    EXPECT_TRUE(state.ok()) << state.error().message;
    return state.ok() ? *state : AccountState{};
  }
  // The throttled counter the publication leaves.
  std::int64_t publish(PgSession& session, const LeaderPublication& p) {
    Result<LeaderPublished> published = PgAccountLimits(session, kAccount).publish(p);
    EXPECT_TRUE(published.ok()) << published.error().message;
    return published.ok() ? published->throttled : -1;
  }

  PgDatabaseForTest db_;
  std::unique_ptr<PgSession> a_, b_;
};

TEST_F(PgAccountLimitsTest, ANewRowHasAnEmptyBucketAndNoRate) {
  ASSERT_TRUE(PgAccountLimits(*b_, kAccount).ensure_row());  // twice is harmless
  AccountState s = draw(*a_, wanting(5));
  EXPECT_EQ(s.granted, 0);
  EXPECT_EQ(s.tokens, 0);
  EXPECT_EQ(s.rate, 0);
  EXPECT_FALSE(s.refilled_at);
  EXPECT_GT(s.now, 1'600'000'000'000);
}

TEST_F(PgAccountLimitsTest, DrawsTakeAtMostWhatTheBucketHolds) {
  EXPECT_EQ(publish(*a_, minting(12, 20, 140)), 0);
  EXPECT_EQ(draw(*a_, wanting(5)).granted, 5);  // of 12
  EXPECT_EQ(draw(*b_, wanting(5)).granted, 4);  // at most half of the 7 left
  EXPECT_EQ(draw(*b_, wanting(5)).granted, 2);  // of 3
  AccountState s = draw(*b_, wanting(5));
  EXPECT_EQ(s.granted, 1);  // the last one
  EXPECT_EQ(s.tokens, 0);
  EXPECT_EQ(draw(*b_, wanting(5)).granted, 0);
  EXPECT_EQ(s.minted, 12);
  EXPECT_EQ(s.drawn, 12);
  EXPECT_EQ(s.rate, 140);
  EXPECT_EQ(s.leader, "a");
  // The bucket caps the mint.
  publish(*a_, minting(50, 10, 140));
  s = draw(*a_, wanting(0));
  EXPECT_EQ(s.tokens, 10);
  EXPECT_EQ(s.minted, 22);
  ASSERT_TRUE(s.refilled_at);
  // The leader's own draw comes after its mint, at most half of the bucket.
  LeaderPublication own = minting(0, 10, 140);
  own.want = 8;
  Result<LeaderPublished> published = PgAccountLimits(*a_, kAccount).publish(own);
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->granted, 5);
  s = draw(*a_, wanting(0));
  EXPECT_EQ(s.tokens, 5);
  EXPECT_EQ(s.drawn, 17);
  EXPECT_EQ(s.minted - s.drawn, s.tokens);
}

TEST_F(PgAccountLimitsTest, ThrottlesSentBeforeTheLastDecreaseAreNotCounted) {
  const std::int64_t now = draw(*a_, wanting(0)).now;
  LeaderPublication decreased = minting(0, 10, 50);
  decreased.last_limit = 55;
  decreased.last_decrease_at = now;
  publish(*a_, decreased);
  AccountDraw report;
  report.admitted = 3;
  report.throttled_sent_at = {now - 10, now, now + 5};
  AccountState s = draw(*b_, report);
  EXPECT_EQ(s.admitted, 3);
  EXPECT_EQ(s.throttled, 2);
  EXPECT_EQ(s.last_decrease_at, now);
  EXPECT_EQ(s.last_limit, 55);
  // The publication returns the counter as it leaves it.
  EXPECT_EQ(publish(*a_, minting(0, 10, 50)), 2);
  EXPECT_EQ(draw(*b_, wanting(0)).last_decrease_at, now);  // nothing: unchanged
}

TEST_F(PgAccountLimitsTest, TheLeadersLockHasOneHolderUntilReleased) {
  PgAccountLimits a(*a_, kAccount), b(*b_, kAccount);
  EXPECT_TRUE(*a.try_lead());
  EXPECT_TRUE(*a.try_lead());  // held already
  EXPECT_FALSE(*b.try_lead());
  EXPECT_TRUE(*PgAccountLimits(*b_, "another account").try_lead());  // a lock per account
  ASSERT_TRUE(a.release_lead());
  ASSERT_TRUE(a.release_lead());  // counted: taken twice
  EXPECT_TRUE(*b.try_lead());
}

TEST_F(PgAccountLimitsTest, RetryAfterAndTheQuotaFlagAreSharedUntilAnAnswerClearsIt) {
  const std::int64_t now = draw(*a_, wanting(0)).now;
  AccountDraw told = wanting(0);
  told.pause_until = now + 2000;
  told.out_of_quota_at = now;
  told.out_of_quota_until = now + 900'000;
  AccountState s = draw(*a_, told);
  EXPECT_EQ(s.paused_until, now + 2000);
  AccountDraw shorter = wanting(0);
  shorter.pause_until = now + 1000;
  s = draw(*b_, shorter);  // an earlier end does not shorten it
  EXPECT_EQ(s.paused_until, now + 2000);
  EXPECT_EQ(s.out_of_quota_at, now);
  EXPECT_EQ(s.out_of_quota_until, now + 900'000);
  AccountDraw before = wanting(0);
  before.quota_seen_at = now - 1;
  s = draw(*b_, before);  // sent before the flag: proves nothing
  EXPECT_EQ(s.out_of_quota_at, now);
  AccountDraw after = wanting(0);
  after.quota_seen_at = now + 1;
  s = draw(*b_, after);
  EXPECT_FALSE(s.out_of_quota_at);
  EXPECT_FALSE(s.out_of_quota_until);
}

}  // namespace
}  // namespace lf
