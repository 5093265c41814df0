// The statements on account_limits (see pg_account_limits.h).
#include "store/pg_account_limits.h"

#include <utility>

namespace lf {

namespace {

// The server's clock in ms (schema/postgresql/001).
const std::string kNowMs = "lfbatch_now_ms()";

// The columns every statement returns, in the order read_state reads them.
const std::string kStateColumns =
    " last_drawn, rate, last_limit, tokens, bucket, minted, drawn, admitted, throttled,"
    " last_decrease_at, paused_until, out_of_quota_at, out_of_quota_until, refilled_at,"
    " coalesce(leader, ''), " + kNowMs;

AccountState read_state(const SqlRow& row) {
  AccountState s;
  s.granted = row.integer(0);
  s.rate = row.real(1);
  s.last_limit = row.real(2);
  s.tokens = row.integer(3);
  s.bucket = row.integer(4);
  s.minted = row.integer(5);
  s.drawn = row.integer(6);
  s.admitted = row.integer(7);
  s.throttled = row.integer(8);
  s.last_decrease_at = row.optional_integer(9);
  s.paused_until = row.optional_integer(10);
  s.out_of_quota_at = row.optional_integer(11);
  s.out_of_quota_until = row.optional_integer(12);
  s.refilled_at = row.optional_integer(13);
  s.leader = row.string(14);
  s.now = row.integer(15);
  return s;
}

SqlParam optional_param(const std::optional<std::int64_t>& value) {
  if (!value) return std::monostate{};
  return *value;
}

// A PostgreSQL array literal of integers: {1,2,3}.
std::string array_literal(const std::vector<std::int64_t>& values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(values[i]);
  }
  text += '}';
  return text;
}


}  // namespace

PgAccountLimits::PgAccountLimits(SqlSession& session, std::string account)
    : session_(session), account_(std::move(account)) {}

Status PgAccountLimits::ensure_row() {
  Result<std::int64_t> done = session_.run(
      "INSERT INTO account_limits (account, updated_at) VALUES (?1, " + kNowMs + ")"
      " ON CONFLICT (account) DO NOTHING",
      {account_});
  if (!done) return done.error();
  return Status::Ok();
}

Result<AccountState> PgAccountLimits::draw(const AccountDraw& draw) {
  // A draw takes what it wants, but at most half of what the bucket holds
  // (at least one): runners drawing one after the other in a tick all get
  // some, whatever their phase; the leader's bucket (three ticks' worth)
  // leaves room for it. Every SET expression reads the row as it was before
  // the statement, so the take is the same number in all three places and
  // last_drawn tells this draw what it took; the row lock serialises the
  // runners.
  static const std::string take = "LEAST(tokens, ?2, GREATEST(1, (tokens + 1) / 2))";
  static const std::string sql =
      "UPDATE account_limits SET"
      " tokens = tokens - " + take + ","
      " last_drawn = " + take + ","
      " drawn = drawn + " + take + ","
      " admitted = admitted + ?3,"
      " throttled = throttled + (SELECT count(*) FROM unnest(?4::bigint[]) AS t(sent_at)"
      "                          WHERE t.sent_at >= coalesce(last_decrease_at, 0)),"
      " throttled_at = CASE WHEN cardinality(?4::bigint[]) > 0 THEN " + kNowMs +
      "                ELSE throttled_at END,"
      " paused_until = GREATEST(paused_until, ?5::bigint),"
      " out_of_quota_at = CASE WHEN ?6::bigint IS NOT NULL THEN GREATEST(out_of_quota_at, ?6::bigint)"
      "                   WHEN out_of_quota_at <= ?8::bigint THEN NULL ELSE out_of_quota_at END,"
      " out_of_quota_until = CASE WHEN ?6::bigint IS NOT NULL THEN ?7::bigint"
      "                      WHEN out_of_quota_at <= ?8::bigint THEN NULL"
      "                      ELSE out_of_quota_until END,"
      " updated_at = " + kNowMs +
      " WHERE account = ?1 RETURNING" +
      kStateColumns;
  std::optional<AccountState> state;
  Result<std::int64_t> rows = session_.query(
      sql,
      {account_, draw.want, draw.admitted, array_literal(draw.throttled_sent_at),
       optional_param(draw.pause_until), optional_param(draw.out_of_quota_at),
       optional_param(draw.out_of_quota_until), optional_param(draw.quota_seen_at)},
      [&](const SqlRow& row) {
        state = read_state(row);
        return Status::Ok();
      });
  if (!rows) return rows.error();
  if (!state) {
    return Error{"the account's row in account_limits on " + session_.name() +
                 " is gone (deleted while runners share it?)"};
  }
  return *state;
}

Result<bool> PgAccountLimits::try_lead() {
  bool held = false;
  Result<std::int64_t> rows = session_.query(
      "SELECT pg_try_advisory_lock(" + std::string(kLeaderLockKey) + ")", {account_},
      [&](const SqlRow& row) {
        held = row.integer(0) != 0;
        return Status::Ok();
      });
  if (!rows) return rows.error();
  return held;
}

Status PgAccountLimits::release_lead() {
  Result<std::int64_t> rows =
      session_.run("SELECT pg_advisory_unlock(" + std::string(kLeaderLockKey) + ")", {account_});
  if (!rows) return rows.error();
  return Status::Ok();
}

Result<std::int64_t> PgAccountLimits::depose_leader() {
  // pg_locks shows a bigint advisory key as its high half (classid) and low
  // half (objid), objsubid 1.
  static const std::string sql =
      "WITH k AS (SELECT (" + std::string(kLeaderLockKey) + ")::bigint AS key)"
      " SELECT count(*) FILTER (WHERE pg_terminate_backend(l.pid)) FROM pg_locks l, k"
      " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
      " AND l.pid <> pg_backend_pid()"
      " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      " AND l.classid::bigint = ((k.key >> 32) & 4294967295)"
      " AND l.objid::bigint = (k.key & 4294967295)";
  std::int64_t ended = 0;
  Result<std::int64_t> rows = session_.query(sql, {account_}, [&](const SqlRow& row) {
    ended = row.integer(0);
    return Status::Ok();
  });
  if (!rows) return rows.error();
  return ended;
}

Result<LeaderPublished> PgAccountLimits::publish(const LeaderPublication& p) {
  // tokens only shrink between the leader's draw and this statement (only
  // the leader adds), so the mint fits; LEAST keeps the bucket's bound also
  // when it shrank. The leader's own take is drawn as any draw, from the
  // bucket after the mint.
  static const std::string after_mint = "GREATEST(0, LEAST(tokens + ?2, ?3))";
  static const std::string take =
      "LEAST(" + after_mint + ", ?8, GREATEST(1, (" + after_mint + " + 1) / 2))";
  static const std::string sql =
      "UPDATE account_limits SET"
      " tokens = " + after_mint + " - " + take + ","
      " minted = minted + (" + after_mint + " - tokens),"
      " drawn = drawn + " + take + ","
      " last_drawn = " + take + ","
      " bucket = ?3, rate = ?4, last_limit = ?5,"
      " last_decrease_at = coalesce(?6::bigint, last_decrease_at),"
      " leader_since = CASE WHEN leader IS DISTINCT FROM ?7 THEN " + kNowMs +
      "                ELSE leader_since END,"
      " leader = ?7, refilled_at = " + kNowMs + ", updated_at = " + kNowMs +
      " WHERE account = ?1 RETURNING throttled, last_drawn";
  std::optional<LeaderPublished> published;
  Result<std::int64_t> rows = session_.query(
      sql,
      {account_, p.mint, p.bucket, p.rate, p.last_limit, optional_param(p.last_decrease_at),
       p.leader, p.want},
      [&](const SqlRow& row) {
        published = LeaderPublished{row.integer(0), row.integer(1)};
        return Status::Ok();
      });
  if (!rows) return rows.error();
  if (!published) {
    return Error{"the account's row in account_limits on " + session_.name() + " is gone"};
  }
  return *published;
}

Result<AccountState> PgAccountLimits::read() {
  static const std::string sql =
      "SELECT 0 AS last_drawn," + kStateColumns.substr(12) +
      " FROM account_limits WHERE account = ?1";
  std::optional<AccountState> state;
  Result<std::int64_t> rows = session_.query(sql, {account_}, [&](const SqlRow& row) {
    state = read_state(row);
    return Status::Ok();
  });
  if (!rows) return rows.error();
  if (!state) return Error{"no row for the account in account_limits on " + session_.name()};
  return *state;
}

}  // namespace lf
