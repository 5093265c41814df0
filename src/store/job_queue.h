// The queue of jobs: enqueue, lease, settle (done, failed, retry later,
// release), recover expired leases, count. An interface with two
// implementations: SqliteJobQueue (sqlite_job_queue.h, the default) and
// PgJobQueue (pg_job_queue.h, many runners on many hosts).
//
// Invariants:
//  - job_counts holds, for each key (state, and the api_status of done and
//    failed jobs), exactly how many jobs have it, in every committed state
//    (triggers of schema/003_job_counts.sql, and enqueue's own count);
//  - a job is leased by at most one owner at a time (SQLite: leasing is one
//    IMMEDIATE transaction that moves pending rows to leased; PostgreSQL:
//    FOR UPDATE SKIP LOCKED);
//  - a settlement applies only while the job is leased by the settling
//    owner, so a committed result is never overwritten by a late retry or
//    by a runner whose lease expired and was recovered.
//
// Not thread-safe: one JobQueue per thread, each with its own connection.
// Every call is its own transaction, or part of the caller's when the
// connection is already in one (Store::begin_write ... commit groups a settle
// with RunLog::add_counts).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/outcome.h"
#include "core/result.h"

namespace lf {

// What pre-flight decided about a job before any request: the status the
// API would answer (CORRUPT_IMAGE, INVALID_IMAGE_FORMAT_OR_SIZE,
// IMAGE_FILE_SIZE_TOO_BIG) and why, in words for the report.
struct LocalVerdict {
  ApiStatus status = ApiStatus::kCorruptImage;
  std::string reason;
};

struct NewJob {
  SourceKind kind = SourceKind::kPath;
  std::string source;  // absolute path, http(s) URL, or image_id
  bool auto_rotate = false;
  std::string tag;     // empty: no tag
  // Set when enqueue's pre-flight rejected the file: the job is added as
  // failed at once, decided_by 'preflight', and never sent.
  std::optional<LocalVerdict> rejected = {};
};

struct EnqueueCounts {
  std::int64_t added = 0;
  std::int64_t already_queued = 0;  // a pending or leased job has this source
  std::int64_t already_done = 0;    // a done job has this source
  std::int64_t already_failed = 0;  // a failed job has this source (see `lfbatch retry`)
  std::int64_t rejected_by_preflight = 0;  // of `added`: added failed, decided locally
};

// How a leased job leaves the lease.
enum class SettleKind {
  kDone,        // final: result stored, state done
  kFailed,      // final: result stored, state failed
  kRetryLater,  // pending again at `next_attempt_at`, attempt counted
  kThrottled,   // pending again at `next_attempt_at`, attempt not counted
  kRelease,     // pending again now, untouched (quota, shutdown)
  kKeep,        // still leased: only the attempt is completed (its answer asks for
                // another request of the same job: an expired image_id sent in place
                // of the file is followed by the upload)
};

// Who decided a final result (jobs.decided_by).
enum class Decider {
  kApi,        // the server answered (NULL in the database)
  kPreflight,  // the spec's image rules, checked locally: nothing was sent
  kReused,     // the answer of job `reused_from` for identical content: nothing was sent
};

std::string_view to_string(Decider decider);  // "api", "preflight", "reused"

// jobs.content_key of a content hash: its first 16 hex digits as an
// integer (what the jobs_content index holds); nullopt for anything that is
// not at least 16 hex digits.
std::optional<std::int64_t> content_key_of(std::string_view content_hash);


// A request about to leave: its attempts row is committed before it is sent
// (see record_sent), so every call the server may see is on record.
struct SentAttempt {
  JobId job_id = 0;
  UnixMillis started_at = 0;
  std::string sent_image_id = {};  // the image_id sent in place of the file's bytes, if any
};

// One settlement: the job, how it leaves the lease, and the attempt that
// led there (absent for kRelease without a request).
struct Settlement {
  JobId job_id = 0;
  SettleKind kind = SettleKind::kRelease;
  UnixMillis next_attempt_at = 0;  // for kRetryLater / kThrottled
  std::optional<Outcome> outcome;  // completes attempt_id, or is recorded as a new attempts row
  // The attempts row record_sent() committed for this request; 0: none
  // (the outcome is then inserted as a new row, unless decided_by says no
  // request was made).
  AttemptId attempt_id = 0;
  // kPreflight / kReused (kDone or kFailed only): `outcome` holds the result
  // to store, no attempts row is written and the job's attempts stay as
  // they are.
  Decider decided_by = Decider::kApi;
  JobId reused_from = 0;                // kReused: the job the server answered
  std::string content_hash = {};        // SHA-256 of the bytes judged; stored on a final job
  // The attempt's disposition when not to_string(outcome.disposition()),
  // e.g. "image_id_expired" for kKeep.
  std::string attempt_disposition = {};
};

// An earlier answer for the same content (find_content).
struct ContentMatch {
  JobId job_id = 0;       // the job the server answered (a reused job's reused_from)
  bool done = false;      // state done (else failed)
  ApiAnswer answer;       // status, score, image_id, request_id, reason, http_status
};

// An upload of the same content whose image_id may be sent instead of the bytes.
struct UploadedImage {
  std::string image_id;
  UnixMillis uploaded_at = 0;  // when its answer was stored
};

struct ContentLookup {
  std::optional<ContentMatch> answer;  // absent: no reusable answer (or not asked)
  std::optional<UploadedImage> upload; // absent: none uploaded since not_before
};

struct QueueCounts {
  std::map<std::string, std::int64_t> by_state;   // "pending" -> n, ...; all four states, even at 0
  std::map<std::string, std::int64_t> by_status;  // last api_status of done/failed jobs -> n
                                                  // ("" for a final job without one)
  std::int64_t total = 0;
  std::int64_t due_now = 0;                       // pending with next_attempt_at <= now
  std::int64_t in_doubt = 0;  // attempts sent by runs that died before their answer was stored
};

// Whether any job is in a state, without counting.
struct WorkLeft {
  bool pending = false;
  bool leased = false;
  bool due_now = false;  // a pending job with next_attempt_at <= now
};

// The lease owner name of run `run_id` ("run-<id>"): how leases are tied to
// runs.
std::string lease_owner_of(RunId run_id);

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Adds `jobs` in batched transactions. A source that already has a job of
  // the same kind is skipped and counted by the state of its newest job,
  // unless `again` is true (then a new job is added and the old one keeps its
  // history, and the new job never takes an earlier answer for the same
  // content: no_reuse). A job with `rejected` is added failed at once. A source listed twice in `jobs` is added once (with `again`
  // too); the repeat counts as already_queued. New jobs are due at `now`, in
  // the order of `jobs`. On an error, the batches before it stay committed
  // (enqueueing the same list again skips them).
  virtual Result<EnqueueCounts> enqueue(std::span<const NewJob> jobs, bool again, UnixMillis now) = 0;

  // Leases up to `max_jobs` pending jobs due at `now`, oldest due first
  // (next_attempt_at, then id), to `owner` until `now + lease_millis`. Atomic
  // against other connections.
  // Lease times: PostgreSQL takes `now` from the database server's clock
  // (for lease_expires_at, in lease, renew_leases and
  // recover_expired_leases), so runners on hosts whose clocks disagree never
  // take each other's live leases; SQLite, on one host, uses `now`.
  virtual Result<std::vector<Job>> lease(int max_jobs, const std::string& owner, UnixMillis now,
                                 std::int64_t lease_millis) = 0;

  // Extends every lease held by `owner` to `now + lease_millis`.
  virtual Status renew_leases(const std::string& owner, UnixMillis now,
                              std::int64_t lease_millis) = 0;

  // Records `sent` as attempts of run `run_id` (0: no run) that have no
  // answer yet (finished_at NULL, disposition 'sent'), in one transaction;
  // returns their ids in the order of `sent`.
  virtual Result<std::vector<AttemptId>> record_sent(std::span<const SentAttempt> sent, RunId run_id) = 0;

  // Applies `settlements` of jobs leased by `owner`, with their attempts
  // (tagged with `run_id`; 0: no run), in one transaction. Settlements of
  // jobs no longer leased by `owner` leave the job alone (their count is
  // returned); their attempts are still recorded, since the request was sent.
  // A settlement whose attempt_id row was already completed (a replay of
  // unsaved results, see unsaved_results.h) changes nothing and counts as
  // ignored: applying the same settlement twice is harmless.
  //  - kDone / kFailed: the result columns (verify_score, image_id,
  //    request_id, api_status, reason, http_status) and finished_at are set;
  //    attempts + 1 when there is an outcome.
  //  - kRetryLater: attempts + 1; api_status, reason, http_status say why.
  //  - kThrottled: only next_attempt_at changes.
  //  - kRelease: only the state and the lease change.
  //  - kKeep: nothing changes on the job; only its attempt is completed.
  //  - decided_by kPreflight / kReused: the result columns as for kDone /
  //    kFailed with decided_by and reused_from, no attempt.
  // A final settlement with a content_hash stores it on the job.
  // An attempt's disposition is to_string(outcome.disposition()); its
  // latency_ms is finished_at - started_at.
  virtual Result<std::int64_t> settle(std::span<const Settlement> settlements, const std::string& owner,
                              RunId run_id, UnixMillis now) = 0;

  // What the store knows of content `content_hash` (SHA-256 hex):
  //  - when `want_answer`, the newest final job with that hash and
  //    `auto_rotate` whose answer is a verdict on the image alone
  //    (is_verdict_on_image), to be copied instead of paying again;
  //  - the newest image_id the server returned for that hash (either
  //    auto_rotate; answers of the API only, not copies) whose answer was
  //    stored at or after `image_id_not_before`; none when that is 0.
  // Index probes of jobs_content; no scan.
  virtual Result<ContentLookup> find_content(const std::string& content_hash, bool auto_rotate,
                                     bool want_answer, UnixMillis image_id_not_before) = 0;

  // Requests sent (attempts rows, whatever their answer) that started at or
  // after `since`: the daily budget's count. A range of attempts_started.
  virtual Result<std::int64_t> count_requests_since(UnixMillis since) = 0;

  // Marks run `run_id`'s attempts that were sent but never answered as
  // 'in_doubt' (the server may have counted them) and counts each as an
  // attempt of its job; returns how many.
  // REQUIRES: run `run_id` is dead (the caller holds the RunnerLock and the
  // run is not its own).
  virtual Result<std::int64_t> mark_in_doubt(RunId run_id) = 0;

  // Puts every job whose lease expired at or before `now` back to pending
  // (attempts unchanged); returns how many. PostgreSQL (many runners) also
  // reaps the runs that are gone: an unfinished run whose heartbeat
  // (RunLog::heartbeat) is older than its lease time has its unanswered
  // attempts marked in doubt (as mark_in_doubt), its leases released and is
  // marked crashed; their jobs count in the number returned.
  virtual Result<std::int64_t> recover_expired_leases(UnixMillis now) = 0;

  // Releases every lease held by `owner` (pending again, untouched).
  virtual Result<std::int64_t> release_all(const std::string& owner, UnixMillis now) = 0;

  // The counts from job_counts, and due_now = pending - pending not yet due
  // (a walk of the not-yet-due end of jobs_due: jobs waiting out a retry or
  // throttle delay, few next to the queue). One read snapshot; no scan of
  // the jobs table, so it answers in milliseconds at millions of jobs.
  virtual Result<QueueCounts> counts(UnixMillis now) = 0;

  // Whether anything is pending, leased, or due at `now`: three probes of
  // the first entry of a partial index, O(log n) even when every pending job
  // is not yet due (where counts() would walk them all). One read snapshot.
  virtual Result<WorkLeft> work_left(UnixMillis now) = 0;

};

}  // namespace lf
