// The job queue over the jobs and attempts tables.
#include "store/job_queue.h"

#include <sqlite3.h>

#include <algorithm>
#include <optional>

#include "store/job_queue_sql.h"
#include "store/statement.h"

namespace lf {
namespace {

using namespace job_queue_sql;

// Rows per enqueue transaction: large enough that commits cost nothing next
// to the inserts, small enough that the WAL stays modest and readers are
// not starved.
constexpr std::size_t kEnqueueBatchRows = 50'000;

// The job-row fields an outcome sets.
struct OutcomeFields {
  std::optional<std::int64_t> http_status;
  std::string api_status;
  std::string reason;
  std::string request_id;
  std::optional<double> verify_score;
  std::string image_id;
};

OutcomeFields fields_of(const Outcome& outcome) {
  OutcomeFields fields;
  fields.api_status = std::string(outcome.code());
  if (outcome.answer) {
    const ApiAnswer& answer = *outcome.answer;
    if (answer.http_status != 0) fields.http_status = answer.http_status;
    fields.reason = answer.reason;
    fields.request_id = answer.request_id;
    fields.verify_score = answer.verify_score;
    fields.image_id = answer.image_id;
  } else {
    fields.reason = outcome.failure_detail;
  }
  return fields;
}

}  // namespace

// Prepared once per queue, on first use.
struct JobQueue::Statements {
  std::optional<Statement> find_source, insert_job, lease, renew, settle_final, settle_retry,
      settle_throttled, settle_release, insert_attempt, recover, release_all, count_by_state,
      count_by_status, count_due;
};

namespace {

Result<Statement*> prepared(sqlite3* db, std::optional<Statement>& slot, const char* sql) {
  if (!slot) {
    Result<Statement> statement = Statement::prepare(db, sql);
    if (!statement) return statement.error();
    slot.emplace(std::move(statement).value());
  }
  slot->reset();
  return &*slot;
}

}  // namespace

JobQueue::JobQueue(Database& db) : db_(db), statements_(std::make_unique<Statements>()) {}

JobQueue::~JobQueue() = default;

Result<EnqueueCounts> JobQueue::enqueue(std::span<const NewJob> jobs, bool again, UnixMillis now) {
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].source.empty()) {
      return Error{"enqueue: source number " + std::to_string(i + 1) + " is empty"};
    }
  }
  sqlite3* db = db_.handle();
  Result<Statement*> find = prepared(db, statements_->find_source, kFindSourceSql);
  if (!find) return find.error();
  Result<Statement*> insert = prepared(db, statements_->insert_job, kInsertJobSql);
  if (!insert) return insert.error();
  Statement& find_source = **find;
  Statement& insert_job = **insert;

  EnqueueCounts counts;
  for (std::size_t begin = 0; begin < jobs.size(); begin += kEnqueueBatchRows) {
    const std::size_t end = std::min(jobs.size(), begin + kEnqueueBatchRows);
    Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
    if (!tx) return tx.error();
    EnqueueCounts batch;
    for (std::size_t i = begin; i < end; ++i) {
      const NewJob& job = jobs[i];
      const std::string_view kind = to_string(job.kind);
      if (!again) {
        StatementReset reset(find_source);
        find_source.bind_text(1, job.source).bind_text(2, kind);
        Result<bool> row = find_source.step();
        if (!row) return row.error();
        if (*row) {
          const std::string state = find_source.column_text(0);
          if (state == "done") {
            ++batch.already_done;
          } else if (state == "failed") {
            ++batch.already_failed;
          } else {
            ++batch.already_queued;
          }
          continue;
        }
      }
      StatementReset reset(insert_job);
      insert_job.bind_text(1, kind)
          .bind_text(2, job.source)
          .bind_int64(3, job.auto_rotate ? 1 : 0)
          .bind_text_or_null(4, job.tag)
          .bind_int64(5, now);
      if (Status status = insert_job.run(); !status) return status.error();
      ++batch.added;
    }
    if (Status status = tx->commit(); !status) return status.error();
    counts.added += batch.added;
    counts.already_queued += batch.already_queued;
    counts.already_done += batch.already_done;
    counts.already_failed += batch.already_failed;
  }
  return counts;
}

Result<std::vector<Job>> JobQueue::lease(int max_jobs, const std::string& owner, UnixMillis now,
                                         std::int64_t lease_millis) {
  std::vector<Job> jobs;
  if (max_jobs <= 0) return jobs;
  if (owner.empty()) return Error{"lease: the lease owner is empty"};
  sqlite3* db = db_.handle();
  Result<Statement*> prepared_lease = prepared(db, statements_->lease, kLeaseSql);
  if (!prepared_lease) return prepared_lease.error();
  Statement& lease = **prepared_lease;

  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
  if (!tx) return tx.error();
  std::vector<UnixMillis> due_at;
  {
    StatementReset reset(lease);
    lease.bind_text(1, owner).bind_int64(2, now + lease_millis).bind_int64(3, now).bind_int64(
        4, max_jobs);
    for (;;) {
      Result<bool> row = lease.step();
      if (!row) return row.error();
      if (!*row) break;
      Job job;
      job.id = lease.column_int64(0);
      job.kind = parse_source_kind(lease.column_text(1)).value_or(SourceKind::kPath);
      job.source = lease.column_text(2);
      job.auto_rotate = lease.column_int64(3) != 0;
      job.attempts = static_cast<int>(lease.column_int64(4));
      jobs.push_back(std::move(job));
      due_at.push_back(lease.column_int64(5));
    }
  }
  if (Status status = tx->commit(); !status) return status.error();

  // RETURNING gives no order; hand the jobs out oldest due first.
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(due_at[a], jobs[a].id) < std::pair(due_at[b], jobs[b].id);
  });
  std::vector<Job> sorted;
  sorted.reserve(jobs.size());
  for (std::size_t i : order) sorted.push_back(std::move(jobs[i]));
  return sorted;
}

Status JobQueue::renew_leases(const std::string& owner, UnixMillis until) {
  Result<Statement*> renew = prepared(db_.handle(), statements_->renew, kRenewSql);
  if (!renew) return renew.error();
  StatementReset reset(**renew);
  (*renew)->bind_text(1, owner).bind_int64(2, until);
  return (*renew)->run();
}

Result<std::int64_t> JobQueue::settle(std::span<const Settlement> settlements,
                                      const std::string& owner, RunId run_id, UnixMillis now) {
  if (settlements.empty()) return std::int64_t{0};
  sqlite3* db = db_.handle();
  Result<Statement*> final_stmt = prepared(db, statements_->settle_final, kSettleFinalSql);
  if (!final_stmt) return final_stmt.error();
  Result<Statement*> retry_stmt = prepared(db, statements_->settle_retry, kSettleRetrySql);
  if (!retry_stmt) return retry_stmt.error();
  Result<Statement*> throttled_stmt =
      prepared(db, statements_->settle_throttled, kSettleThrottledSql);
  if (!throttled_stmt) return throttled_stmt.error();
  Result<Statement*> release_stmt = prepared(db, statements_->settle_release, kSettleReleaseSql);
  if (!release_stmt) return release_stmt.error();
  Result<Statement*> attempt_stmt = prepared(db, statements_->insert_attempt, kInsertAttemptSql);
  if (!attempt_stmt) return attempt_stmt.error();

  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
  if (!tx) return tx.error();
  std::int64_t ignored = 0;
  for (const Settlement& settlement : settlements) {
    std::optional<OutcomeFields> fields;
    if (settlement.outcome) fields = fields_of(*settlement.outcome);

    if (settlement.outcome) {
      const Outcome& outcome = *settlement.outcome;
      Statement& attempt = **attempt_stmt;
      StatementReset reset(attempt);
      attempt.bind_int64(1, settlement.job_id);
      if (run_id > 0) attempt.bind_int64(2, run_id); else attempt.bind_null(2);
      attempt.bind_int64(3, outcome.started_at)
          .bind_int64(4, outcome.finished_at)
          .bind_optional(5, fields->http_status)
          .bind_text(6, fields->api_status)
          .bind_text_or_null(7, fields->reason)
          .bind_text_or_null(8, fields->request_id)
          .bind_optional(9, fields->verify_score)
          .bind_text_or_null(10, fields->image_id)
          .bind_double(11, static_cast<double>(outcome.finished_at - outcome.started_at))
          .bind_text(12, to_string(outcome.disposition()));
      if (Status status = attempt.run(); !status) return status.error();
    }

    Statement* update = nullptr;
    switch (settlement.kind) {
      case SettleKind::kDone:
      case SettleKind::kFailed: {
        update = *final_stmt;
        update->bind_text(3, settlement.kind == SettleKind::kDone ? "done" : "failed")
            .bind_int64(4, settlement.outcome ? 1 : 0)
            .bind_int64(11, now);
        if (fields) {
          update->bind_optional(5, fields->verify_score)
              .bind_text_or_null(6, fields->image_id)
              .bind_text_or_null(7, fields->request_id)
              .bind_text(8, fields->api_status)
              .bind_text_or_null(9, fields->reason)
              .bind_optional(10, fields->http_status);
        }
        break;
      }
      case SettleKind::kRetryLater:
        update = *retry_stmt;
        update->bind_int64(3, settlement.next_attempt_at).bind_int64(7, now);
        if (fields) {
          update->bind_text(4, fields->api_status)
              .bind_text_or_null(5, fields->reason)
              .bind_optional(6, fields->http_status);
        }
        break;
      case SettleKind::kThrottled:
        update = *throttled_stmt;
        update->bind_int64(3, settlement.next_attempt_at).bind_int64(4, now);
        break;
      case SettleKind::kRelease:
        update = *release_stmt;
        update->bind_int64(3, now);
        break;
    }
    StatementReset reset(*update);
    update->bind_int64(1, settlement.job_id).bind_text(2, owner);
    if (Status status = update->run(); !status) return status.error();
    if (sqlite3_changes(db) == 0) ++ignored;
  }
  if (Status status = tx->commit(); !status) return status.error();
  return ignored;
}

Result<std::int64_t> JobQueue::recover_expired_leases(UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> recover = prepared(db, statements_->recover, kRecoverSql);
  if (!recover) return recover.error();
  StatementReset reset(**recover);
  (*recover)->bind_int64(1, now);
  if (Status status = (*recover)->run(); !status) return status.error();
  return std::int64_t{sqlite3_changes64(db)};
}

Result<std::int64_t> JobQueue::release_all(const std::string& owner, UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> release = prepared(db, statements_->release_all, kReleaseAllSql);
  if (!release) return release.error();
  StatementReset reset(**release);
  (*release)->bind_text(1, owner).bind_int64(2, now);
  if (Status status = (*release)->run(); !status) return status.error();
  return std::int64_t{sqlite3_changes64(db)};
}

Result<QueueCounts> JobQueue::counts(UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> by_state = prepared(db, statements_->count_by_state, kCountByStateSql);
  if (!by_state) return by_state.error();
  Result<Statement*> by_status = prepared(db, statements_->count_by_status, kCountByStatusSql);
  if (!by_status) return by_status.error();
  Result<Statement*> due = prepared(db, statements_->count_due, kCountDueSql);
  if (!due) return due.error();

  // One snapshot, so the numbers add up even while a runner writes.
  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kRead);
  if (!tx) return tx.error();
  QueueCounts counts;
  for (JobState state : {JobState::kPending, JobState::kLeased, JobState::kDone, JobState::kFailed}) {
    counts.by_state[std::string(to_string(state))] = 0;
  }
  for (auto [statement, map] : {std::pair{*by_state, &counts.by_state},
                                std::pair{*by_status, &counts.by_status}}) {
    StatementReset reset(*statement);
    for (;;) {
      Result<bool> row = statement->step();
      if (!row) return row.error();
      if (!*row) break;
      (*map)[statement->column_text(0)] = statement->column_int64(1);
    }
  }
  for (const auto& [state, n] : counts.by_state) counts.total += n;
  {
    StatementReset reset(**due);
    (*due)->bind_int64(1, now);
    Result<bool> row = (*due)->step();
    if (!row) return row.error();
    counts.due_now = (*due)->column_int64(0);
  }
  if (Status status = tx->commit(); !status) return status.error();
  return counts;
}

}  // namespace lf
