// The account's shared rate in PostgreSQL: the statements on the row of
// account_limits (schema/postgresql/001_init.sql) that the runners of one
// account share it through. Every runner draws and reports with one UPDATE
// per tick (draw); the leader, who holds the account's advisory lock on its
// session (try_lead), also publishes its controller and mints (publish).
// Times are the database server's clock in ms since the Unix epoch.
//
// Not thread-safe: one PgAccountLimits per session, on the session's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/sql_session.h"

namespace lf {

// What one runner sends every tick.
struct AccountDraw {
  std::int64_t want = 0;      // tokens it would take (it gets at most what the bucket holds)
  std::int64_t admitted = 0;  // answers not throttled since its last report
  // When its throttled requests since the last report were sent; only those
  // sent at or after the row's last_decrease_at are counted.
  std::vector<std::int64_t> throttled_sent_at;
  std::optional<std::int64_t> pause_until;         // a Retry-After it was given
  std::optional<std::int64_t> out_of_quota_at;     // it was told OUT_OF_QUOTA then
  std::optional<std::int64_t> out_of_quota_until;  // ... and to try again then
  // An answer (not OUT_OF_QUOTA) to a request sent then: a quota flag set
  // before it is cleared.
  std::optional<std::int64_t> quota_seen_at;
};

// The row as a draw leaves it.
struct AccountState {
  std::int64_t granted = 0;  // tokens this draw took
  double rate = 0;
  double last_limit = 0;
  std::int64_t tokens = 0;
  std::int64_t bucket = 0;
  std::int64_t minted = 0;
  std::int64_t drawn = 0;
  std::int64_t admitted = 0;
  std::int64_t throttled = 0;
  std::optional<std::int64_t> last_decrease_at;
  std::optional<std::int64_t> paused_until;
  std::optional<std::int64_t> out_of_quota_at;
  std::optional<std::int64_t> out_of_quota_until;
  std::optional<std::int64_t> refilled_at;
  std::string leader;
  std::int64_t now = 0;  // the server's clock at the statement
};

// What the leader publishes every tick.
struct LeaderPublication {
  std::string leader;   // its name, for logs
  std::int64_t mint = 0;
  std::int64_t bucket = 0;  // tokens never exceed it
  double rate = 0;
  double last_limit = 0;
  std::optional<std::int64_t> last_decrease_at;  // nothing: unchanged
  // The leader's own draw, taken after the mint (as AccountDraw::want): a
  // leader drawing before it would find the bucket emptied by the others.
  std::int64_t want = 0;
};

// What a publication leaves.
struct LeaderPublished {
  std::int64_t throttled = 0;  // the counter (SharedRateLeader::on_published)
  std::int64_t granted = 0;    // tokens the leader took
};

class PgAccountLimits {
 public:
  // The leader's lock: the key of pg_try_advisory_lock(bigint), as SQL with
  // the account as ?1. The schema is part of it: two queues in two schemas
  // of one database have two rows, so two leaders.
  static constexpr std::string_view kLeaderLockKey =
      "hashtext('lfbatch.account_limits ' || current_schema() || ' ' || ?1)";

  // REQUIRES: `session` outlives this; its dialect is PostgreSQL.
  PgAccountLimits(SqlSession& session, std::string account);

  // Makes the account's row if there is none (an empty bucket, no rate).
  Status ensure_row();

  // Takes up to draw.want tokens and adds the report, in one statement.
  Result<AccountState> draw(const AccountDraw& draw);

  // Tries to become the account's leader: true when this session holds the
  // lock (also when it held it already). The lock lasts until the session
  // ends or release_lead().
  Result<bool> try_lead();
  Status release_lead();
  // Ends the session that holds the lead (pg_terminate_backend), for a
  // leader that holds the lock but no longer ticks (a stopped process, a
  // host cut off from the server before the server noticed): the server
  // then drops its lock. Returns how many sessions it ended (0 or 1).
  // Needs the role of the leader's session or pg_signal_backend: runners
  // normally connect as the same role.
  Result<std::int64_t> depose_leader();

  // The leader's tick: mints, publishes, and takes its own draw.
  // REQUIRES: try_lead() returned true on this session.
  Result<LeaderPublished> publish(const LeaderPublication& publication);

  // The row as it is, without changing it (granted = 0).
  Result<AccountState> read();

  const std::string& account() const { return account_; }

 private:
  SqlSession& session_;
  std::string account_;
};

}  // namespace lf
