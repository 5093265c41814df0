// The job queue over PostgreSQL's jobs and attempts tables.
#include "store/pg_job_queue.h"

#include <algorithm>
#include <string_view>

#include "store/enqueue_runs.h"
#include "store/job_queue_sql.h"
#include "store/outcome_fields.h"
#include "store/source_text.h"

namespace lf {
namespace {

// Rows per enqueue transaction, as SQLite's.
constexpr std::size_t kEnqueueBatchRows = 50'000;

// For each element of the array ?1 (1-based ord): the state of the newest
// job of that source and kind ?2 (NULL when there is none).
constexpr const char* kPriorStatesSql =
    "SELECT s.ord, (SELECT j.state FROM jobs AS j WHERE j.source = s.src AND j.source_kind = ?2"
    "               ORDER BY j.id DESC LIMIT 1)"
    " FROM unnest(?1::text[]) WITH ORDINALITY AS s(src, ord)";

// Every element of ?1 in array order (the ids follow it).
constexpr const char* kInsertSourcesSql =
    "INSERT INTO jobs (source_kind, source, auto_rotate, tag, state, next_attempt_at,"
    " created_at, updated_at, no_reuse)"
    " SELECT ?2::text, s.src, ?3::integer, ?4::text, 'pending', ?5::bigint, ?5::bigint,"
    " ?5::bigint, ?6::integer"
    " FROM unnest(?1::text[]) WITH ORDINALITY AS s(src, ord) ORDER BY s.ord";

// SKIP LOCKED: rows another runner is leasing right now are skipped, not
// waited for. The lease runs to the server's clock plus ?2.
constexpr const char* kLeaseSql =
    "WITH picked AS (SELECT id FROM jobs WHERE state = 'pending' AND next_attempt_at <= ?3"
    "                ORDER BY next_attempt_at, id LIMIT ?4 FOR UPDATE SKIP LOCKED)"
    " UPDATE jobs AS j SET state = 'leased', lease_owner = ?1,"
    " lease_expires_at = lfbatch_now_ms() + ?2, updated_at = ?3"
    " FROM picked WHERE j.id = picked.id"
    " RETURNING j.id, j.source_kind, j.source, j.auto_rotate, j.attempts, j.next_attempt_at,"
    " j.no_reuse";

constexpr const char* kRenewSql =
    "UPDATE jobs SET lease_expires_at = lfbatch_now_ms() + ?2"
    " WHERE state = 'leased' AND lease_owner = ?1";

// The sent attempts of a batch, one row each in array order; bigserial
// hands out ids in that order, so the ids sorted ascending are the
// attempts' in the order of the arrays.
constexpr const char* kInsertSentSql =
    "INSERT INTO attempts (job_id, run_id, started_at, disposition, sent_image_id)"
    " SELECT a.job_id, nullif(?2::bigint, 0), a.started_at, 'sent', nullif(a.image_id, '')"
    " FROM unnest(?1::bigint[], ?3::bigint[], ?4::text[])"
    "      WITH ORDINALITY AS a(job_id, started_at, image_id, ord)"
    " ORDER BY a.ord RETURNING id";

// As job_queue_sql's kInsertAttemptSql, with the types PostgreSQL cannot
// infer in a select list.
constexpr const char* kInsertAttemptSql =
    "INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status,"
    " reason, request_id, verify_score, image_id, latency_ms, disposition)"
    " SELECT ?1::bigint, ?2::bigint, ?3::bigint, ?4::bigint, ?5::integer, ?6::text, ?7::text,"
    " ?8::text, ?9::double precision, ?10::text, ?11::double precision, ?12::text"
    " WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1::bigint)";

// As job_queue_sql's kCompleteAttemptSql, numbered without gaps
// (PostgreSQL cannot type a parameter the statement never uses).
constexpr const char* kCompleteAttemptSql =
    "UPDATE attempts SET finished_at = ?2, http_status = ?3, api_status = ?4, reason = ?5,"
    " request_id = ?6, verify_score = ?7, image_id = ?8, latency_ms = ?9, disposition = ?10"
    " WHERE id = ?1 AND finished_at IS NULL";

constexpr const char* kCountInDoubtOnJobsSql =
    "UPDATE jobs SET attempts = attempts + (SELECT count(*) FROM attempts AS a"
    "   WHERE a.job_id = jobs.id AND a.finished_at IS NULL AND a.disposition = 'sent'"
    "   AND a.run_id = ?1)"
    " WHERE id IN (SELECT job_id FROM attempts"
    "              WHERE finished_at IS NULL AND disposition = 'sent' AND run_id = ?1)";
constexpr const char* kMarkInDoubtSql =
    "UPDATE attempts SET disposition = 'in_doubt'"
    " WHERE finished_at IS NULL AND disposition = 'sent' AND run_id = ?1";
constexpr const char* kCountInDoubtSql =
    "SELECT count(*) FROM attempts WHERE finished_at IS NULL AND disposition = 'in_doubt'";

constexpr const char* kRecoverSql =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
    " updated_at = ?1 WHERE state = 'leased' AND lease_expires_at <= lfbatch_now_ms()";

// Unfinished runs whose heartbeat is older than their lease time: dead.
// SKIP LOCKED: two runners reaping at once take different runs.
constexpr const char* kDeadRunsSql =
    "SELECT id FROM runs WHERE finished_at IS NULL"
    " AND coalesce(alive_at, started_at) + coalesce(lease_millis, 120000) < lfbatch_now_ms()"
    " FOR UPDATE SKIP LOCKED";

constexpr const char* kMarkCrashedSql =
    "UPDATE runs SET ended_how = 'crashed',"
    " finished_at = coalesce((SELECT max(coalesce(finished_at, started_at)) FROM attempts"
    "                         WHERE run_id = runs.id), alive_at, started_at),"
    " ended_detail = 'pid ' || coalesce(pid::text, '?') || ' on ' || coalesce(host, '?') ||"
    "   ' stopped renewing its leases (killed, crashed or cut off); its jobs were recovered'"
    " WHERE id = ?1 AND finished_at IS NULL";

constexpr const char* kReleaseAllSql =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
    " updated_at = ?2 WHERE state = 'leased' AND lease_owner = ?1";

constexpr const char* kFindAnswerSql =
    "SELECT id, reused_from, state, api_status, verify_score, image_id, request_id, reason,"
    " http_status FROM jobs"
    " WHERE content_key = ?3 AND content_hash = ?1 AND auto_rotate = ?2"
    " AND (state = 'done' OR state = 'failed')"
    " ORDER BY id DESC LIMIT 16";

constexpr const char* kFindUploadSql =
    "SELECT image_id, finished_at FROM jobs"
    " WHERE content_key = ?3 AND content_hash = ?1 AND image_id IS NOT NULL AND image_id <> ''"
    " AND decided_by IS NULL AND finished_at >= ?2"
    " ORDER BY finished_at DESC LIMIT 1";

constexpr const char* kCountRequestsSinceSql =
    "SELECT count(*) FROM attempts WHERE started_at >= ?1";

// job_counts is append-only here: a key's count is the sum of its rows.
constexpr const char* kCountsSql =
    "SELECT state, api_status, sum(n) FROM job_counts GROUP BY state, api_status"
    " HAVING sum(n) <> 0";

constexpr const char* kCountNotDueSql =
    "SELECT count(*) FROM jobs WHERE state = 'pending' AND next_attempt_at > ?1";

constexpr const char* kWorkLeftSql =
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'pending'),"
    " EXISTS (SELECT 1 FROM jobs WHERE state = 'leased'),"
    " EXISTS (SELECT 1 FROM jobs WHERE state = 'pending' AND next_attempt_at <= ?1)";

SqlParam text_or_null(std::string_view s) {
  if (s.empty()) return std::monostate{};
  return std::string(s);
}

template <typename T>
SqlParam optional_param(const std::optional<T>& v) {
  if (!v) return std::monostate{};
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(*v);
  } else {
    return static_cast<std::int64_t>(*v);
  }
}

// ?1..?12 of kInsertAttemptSql; kCompleteAttemptSql takes them without ?2
// and ?3, with the attempt as ?1.
std::vector<SqlParam> answer_params(SqlParam first, SqlParam run, UnixMillis started_at,
                                    const Outcome& outcome, const OutcomeFields& fields,
                                    std::string_view disposition_override) {
  return {std::move(first),
          std::move(run),
          std::int64_t{started_at},
          std::int64_t{outcome.finished_at},
          optional_param(fields.http_status),
          fields.api_status,
          text_or_null(fields.reason),
          text_or_null(fields.request_id),
          optional_param(fields.verify_score),
          text_or_null(fields.image_id),
          static_cast<double>(outcome.finished_at - outcome.started_at),
          std::string(disposition_override.empty() ? to_string(outcome.disposition())
                                                   : disposition_override)};
}

std::string int_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

Result<std::int64_t> single_integer(SqlSession& session, std::string_view sql,
                                    const std::vector<SqlParam>& params) {
  std::optional<std::int64_t> value;
  Result<std::int64_t> rows = session.query(sql, params, [&](const SqlRow& row) {
    value = row.integer(0);
    return Status::Ok();
  });
  if (!rows) return rows.error();
  if (!value) return Error{"the database returned no row for: " + std::string(sql.substr(0, 60))};
  return *value;
}

}  // namespace

std::string pg_text_array(std::span<const std::string> values) {
  std::string out;
  std::size_t size = 2;
  for (const std::string& v : values) size += v.size() + 3;
  out.reserve(size);
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Result<EnqueueCounts> PgJobQueue::enqueue(std::span<const NewJob> jobs, bool again,
                                          UnixMillis now) {
  if (Status status = check_sources(jobs); !status) return status.error();
  EnqueueCounts counts;
  for (std::size_t begin = 0; begin < jobs.size(); begin += kEnqueueBatchRows) {
    const std::size_t end = std::min(jobs.size(), begin + kEnqueueBatchRows);
    Result<SqlTransaction> tx = SqlTransaction::begin(session_, SqlTransaction::Mode::kWrite);
    if (!tx) return tx.error();
    EnqueueCounts batch;
    Status status = for_each_run_of_one_kind(
        jobs.subspan(begin, end - begin),
        [&](std::span<const NewJob> run) { return enqueue_run(run, again, now, batch); });
    if (!status) return status.error();
    // The insert trigger appended a count row per job: fold them now, so
    // a million enqueued jobs leave a handful of rows, not a million.
    if (Result<std::int64_t> folded = session_.run("SELECT fold_job_counts()"); !folded) {
      return folded.error();
    }
    if (Status committed = tx->commit(); !committed) return committed.error();
    add(counts, batch);
  }
  return counts;
}

Status PgJobQueue::enqueue_run(std::span<const NewJob> run, bool again, UnixMillis now,
                               EnqueueCounts& counts) {
  // A source listed twice is enqueued once (enqueue_runs.h).
  const DistinctSources distinct = distinct_sources(run);
  const std::vector<const NewJob*>& unique_jobs = distinct.jobs;
  const std::vector<std::int64_t>& repeats = distinct.repeats;
  std::vector<std::string> unique;  // as stored (source_text.h)
  unique.reserve(unique_jobs.size());
  for (const NewJob* job : unique_jobs) unique.push_back(encode_source_for_text(job->source));
  const std::string kind(to_string(run.front().kind));
  std::int64_t repeats_of_added = distinct.repeated;

  std::vector<std::size_t> fresh;  // indexes into unique
  if (!again) {
    Status bad;
    Result<std::int64_t> rows = session_.query(
        kPriorStatesSql, {pg_text_array(unique), kind}, [&](const SqlRow& row) -> Status {
          const std::int64_t ord = row.integer(0);
          if (ord < 1 || ord > static_cast<std::int64_t>(unique.size())) {
            return Error{"enqueue: unnest returned an unknown index"};
          }
          const auto index = static_cast<std::size_t>(ord - 1);
          if (row.is_null(1)) {
            fresh.push_back(index);
            return Status::Ok();
          }
          const std::int64_t n = 1 + repeats[index];
          repeats_of_added -= repeats[index];
          const std::string_view state = row.text(1);
          if (state == "done") {
            counts.already_done += n;
          } else if (state == "failed") {
            counts.already_failed += n;
          } else {
            counts.already_queued += n;
          }
          return Status::Ok();
        });
    if (!rows) return rows.error();
    std::sort(fresh.begin(), fresh.end());
  } else {
    for (std::size_t i = 0; i < unique.size(); ++i) fresh.push_back(i);
  }

  std::vector<std::string> accepted;
  accepted.reserve(fresh.size());
  std::int64_t rejected = 0;
  for (std::size_t i : fresh) {
    const NewJob& job = *unique_jobs[i];
    if (!job.rejected) {
      accepted.push_back(unique[i]);
      continue;
    }
    Result<std::int64_t> inserted = session_.run(
        job_queue_sql::kInsertRejectedSql,
        {kind, unique[i], std::int64_t{job.auto_rotate ? 1 : 0}, text_or_null(job.tag),
         std::string(to_string(job.rejected->status)), text_or_null(job.rejected->reason),
         std::int64_t{now}, std::int64_t{again ? 1 : 0}});
    if (!inserted) return inserted.error();
    ++rejected;
  }
  counts.added += rejected;
  counts.rejected_by_preflight += rejected;
  if (!accepted.empty()) {
    Result<std::int64_t> added = session_.run(
        kInsertSourcesSql,
        {pg_text_array(accepted), kind, std::int64_t{run.front().auto_rotate ? 1 : 0},
         text_or_null(run.front().tag), std::int64_t{now}, std::int64_t{again ? 1 : 0}});
    if (!added) return added.error();
    counts.added += *added;
  }
  counts.already_queued += repeats_of_added;
  return Status::Ok();
}

Result<std::vector<Job>> PgJobQueue::lease(int max_jobs, const std::string& owner, UnixMillis now,
                                           std::int64_t lease_millis) {
  std::vector<Job> jobs;
  if (max_jobs <= 0) return jobs;
  if (owner.empty()) return Error{"lease: the lease owner is empty"};
  std::vector<UnixMillis> due_at;
  Result<std::int64_t> rows = session_.query(
      kLeaseSql, {owner, std::int64_t{lease_millis}, std::int64_t{now}, std::int64_t{max_jobs}},
      [&](const SqlRow& row) {
        Job job;
        job.id = row.integer(0);
        job.kind = parse_source_kind(row.text(1)).value_or(SourceKind::kPath);
        job.source = decode_stored_source(row.text(2));
        job.auto_rotate = row.integer(3) != 0;
        job.attempts = static_cast<int>(row.integer(4));
        job.no_reuse = row.integer(6) != 0;
        due_at.push_back(row.integer(5));
        jobs.push_back(std::move(job));
        return Status::Ok();
      });
  if (!rows) return rows.error();
  return oldest_due_first(std::move(jobs), due_at);
}

Status PgJobQueue::renew_leases(const std::string& owner, UnixMillis /*now*/,
                                std::int64_t lease_millis) {
  Result<std::int64_t> n = session_.run(kRenewSql, {owner, std::int64_t{lease_millis}});
  if (!n) return n.error();
  return Status::Ok();
}

Result<std::vector<AttemptId>> PgJobQueue::record_sent(std::span<const SentAttempt> sent,
                                                       RunId run_id) {
  std::vector<AttemptId> ids;
  if (sent.empty()) return ids;
  std::vector<std::int64_t> job_ids, started;
  std::vector<std::string> images;
  for (const SentAttempt& a : sent) {
    job_ids.push_back(a.job_id);
    started.push_back(a.started_at);
    images.push_back(a.sent_image_id);
  }
  ids.reserve(sent.size());
  Result<std::int64_t> rows = session_.query(
      kInsertSentSql,
      {int_array(job_ids), std::int64_t{run_id}, int_array(started), pg_text_array(images)},
      [&](const SqlRow& row) {
        ids.push_back(row.integer(0));
        return Status::Ok();
      });
  if (!rows) return rows.error();
  if (ids.size() != sent.size()) {
    return Error{"record_sent: the database recorded " + std::to_string(ids.size()) + " of " +
                 std::to_string(sent.size()) + " attempts"};
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::int64_t> PgJobQueue::mark_in_doubt_in_transaction(RunId run_id) {
  if (Result<std::int64_t> n = session_.run(kCountInDoubtOnJobsSql, {std::int64_t{run_id}}); !n) {
    return n.error();
  }
  return session_.run(kMarkInDoubtSql, {std::int64_t{run_id}});
}

Result<std::int64_t> PgJobQueue::mark_in_doubt(RunId run_id) {
  Result<SqlTransaction> tx = SqlTransaction::begin(session_, SqlTransaction::Mode::kWrite);
  if (!tx) return tx.error();
  Result<std::int64_t> marked = mark_in_doubt_in_transaction(run_id);
  if (!marked) return marked.error();
  if (Status status = tx->commit(); !status) return status.error();
  return marked;
}

Result<std::int64_t> PgJobQueue::settle(std::span<const Settlement> settlements,
                                        const std::string& owner, RunId run_id, UnixMillis now) {
  if (settlements.empty()) return std::int64_t{0};
  Result<SqlTransaction> tx = SqlTransaction::begin(session_, SqlTransaction::Mode::kWrite);
  if (!tx) return tx.error();
  const SqlParam run = run_id > 0 ? SqlParam(std::int64_t{run_id}) : SqlParam(std::monostate{});
  std::int64_t ignored = 0;
  for (const Settlement& settlement : settlements) {
    std::optional<OutcomeFields> fields;
    if (settlement.outcome) fields = fields_of(*settlement.outcome);
    const bool requested = settlement.decided_by == Decider::kApi;

    if (!requested) {
      // Decided without a request: no attempt to record.
    } else if (settlement.outcome && settlement.attempt_id > 0) {
      std::vector<SqlParam> params =
          answer_params(std::int64_t{settlement.attempt_id}, std::monostate{}, 0,
                        *settlement.outcome, *fields, settlement.attempt_disposition);
      params.erase(params.begin() + 1, params.begin() + 3);  // run and started_at: unused
      Result<std::int64_t> completed = session_.run(kCompleteAttemptSql, params);
      if (!completed) return completed.error();
      if (*completed == 0) {  // already completed: a replay
        ++ignored;
        continue;
      }
    } else if (settlement.outcome) {
      Result<std::int64_t> inserted = session_.run(
          kInsertAttemptSql,
          answer_params(std::int64_t{settlement.job_id}, run, settlement.outcome->started_at,
                        *settlement.outcome, *fields, settlement.attempt_disposition));
      if (!inserted) return inserted.error();
    }
    if (settlement.kind == SettleKind::kKeep) continue;

    const char* sql = nullptr;
    std::vector<SqlParam> params = {std::int64_t{settlement.job_id}, owner};
    switch (settlement.kind) {
      case SettleKind::kDone:
      case SettleKind::kFailed: {
        sql = job_queue_sql::kSettleFinalSql;
        params.resize(15);
        params[2] = std::string(settlement.kind == SettleKind::kDone ? "done" : "failed");
        params[3] = std::int64_t{settlement.outcome && requested ? 1 : 0};
        if (fields) {
          params[4] = optional_param(fields->verify_score);
          params[5] = text_or_null(fields->image_id);
          params[6] = text_or_null(fields->request_id);
          params[7] = fields->api_status;
          params[8] = text_or_null(fields->reason);
          params[9] = optional_param(fields->http_status);
        }
        params[10] = std::int64_t{now};
        if (!requested) {
          params[11] = std::string(to_string(settlement.decided_by));
          if (settlement.reused_from > 0) params[12] = std::int64_t{settlement.reused_from};
        }
        params[13] = text_or_null(settlement.content_hash);
        params[14] = optional_param(content_key_of(settlement.content_hash));
        break;
      }
      case SettleKind::kRetryLater:
        sql = job_queue_sql::kSettleRetrySql;
        params.resize(7);
        params[2] = std::int64_t{settlement.next_attempt_at};
        if (fields) {
          params[3] = fields->api_status;
          params[4] = text_or_null(fields->reason);
          params[5] = optional_param(fields->http_status);
        }
        params[6] = std::int64_t{now};
        break;
      case SettleKind::kThrottled:
        sql = job_queue_sql::kSettleThrottledSql;
        params.push_back(std::int64_t{settlement.next_attempt_at});
        params.push_back(std::int64_t{now});
        break;
      case SettleKind::kRelease:
        sql = job_queue_sql::kSettleReleaseSql;
        params.push_back(std::int64_t{now});
        break;
      case SettleKind::kKeep:
        break;  // handled above
    }
    Result<std::int64_t> changed = session_.run(sql, params);
    if (!changed) return changed.error();
    if (*changed == 0) ++ignored;
  }
  if (Status status = tx->commit(); !status) return status.error();
  return ignored;
}

Result<ContentLookup> PgJobQueue::find_content(const std::string& content_hash, bool auto_rotate,
                                               bool want_answer, UnixMillis image_id_not_before) {
  ContentLookup found;
  const std::optional<std::int64_t> key = content_key_of(content_hash);
  if (!key) return found;
  if (want_answer) {
    Result<std::int64_t> rows = session_.query(
        kFindAnswerSql, {content_hash, std::int64_t{auto_rotate ? 1 : 0}, *key},
        [&](const SqlRow& row) -> Status {
          if (found.answer) return Status::Ok();
          std::optional<ApiStatus> status = parse_api_status(row.text(3));
          if (!status || !is_verdict_on_image(*status)) return Status::Ok();
          ContentMatch match;
          match.job_id = row.integer(row.is_null(1) ? 0 : 1);
          match.done = row.text(2) == "done";
          match.answer.status = *status;
          if (!row.is_null(4)) match.answer.verify_score = row.real(4);
          match.answer.image_id = row.string(5);
          match.answer.request_id = row.string(6);
          match.answer.reason = row.string(7);
          match.answer.http_status = row.is_null(8) ? 0 : static_cast<int>(row.integer(8));
          found.answer = std::move(match);
          return Status::Ok();
        });
    if (!rows) return rows.error();
  }
  if (image_id_not_before > 0) {
    Result<std::int64_t> rows = session_.query(
        kFindUploadSql, {content_hash, std::int64_t{image_id_not_before}, *key},
        [&](const SqlRow& row) {
          found.upload = UploadedImage{row.string(0), row.integer(1)};
          return Status::Ok();
        });
    if (!rows) return rows.error();
  }
  return found;
}

Result<std::int64_t> PgJobQueue::count_requests_since(UnixMillis since) {
  return single_integer(session_, kCountRequestsSinceSql, {std::int64_t{since}});
}

Result<std::int64_t> PgJobQueue::recover_expired_leases(UnixMillis now) {
  Result<SqlTransaction> tx = SqlTransaction::begin(session_, SqlTransaction::Mode::kWrite);
  if (!tx) return tx.error();
  Result<std::int64_t> recovered = session_.run(kRecoverSql, {std::int64_t{now}});
  if (!recovered) return recovered.error();
  std::vector<RunId> dead;
  Result<std::int64_t> rows = session_.query(kDeadRunsSql, {}, [&](const SqlRow& row) {
    dead.push_back(row.integer(0));
    return Status::Ok();
  });
  if (!rows) return rows.error();
  std::int64_t total = *recovered;
  for (RunId run : dead) {
    if (Result<std::int64_t> n = mark_in_doubt_in_transaction(run); !n) return n.error();
    Result<std::int64_t> released =
        session_.run(kReleaseAllSql, {lease_owner_of(run), std::int64_t{now}});
    if (!released) return released.error();
    total += *released;
    if (Result<std::int64_t> n = session_.run(kMarkCrashedSql, {std::int64_t{run}}); !n) {
      return n.error();
    }
  }
  if (Result<std::int64_t> folded = session_.run("SELECT fold_job_counts()"); !folded) {
    return folded.error();
  }
  if (Status status = tx->commit(); !status) return status.error();
  return total;
}

Result<std::int64_t> PgJobQueue::release_all(const std::string& owner, UnixMillis now) {
  return session_.run(kReleaseAllSql, {owner, std::int64_t{now}});
}

Result<QueueCounts> PgJobQueue::counts(UnixMillis now) {
  Result<SqlTransaction> tx = SqlTransaction::begin(session_, SqlTransaction::Mode::kRead);
  if (!tx) return tx.error();
  QueueCounts counts;
  for (JobState state :
       {JobState::kPending, JobState::kLeased, JobState::kDone, JobState::kFailed}) {
    counts.by_state[std::string(to_string(state))] = 0;
  }
  Result<std::int64_t> rows = session_.query(kCountsSql, {}, [&](const SqlRow& row) {
    const std::string state = row.string(0);
    const std::int64_t n = row.integer(2);
    counts.by_state[state] += n;
    counts.total += n;
    if (state == to_string(JobState::kDone) || state == to_string(JobState::kFailed)) {
      counts.by_status[row.string(1)] += n;
    }
    return Status::Ok();
  });
  if (!rows) return rows.error();
  Result<std::int64_t> not_due = single_integer(session_, kCountNotDueSql, {std::int64_t{now}});
  if (!not_due) return not_due.error();
  counts.due_now = counts.by_state[std::string(to_string(JobState::kPending))] - *not_due;
  Result<std::int64_t> in_doubt = single_integer(session_, kCountInDoubtSql, {});
  if (!in_doubt) return in_doubt.error();
  counts.in_doubt = *in_doubt;
  if (Status status = tx->commit(); !status) return status.error();
  return counts;
}

Result<WorkLeft> PgJobQueue::work_left(UnixMillis now) {
  WorkLeft left;
  bool seen = false;
  Result<std::int64_t> rows = session_.query(kWorkLeftSql, {std::int64_t{now}},
                                             [&](const SqlRow& row) {
                                               left.pending = row.integer(0) != 0;
                                               left.leased = row.integer(1) != 0;
                                               left.due_now = row.integer(2) != 0;
                                               seen = true;
                                               return Status::Ok();
                                             });
  if (!rows) return rows.error();
  if (!seen) return Error{"work_left: the probe returned no row"};
  return left;
}

}  // namespace lf
