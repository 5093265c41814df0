// The SQL of the job queue, in one place so its tests can check the query
// plans (every hot statement walks an index, never the whole table).
#pragma once

namespace lf::job_queue_sql {

// Enqueueing is set-based: one statement looks up, and one inserts, a whole
// JSON array of sources (?1) of one kind (?2). Row-at-a-time statements cost
// twice as much: each opens a cursor per index and seeks from the root.
//
// For each element of the array: its index and the state of the newest job
// of that source (NULL when there is none).
inline constexpr const char* kPriorStatesSql =
    "SELECT s.key, (SELECT j.state FROM jobs AS j WHERE j.source = s.value AND j.source_kind = ?2"
    "               ORDER BY j.id DESC LIMIT 1)"
    " FROM json_each(?1) AS s";

// Inserts every element of the array, in array order, with auto_rotate ?3,
// tag ?4, due at ?5. It reads no table it writes, so SQLite streams the rows
// straight in (no temporary copy).
inline constexpr const char* kInsertSourcesSql =
    "INSERT INTO jobs (source_kind, source, auto_rotate, tag, state, next_attempt_at,"
    " created_at, updated_at, no_reuse)"
    " SELECT ?2, s.value, ?3, ?4, 'pending', ?5, ?5, ?5, ?6 FROM json_each(?1) AS s";

// A job pre-flight rejected at enqueue: failed at once, decided locally.
// Inserted with the triggers on (such jobs are few), so job_counts counts it.
inline constexpr const char* kInsertRejectedSql =
    "INSERT INTO jobs (source_kind, source, auto_rotate, tag, state, api_status, reason,"
    " decided_by, next_attempt_at, created_at, updated_at, finished_at, no_reuse)"
    " VALUES (?1, ?2, ?3, ?4, 'failed', ?5, ?6, 'preflight', ?7, ?7, ?7, ?7, ?8)";

// The subquery walks the partial index jobs_due (INDEXED BY: without
// ANALYZE statistics the planner may pick another index and sort);
// RETURNING hands back the rows this statement moved, so no other
// connection can have them.
inline constexpr const char* kLeaseSql =
    "UPDATE jobs SET state = 'leased', lease_owner = ?1, lease_expires_at = ?2, updated_at = ?3"
    " WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_due"
    "              WHERE state = 'pending' AND next_attempt_at <= ?3"
    "              ORDER BY next_attempt_at, id LIMIT ?4)"
    " RETURNING id, source_kind, source, auto_rotate, attempts, next_attempt_at, no_reuse";

inline constexpr const char* kRenewSql =
    "UPDATE jobs INDEXED BY jobs_lease_owner SET lease_expires_at = ?2"
    " WHERE state = 'leased' AND lease_owner = ?1";

// Every settlement applies only to a job still leased by the settling owner.
inline constexpr const char* kSettleFinalSql =
    "UPDATE jobs SET state = ?3, lease_owner = NULL, lease_expires_at = NULL,"
    " attempts = attempts + ?4, verify_score = ?5, image_id = ?6, request_id = ?7,"
    " api_status = ?8, reason = ?9, http_status = ?10, updated_at = ?11, finished_at = ?11,"
    " decided_by = ?12, reused_from = ?13, content_hash = coalesce(?14, content_hash),"
    " content_key = coalesce(?15, content_key)"
    " WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2";

inline constexpr const char* kSettleRetrySql =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
    " attempts = attempts + 1, next_attempt_at = ?3, api_status = coalesce(?4, api_status),"
    " reason = ?5, http_status = ?6, updated_at = ?7"
    " WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2";

inline constexpr const char* kSettleThrottledSql =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
    " next_attempt_at = ?3, updated_at = ?4"
    " WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2";

inline constexpr const char* kSettleReleaseSql =
    "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,"
    " updated_at = ?3"
    " WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2";

// The request was sent whoever holds the lease now, so its attempt is kept
// (unless the job no longer exists).
inline constexpr const char* kInsertAttemptSql =
    "INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status,"
    " reason, request_id, verify_score, image_id, latency_ms, disposition)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12"
    " WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?1)";

// A request about to be sent: on record before it leaves.
inline constexpr const char* kInsertSentAttemptSql =
    "INSERT INTO attempts (job_id, run_id, started_at, disposition, sent_image_id)"
    " VALUES (?1, ?2, ?3, 'sent', ?4)";

// Completes an attempt recorded by kInsertSentAttemptSql (?1 its id). Only
// an unanswered one ('sent', or 'in_doubt' after its run died), so replaying
// a completion changes nothing. ?4..?12 are the answer's, numbered as in
// kInsertAttemptSql so that one function binds both.
inline constexpr const char* kCompleteAttemptSql =
    "UPDATE attempts SET finished_at = ?4, http_status = ?5, api_status = ?6, reason = ?7,"
    " request_id = ?8, verify_score = ?9, image_id = ?10, latency_ms = ?11, disposition = ?12"
    " WHERE id = ?1 AND finished_at IS NULL";

// A dead run's unanswered attempts: each counts as an attempt of its job
// (the server may have counted it), then is marked in doubt. Both walk the
// partial index attempts_unanswered.
inline constexpr const char* kCountInDoubtOnJobsSql =
    "UPDATE jobs SET attempts = attempts + (SELECT count(*) FROM attempts AS a"
    "   WHERE a.job_id = jobs.id AND a.finished_at IS NULL AND a.disposition = 'sent'"
    "   AND a.run_id = ?1)"
    " WHERE id IN (SELECT job_id FROM attempts INDEXED BY attempts_unanswered"
    "              WHERE finished_at IS NULL AND disposition = 'sent' AND run_id = ?1)";
inline constexpr const char* kMarkInDoubtSql =
    "UPDATE attempts INDEXED BY attempts_unanswered SET disposition = 'in_doubt'"
    " WHERE finished_at IS NULL AND disposition = 'sent' AND run_id = ?1";
inline constexpr const char* kCountInDoubtSql =
    "SELECT count(*) FROM attempts INDEXED BY attempts_unanswered"
    " WHERE finished_at IS NULL AND disposition = 'in_doubt'";

inline constexpr const char* kRecoverSql =
    "UPDATE jobs INDEXED BY jobs_leased SET state = 'pending', lease_owner = NULL,"
    " lease_expires_at = NULL, updated_at = ?1 WHERE state = 'leased' AND lease_expires_at <= ?1";

inline constexpr const char* kReleaseAllSql =
    "UPDATE jobs INDEXED BY jobs_lease_owner SET state = 'pending', lease_owner = NULL,"
    " lease_expires_at = NULL, updated_at = ?2 WHERE state = 'leased' AND lease_owner = ?1";

// The newest final jobs with content ?1 (content_key ?3) and auto_rotate ?2
// (a few: the caller takes the first whose answer is a verdict on the image).
inline constexpr const char* kFindAnswerSql =
    "SELECT id, reused_from, state, api_status, verify_score, image_id, request_id, reason,"
    " http_status FROM jobs INDEXED BY jobs_content"
    " WHERE content_key = ?3 AND content_hash = ?1 AND auto_rotate = ?2"
    " AND (state = 'done' OR state = 'failed')"
    " ORDER BY id DESC LIMIT 16";

// The newest image_id the server gave for content ?1 (content_key ?3), stored at or after ?2
// (answers of the API only: a reused job's finished_at is not its upload's).
inline constexpr const char* kFindUploadSql =
    "SELECT image_id, finished_at FROM jobs INDEXED BY jobs_content"
    " WHERE content_key = ?3 AND content_hash = ?1 AND image_id IS NOT NULL AND image_id <> ''"
    " AND decided_by IS NULL AND finished_at >= ?2"
    " ORDER BY finished_at DESC LIMIT 1";

// The daily budget: requests sent since ?1 (covered by attempts_started).
inline constexpr const char* kCountRequestsSinceSql =
    "SELECT count(*) FROM attempts INDEXED BY attempts_started WHERE started_at >= ?1";

// Counting reads job_counts (schema/003_job_counts.sql), a handful of rows
// kept exact by triggers, never the jobs table.
inline constexpr const char* kCountsSql =
    "SELECT state, api_status, n FROM job_counts WHERE n <> 0";

// Enqueue inserts with triggers off (see JobQueue::enqueue) and counts its
// new pending jobs (?1) with this, in the same transaction.
inline constexpr const char* kCountEnqueuedSql =
    "INSERT INTO job_counts (state, api_status, n) VALUES ('pending', '', ?1)"
    " ON CONFLICT (state, api_status) DO UPDATE SET n = n + excluded.n";

// Pending jobs not due at ?1: retries and throttled jobs waiting out a
// delay, a short range at the end of jobs_due. Due now = pending - this.
inline constexpr const char* kCountNotDueSql =
    "SELECT count(*) FROM jobs INDEXED BY jobs_due"
    " WHERE state = 'pending' AND next_attempt_at > ?1";

// Is anything pending, leased, due at ?1? Each probe stops at the first
// entry of its partial index: O(log n) whatever the queue size.
inline constexpr const char* kWorkLeftSql =
    "SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_due WHERE state = 'pending'),"
    " EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_leased WHERE state = 'leased'),"
    " EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_due"
    "         WHERE state = 'pending' AND next_attempt_at <= ?1)";

}  // namespace lf::job_queue_sql
