// The job queue in PostgreSQL (schema/postgresql/NNN_*.sql), for many
// runners on many hosts sharing one queue.
//
// Invariants, beside JobQueue's:
//  - leasing takes due rows with FOR UPDATE SKIP LOCKED: two runners leasing
//    at once get disjoint jobs without waiting on each other;
//  - lease_expires_at and runs.alive_at are the server's clock
//    (lfbatch_now_ms()), so the hosts' clocks need not agree; next_attempt_at
//    and the other timestamps are the runner's, as in SQLite;
//  - every settlement's UPDATE re-checks state = 'leased' AND lease_owner
//    after taking the row's lock (READ COMMITTED re-evaluates the WHERE on
//    the newest row version), so a result is never stored by a runner whose
//    lease was recovered meanwhile;
//  - job counts are appended, never updated in place (001_init.sql), so
//    runners settling at once do not queue on one row.
//
// Not thread-safe: one queue per connection.
#pragma once

#include "store/job_queue.h"
#include "store/sql_session.h"

namespace lf {

class PgJobQueue final : public JobQueue {
 public:
  // `session` (a PostgreSQL one) must outlive the queue.
  explicit PgJobQueue(SqlSession& session) : session_(session) {}

  Result<EnqueueCounts> enqueue(std::span<const NewJob> jobs, bool again, UnixMillis now) override;
  Result<std::vector<Job>> lease(int max_jobs, const std::string& owner, UnixMillis now,
                                 std::int64_t lease_millis) override;
  Status renew_leases(const std::string& owner, UnixMillis now,
                      std::int64_t lease_millis) override;
  Result<std::vector<AttemptId>> record_sent(std::span<const SentAttempt> sent,
                                             RunId run_id) override;
  Result<std::int64_t> settle(std::span<const Settlement> settlements, const std::string& owner,
                              RunId run_id, UnixMillis now) override;
  Result<ContentLookup> find_content(const std::string& content_hash, bool auto_rotate,
                                     bool want_answer, UnixMillis image_id_not_before) override;
  Result<std::int64_t> count_requests_since(UnixMillis since) override;
  Result<std::int64_t> mark_in_doubt(RunId run_id) override;
  Result<std::int64_t> recover_expired_leases(UnixMillis now) override;
  Result<std::int64_t> release_all(const std::string& owner, UnixMillis now) override;
  Result<QueueCounts> counts(UnixMillis now) override;
  Result<WorkLeft> work_left(UnixMillis now) override;

 private:
  // Enqueues `run`, jobs sharing kind, auto_rotate and tag, adding to `counts`.
  // REQUIRES: inside a write transaction.
  Status enqueue_run(std::span<const NewJob> run, bool again, UnixMillis now,
                     EnqueueCounts& counts);
  // mark_in_doubt's work. REQUIRES: inside a write transaction.
  Result<std::int64_t> mark_in_doubt_in_transaction(RunId run_id);

  SqlSession& session_;
};

// A PostgreSQL text[] literal of `values` ({"a","b"}), each escaped for the
// array syntax; for binding a whole batch as one parameter. Pure.
std::string pg_text_array(std::span<const std::string> values);

}  // namespace lf
