// The job queue in SQLite (the embedded default): JobQueue over the jobs,
// attempts and job_counts tables of schema/NNN_*.sql.
//
// Leasing is one IMMEDIATE transaction, so a job is leased by one owner at
// a time across every connection to the file. Enqueue inserts with this
// connection's triggers off and counts its new jobs in job_counts itself
// (the insert trigger would add ~0.6 us a row, a fifth more CPU).
#pragma once

#include <memory>

#include "store/database.h"
#include "store/job_queue.h"

namespace lf {

class SqliteJobQueue final : public JobQueue {
 public:
  // `db` must outlive the queue.
  explicit SqliteJobQueue(Database& db);
  ~SqliteJobQueue() override;

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
  struct Statements;
  // Enqueues `run`, jobs sharing kind, auto_rotate and tag, adding to `counts`.
  // REQUIRES: inside a write transaction.
  Status enqueue_run(std::span<const NewJob> run, bool again, UnixMillis now,
                     EnqueueCounts& counts);

  Database& db_;
  std::unique_ptr<Statements> statements_;
};

}  // namespace lf
