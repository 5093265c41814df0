// The job queue over SQLite's jobs and attempts tables.
#include "store/sqlite_job_queue.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include "store/enqueue_runs.h"
#include "store/job_queue_sql.h"
#include "store/outcome_fields.h"
#include "store/statement.h"

namespace lf {
namespace {

using namespace job_queue_sql;

// Rows per enqueue transaction: large enough that commits cost nothing next
// to the inserts, small enough that the WAL stays modest and readers are
// not starved.
constexpr std::size_t kEnqueueBatchRows = 50'000;
constexpr std::chrono::milliseconds kPauseBetweenBatches{3};

// `sources` as a JSON array of strings, for json_each.
std::string json_array_of(std::span<const std::string_view> sources) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t size = 2;
  for (std::string_view source : sources) size += source.size() + 3;
  std::string json;
  json.reserve(size);
  json += '[';
  for (std::string_view source : sources) {
    if (json.size() > 1) json += ',';
    json += '"';
    for (char c : source) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        json += '\\';
        json += c;
      } else if (byte < 0x20) {
        json += "\\u00";
        json += kHex[byte >> 4];
        json += kHex[byte & 0xf];
      } else {
        json += c;  // other bytes, UTF-8 or not, pass through json_each unchanged
      }
    }
    json += '"';
  }
  json += ']';
  return json;
}

// Binds ?4..?12 of kInsertAttemptSql and kCompleteAttemptSql: what came
// back for an attempt.
void bind_answer(Statement& statement, const Outcome& outcome, const OutcomeFields& fields,
                 std::string_view disposition_override = {}) {
  statement.bind_int64(4, outcome.finished_at)
      .bind_optional(5, fields.http_status)
      .bind_text(6, fields.api_status)
      .bind_text_or_null(7, fields.reason)
      .bind_text_or_null(8, fields.request_id)
      .bind_optional(9, fields.verify_score)
      .bind_text_or_null(10, fields.image_id)
      .bind_double(11, static_cast<double>(outcome.finished_at - outcome.started_at))
      .bind_text(12, disposition_override.empty() ? to_string(outcome.disposition())
                                                  : disposition_override);
}

}  // namespace

// Prepared once per queue, on first use.
struct SqliteJobQueue::Statements {
  std::optional<Statement> insert_sources, insert_rejected, find_answer, find_upload,
      count_requests_since, prior_states, lease, renew, settle_final, settle_retry,
      settle_throttled, settle_release, insert_attempt, insert_sent, complete_attempt,
      count_in_doubt_on_jobs, mark_in_doubt, count_in_doubt, recover, release_all, counts,
      count_enqueued, count_not_due, work_left;
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

// Turns this connection's triggers off until destroyed (sqlite3_db_config
// expires the prepared statements, which re-prepare on their next step).
class TriggersOff {
 public:
  explicit TriggersOff(sqlite3* db) : db_(db) {
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  }
  ~TriggersOff() { sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, nullptr); }
  TriggersOff(const TriggersOff&) = delete;
  TriggersOff& operator=(const TriggersOff&) = delete;

 private:
  sqlite3* db_;
};

}  // namespace

SqliteJobQueue::SqliteJobQueue(Database& db) : db_(db), statements_(std::make_unique<Statements>()) {}

SqliteJobQueue::~SqliteJobQueue() = default;

Result<EnqueueCounts> SqliteJobQueue::enqueue(std::span<const NewJob> jobs, bool again,
                                              UnixMillis now) {
  if (Status status = check_sources(jobs); !status) return status.error();
  EnqueueCounts counts;
  for (std::size_t begin = 0; begin < jobs.size(); begin += kEnqueueBatchRows) {
    const std::size_t end = std::min(jobs.size(), begin + kEnqueueBatchRows);
    Result<Transaction> tx = Transaction::begin(db_.handle(), Transaction::Mode::kWrite);
    if (!tx) return tx.error();
    EnqueueCounts batch;
    Status status = for_each_run_of_one_kind(
        jobs.subspan(begin, end - begin),
        [&](std::span<const NewJob> run) { return enqueue_run(run, again, now, batch); });
    if (!status) return status.error();
    if (Status committed = tx->commit(); !committed) return committed.error();
    // Leave the lock free for a moment, so a runner waiting to lease or
    // settle (it polls every millisecond) gets in between batches.
    if (end < jobs.size()) std::this_thread::sleep_for(kPauseBetweenBatches);
    add(counts, batch);
  }
  return counts;
}

Status SqliteJobQueue::enqueue_run(std::span<const NewJob> run, bool again, UnixMillis now,
                             EnqueueCounts& counts) {
  sqlite3* db = db_.handle();
  // A source listed twice is enqueued once (enqueue_runs.h).
  const DistinctSources distinct = distinct_sources(run);
  const std::vector<const NewJob*>& unique_jobs = distinct.jobs;
  const std::vector<std::int64_t>& repeats = distinct.repeats;
  std::vector<std::string_view> unique;
  unique.reserve(unique_jobs.size());
  for (const NewJob* job : unique_jobs) unique.push_back(job->source);
  std::vector<std::string_view> fresh;  // the sources to add
  std::vector<const NewJob*> fresh_jobs;
  const std::string_view kind = to_string(run.front().kind);
  std::string array = json_array_of(unique);

  std::int64_t repeats_of_added = distinct.repeated;
  if (!again) {
    // One index lookup per source: a source with a job already is counted
    // by the state of its newest job and left out of the insert.
    Result<Statement*> prior = prepared(db, statements_->prior_states, kPriorStatesSql);
    if (!prior) return prior.error();
    StatementReset reset(**prior);
    (*prior)->bind_text(1, array).bind_text(2, kind);
    fresh.reserve(unique.size());
    for (;;) {
      Result<bool> row = (*prior)->step();
      if (!row) return row.error();
      if (!*row) break;
      const auto index = static_cast<std::size_t>((*prior)->column_int64(0));
      if (index >= unique.size()) return Error{"enqueue: json_each returned an unknown index"};
      if ((*prior)->column_is_null(1)) {
        fresh.push_back(unique[index]);
        fresh_jobs.push_back(unique_jobs[index]);
        continue;
      }
      const std::int64_t n = 1 + repeats[index];
      repeats_of_added -= repeats[index];
      const std::string state = (*prior)->column_text(1);
      if (state == "done") {
        counts.already_done += n;
      } else if (state == "failed") {
        counts.already_failed += n;
      } else {
        counts.already_queued += n;
      }
    }
    if (fresh.empty()) {
      counts.already_queued += repeats_of_added;
      return Status::Ok();
    }
  } else {
    fresh = unique;
    fresh_jobs = unique_jobs;
  }

  // Jobs pre-flight rejected go in one by one, failed at once; the rest in
  // one set-based statement.
  std::int64_t rejected = 0;
  if (std::any_of(fresh_jobs.begin(), fresh_jobs.end(),
                  [](const NewJob* j) { return j->rejected.has_value(); })) {
    Result<Statement*> insert = prepared(db, statements_->insert_rejected, kInsertRejectedSql);
    if (!insert) return insert.error();
    std::vector<std::string_view> accepted;
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      const NewJob& job = *fresh_jobs[i];
      if (!job.rejected) {
        accepted.push_back(fresh[i]);
        continue;
      }
      StatementReset reset(**insert);
      (*insert)
          ->bind_text(1, kind)
          .bind_text(2, job.source)
          .bind_int64(3, job.auto_rotate ? 1 : 0)
          .bind_text_or_null(4, job.tag)
          .bind_text(5, to_string(job.rejected->status))
          .bind_text_or_null(6, job.rejected->reason)
          .bind_int64(7, now)
          .bind_int64(8, again ? 1 : 0);
      if (Status status = (*insert)->run(); !status) return status;
      ++rejected;
    }
    fresh = std::move(accepted);
  }
  counts.added += rejected;
  counts.rejected_by_preflight += rejected;
  if (fresh.empty()) {
    counts.already_queued += repeats_of_added;
    return Status::Ok();
  }
  if (fresh.size() != unique.size()) array = json_array_of(fresh);

  Result<Statement*> insert = prepared(db, statements_->insert_sources, kInsertSourcesSql);
  if (!insert) return insert.error();
  Result<Statement*> count = prepared(db, statements_->count_enqueued, kCountEnqueuedSql);
  if (!count) return count.error();
  std::int64_t added = 0;
  {
    // The jobs_count_insert trigger would cost ~0.6 us a row; the rows are
    // counted below instead, in the same transaction. (Every trigger is off:
    // another INSERT trigger on jobs would need its work done here too.)
    TriggersOff triggers_off(db);
    StatementReset reset(**insert);
    (*insert)
        ->bind_text(1, array)
        .bind_text(2, kind)
        .bind_int64(3, run.front().auto_rotate ? 1 : 0)
        .bind_text_or_null(4, run.front().tag)
        .bind_int64(5, now)
        .bind_int64(6, again ? 1 : 0);
    if (Status status = (*insert)->run(); !status) return status;
    added = sqlite3_changes64(db);
  }
  {
    StatementReset reset(**count);
    (*count)->bind_int64(1, added);
    if (Status status = (*count)->run(); !status) return status;
  }
  counts.added += added;
  counts.already_queued += repeats_of_added;
  return Status::Ok();
}

Result<std::vector<Job>> SqliteJobQueue::lease(int max_jobs, const std::string& owner, UnixMillis now,
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
      job.no_reuse = lease.column_int64(6) != 0;
      jobs.push_back(std::move(job));
      due_at.push_back(lease.column_int64(5));
    }
  }
  if (Status status = tx->commit(); !status) return status.error();

  return oldest_due_first(std::move(jobs), due_at);
}

Status SqliteJobQueue::renew_leases(const std::string& owner, UnixMillis now,
                                    std::int64_t lease_millis) {
  const UnixMillis until = now + lease_millis;
  Result<Statement*> renew = prepared(db_.handle(), statements_->renew, kRenewSql);
  if (!renew) return renew.error();
  StatementReset reset(**renew);
  (*renew)->bind_text(1, owner).bind_int64(2, until);
  return (*renew)->run();
}

Result<std::vector<AttemptId>> SqliteJobQueue::record_sent(std::span<const SentAttempt> sent,
                                                     RunId run_id) {
  std::vector<AttemptId> ids;
  if (sent.empty()) return ids;
  sqlite3* db = db_.handle();
  Result<Statement*> insert = prepared(db, statements_->insert_sent, kInsertSentAttemptSql);
  if (!insert) return insert.error();
  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
  if (!tx) return tx.error();
  ids.reserve(sent.size());
  for (const SentAttempt& attempt : sent) {
    StatementReset reset(**insert);
    (*insert)->bind_int64(1, attempt.job_id);
    if (run_id > 0) (*insert)->bind_int64(2, run_id); else (*insert)->bind_null(2);
    (*insert)->bind_int64(3, attempt.started_at).bind_text_or_null(4, attempt.sent_image_id);
    if (Status status = (*insert)->run(); !status) return status.error();
    ids.push_back(sqlite3_last_insert_rowid(db));
  }
  if (Status status = tx->commit(); !status) return status.error();
  return ids;
}

Result<std::int64_t> SqliteJobQueue::mark_in_doubt(RunId run_id) {
  sqlite3* db = db_.handle();
  Result<Statement*> on_jobs =
      prepared(db, statements_->count_in_doubt_on_jobs, kCountInDoubtOnJobsSql);
  if (!on_jobs) return on_jobs.error();
  Result<Statement*> mark = prepared(db, statements_->mark_in_doubt, kMarkInDoubtSql);
  if (!mark) return mark.error();
  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
  if (!tx) return tx.error();
  for (Statement* statement : {*on_jobs, *mark}) {
    StatementReset reset(*statement);
    statement->bind_int64(1, run_id);
    if (Status status = statement->run(); !status) return status.error();
  }
  const std::int64_t marked = sqlite3_changes64(db);
  if (Status status = tx->commit(); !status) return status.error();
  return marked;
}

Result<std::int64_t> SqliteJobQueue::settle(std::span<const Settlement> settlements,
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
  Result<Statement*> complete_stmt =
      prepared(db, statements_->complete_attempt, kCompleteAttemptSql);
  if (!complete_stmt) return complete_stmt.error();

  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kWrite);
  if (!tx) return tx.error();
  std::int64_t ignored = 0;
  for (const Settlement& settlement : settlements) {
    std::optional<OutcomeFields> fields;
    if (settlement.outcome) fields = fields_of(*settlement.outcome);
    const bool requested = settlement.decided_by == Decider::kApi;

    if (!requested) {
      // Decided without a request: no attempt to record.
    } else if (settlement.outcome && settlement.attempt_id > 0) {
      Statement& complete = **complete_stmt;
      StatementReset reset(complete);
      complete.bind_int64(1, settlement.attempt_id);
      bind_answer(complete, *settlement.outcome, *fields, settlement.attempt_disposition);
      if (Status status = complete.run(); !status) return status.error();
      if (sqlite3_changes(db) == 0) {  // already completed: a replay
        ++ignored;
        continue;
      }
    } else if (settlement.outcome) {
      Statement& attempt = **attempt_stmt;
      StatementReset reset(attempt);
      attempt.bind_int64(1, settlement.job_id);
      if (run_id > 0) attempt.bind_int64(2, run_id); else attempt.bind_null(2);
      attempt.bind_int64(3, settlement.outcome->started_at);
      bind_answer(attempt, *settlement.outcome, *fields, settlement.attempt_disposition);
      if (Status status = attempt.run(); !status) return status.error();
    }
    if (settlement.kind == SettleKind::kKeep) continue;  // the job stays leased as it is

    Statement* update = nullptr;
    switch (settlement.kind) {
      case SettleKind::kDone:
      case SettleKind::kFailed: {
        update = *final_stmt;
        update->bind_text(3, settlement.kind == SettleKind::kDone ? "done" : "failed")
            .bind_int64(4, settlement.outcome && requested ? 1 : 0)
            .bind_int64(11, now);
        if (requested) {
          update->bind_null(12).bind_null(13);
        } else {
          update->bind_text(12, to_string(settlement.decided_by));
          if (settlement.reused_from > 0) {
            update->bind_int64(13, settlement.reused_from);
          } else {
            update->bind_null(13);
          }
        }
        update->bind_text_or_null(14, settlement.content_hash);
        if (std::optional<std::int64_t> key = content_key_of(settlement.content_hash)) {
          update->bind_int64(15, *key);
        } else {
          update->bind_null(15);
        }
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
      case SettleKind::kKeep:
        break;  // handled above
    }
    StatementReset reset(*update);
    update->bind_int64(1, settlement.job_id).bind_text(2, owner);
    if (Status status = update->run(); !status) return status.error();
    if (sqlite3_changes(db) == 0) ++ignored;
  }
  if (Status status = tx->commit(); !status) return status.error();
  return ignored;
}

Result<ContentLookup> SqliteJobQueue::find_content(const std::string& content_hash, bool auto_rotate,
                                             bool want_answer, UnixMillis image_id_not_before) {
  ContentLookup found;
  const std::optional<std::int64_t> key = content_key_of(content_hash);
  if (!key) return found;
  sqlite3* db = db_.handle();
  if (want_answer) {
    Result<Statement*> find = prepared(db, statements_->find_answer, kFindAnswerSql);
    if (!find) return find.error();
    StatementReset reset(**find);
    Statement& q = **find;
    q.bind_text(1, content_hash).bind_int64(2, auto_rotate ? 1 : 0).bind_int64(3, *key);
    for (;;) {
      Result<bool> row = q.step();
      if (!row) return row.error();
      if (!*row) break;
      std::optional<ApiStatus> status = parse_api_status(q.column_text(3));
      if (!status || !is_verdict_on_image(*status)) continue;
      ContentMatch match;
      match.job_id = q.column_int64(q.column_is_null(1) ? 0 : 1);
      match.done = q.column_text(2) == "done";
      match.answer.status = *status;
      if (!q.column_is_null(4)) match.answer.verify_score = q.column_double(4);
      match.answer.image_id = q.column_text(5);
      match.answer.request_id = q.column_text(6);
      match.answer.reason = q.column_text(7);
      match.answer.http_status =
          q.column_is_null(8) ? 0 : static_cast<int>(q.column_int64(8));
      found.answer = std::move(match);
      break;
    }
  }
  if (image_id_not_before > 0) {
    Result<Statement*> find = prepared(db, statements_->find_upload, kFindUploadSql);
    if (!find) return find.error();
    StatementReset reset(**find);
    (*find)->bind_text(1, content_hash).bind_int64(2, image_id_not_before).bind_int64(3, *key);
    Result<bool> row = (*find)->step();
    if (!row) return row.error();
    if (*row) found.upload = UploadedImage{(*find)->column_text(0), (*find)->column_int64(1)};
  }
  return found;
}

Result<std::int64_t> SqliteJobQueue::count_requests_since(UnixMillis since) {
  Result<Statement*> count =
      prepared(db_.handle(), statements_->count_requests_since, kCountRequestsSinceSql);
  if (!count) return count.error();
  StatementReset reset(**count);
  (*count)->bind_int64(1, since);
  Result<bool> row = (*count)->step();
  if (!row) return row.error();
  if (!*row) return Error{"count_requests_since: the count returned no row"};
  return (*count)->column_int64(0);
}

Result<std::int64_t> SqliteJobQueue::recover_expired_leases(UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> recover = prepared(db, statements_->recover, kRecoverSql);
  if (!recover) return recover.error();
  StatementReset reset(**recover);
  (*recover)->bind_int64(1, now);
  if (Status status = (*recover)->run(); !status) return status.error();
  return std::int64_t{sqlite3_changes64(db)};
}

Result<std::int64_t> SqliteJobQueue::release_all(const std::string& owner, UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> release = prepared(db, statements_->release_all, kReleaseAllSql);
  if (!release) return release.error();
  StatementReset reset(**release);
  (*release)->bind_text(1, owner).bind_int64(2, now);
  if (Status status = (*release)->run(); !status) return status.error();
  return std::int64_t{sqlite3_changes64(db)};
}

Result<QueueCounts> SqliteJobQueue::counts(UnixMillis now) {
  sqlite3* db = db_.handle();
  Result<Statement*> by_key = prepared(db, statements_->counts, kCountsSql);
  if (!by_key) return by_key.error();
  Result<Statement*> not_due = prepared(db, statements_->count_not_due, kCountNotDueSql);
  if (!not_due) return not_due.error();
  Result<Statement*> in_doubt = prepared(db, statements_->count_in_doubt, kCountInDoubtSql);
  if (!in_doubt) return in_doubt.error();

  // One snapshot, so the numbers add up even while a runner writes.
  Result<Transaction> tx = Transaction::begin(db, Transaction::Mode::kRead);
  if (!tx) return tx.error();
  QueueCounts counts;
  for (JobState state :
       {JobState::kPending, JobState::kLeased, JobState::kDone, JobState::kFailed}) {
    counts.by_state[std::string(to_string(state))] = 0;
  }
  {
    StatementReset reset(**by_key);
    for (;;) {
      Result<bool> row = (*by_key)->step();
      if (!row) return row.error();
      if (!*row) break;
      const std::string state = (*by_key)->column_text(0);
      const std::int64_t n = (*by_key)->column_int64(2);
      counts.by_state[state] += n;
      counts.total += n;
      if (state == to_string(JobState::kDone) || state == to_string(JobState::kFailed)) {
        counts.by_status[(*by_key)->column_text(1)] += n;
      }
    }
  }
  {
    StatementReset reset(**not_due);
    (*not_due)->bind_int64(1, now);
    Result<bool> row = (*not_due)->step();
    if (!row) return row.error();
    counts.due_now = counts.by_state[std::string(to_string(JobState::kPending))] -
                     (*not_due)->column_int64(0);
  }
  {
    StatementReset reset(**in_doubt);
    Result<bool> row = (*in_doubt)->step();
    if (!row) return row.error();
    counts.in_doubt = (*in_doubt)->column_int64(0);
  }
  if (Status status = tx->commit(); !status) return status.error();
  return counts;
}

Result<WorkLeft> SqliteJobQueue::work_left(UnixMillis now) {
  Result<Statement*> probe = prepared(db_.handle(), statements_->work_left, kWorkLeftSql);
  if (!probe) return probe.error();
  StatementReset reset(**probe);
  (*probe)->bind_int64(1, now);
  Result<bool> row = (*probe)->step();
  if (!row) return row.error();
  if (!*row) return Error{"work_left: the probe returned no row"};
  WorkLeft left;
  left.pending = (*probe)->column_int64(0) != 0;
  left.leased = (*probe)->column_int64(1) != 0;
  left.due_now = (*probe)->column_int64(2) != 0;
  return left;
}

}  // namespace lf
