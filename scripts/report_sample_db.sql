-- A realistic-looking queue for the report's screenshot and benchmark
-- demos, generated with sqlite3 alone: :jobs jobs (set by the caller with
-- .parameter set :jobs N), ~86% scored (a genuine/impostor mix of scores),
-- ~10% failed with the spec's reasons, the rest pending; three runs, with
-- throttled and retried attempts; what schema 004 saves (half the corrupt
-- and undersized files failed by pre-flight at enqueue, every 25th done job
-- a reused answer, every 40th sent by image_id, some of those ids expired).
-- Run on a database made by `lfbatch init`.
INSERT INTO runs (id, started_at, finished_at, host, ended_how, ended_detail) VALUES
  (1, 1764000000000, 1764001800000, 'batch-01', 'out_of_quota', 'OUT_OF_QUOTA after 40% of the queue'),
  (2, 1764090000000, 1764092400000, 'batch-01', 'completed', NULL),
  (3, 1764180000000, 1764180600000, 'batch-02', 'interrupted', 'SIGTERM');

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :jobs),
r AS MATERIALIZED (SELECT i, abs(random()) % 1000 AS a, abs(random()) % 1000 AS b, abs(random()) % 100 AS k FROM n)
INSERT INTO jobs (id, source_kind, source, tag, state, attempts, verify_score, image_id, request_id,
                  api_status, reason, http_status, created_at, updated_at, finished_at)
SELECT i,
       CASE WHEN i % 10 = 0 THEN 'url' ELSE 'path' END,
       CASE WHEN i % 10 = 0 THEN 'https://img.example.com/kyc/' || i || '.jpg'
            ELSE '/archive/2025/' || (i % 365) || '/客户_' || i || '.jpg' END,
       CASE WHEN i % 3 = 0 THEN 'backfill-2024' ELSE 'nightly' END,
       CASE WHEN k < 86 THEN 'done' WHEN k < 96 THEN 'failed' ELSE 'pending' END,
       CASE WHEN k < 96 THEN 1 + (k % 7 = 0) ELSE 0 END,
       CASE WHEN k < 86 THEN
         CASE WHEN k < 80 THEN 0.55 + 0.45 * ((a + b) / 2000.0) ELSE 0.45 * ((a + b) / 2000.0) END END,
       CASE WHEN k < 86 THEN printf('%032x', i * 2654435761) END,
       CASE WHEN k < 96 THEN 'TID' || printf('%032x', i * 40503) END,
       CASE WHEN k < 86 THEN 'OK' WHEN k < 91 THEN 'FACE_DETECTION_FAILED' WHEN k < 93 THEN 'CORRUPT_IMAGE'
            WHEN k < 95 THEN 'INVALID_IMAGE_FORMAT_OR_SIZE' WHEN k < 96 THEN 'DOWNLOAD_ERROR' END,
       CASE WHEN k < 86 THEN NULL WHEN k < 89 THEN 'no face detected' WHEN k < 90 THEN 'no two faces detected'
            WHEN k < 91 THEN 'too many faces' END,
       CASE WHEN k < 86 THEN 200 WHEN k < 96 THEN 400 END,
       1763990000000 + i, 1763990000000 + i,
       CASE WHEN k < 96 THEN
         CASE WHEN i * 10 < :jobs * 4 THEN 1764000000000 + i * 1800000 / (:jobs * 4 / 10)
              WHEN i * 10 < :jobs * 9 THEN 1764090000000 + (i - :jobs * 4 / 10) * 2400000 / (:jobs / 2)
              ELSE 1764180000000 + (i - :jobs * 9 / 10) * 600000 / (:jobs / 10) END END
FROM r;

-- Pre-flight at enqueue (no run, no request) and reused answers (no request).
UPDATE jobs SET decided_by = 'preflight', attempts = 0, request_id = NULL, http_status = NULL,
                finished_at = created_at
 WHERE state = 'failed' AND api_status IN ('CORRUPT_IMAGE', 'INVALID_IMAGE_FORMAT_OR_SIZE') AND id % 2 = 0;
UPDATE jobs SET decided_by = 'reused', reused_from = id - 1, attempts = 0 WHERE state = 'done' AND id % 25 = 1;

-- One answered attempt per finished job, a 500 before it for some, and a
-- throttled one for every 20th.
INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status, reason, request_id,
                      verify_score, image_id, latency_ms, disposition)
SELECT id, CASE WHEN finished_at < 1764090000000 THEN 1 WHEN finished_at < 1764180000000 THEN 2 ELSE 3 END,
       finished_at - 420, finished_at, http_status, api_status, reason, request_id, verify_score, image_id, 420,
       CASE state WHEN 'done' THEN 'done' ELSE 'permanent_failure' END
FROM jobs WHERE finished_at IS NOT NULL AND decided_by IS NULL;
INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status, request_id, latency_ms,
                      disposition)
SELECT id, CASE WHEN finished_at < 1764090000000 THEN 1 WHEN finished_at < 1764180000000 THEN 2 ELSE 3 END,
       finished_at - 2000, finished_at - 1900, 500, 'INTERNAL_ERROR', 'TIDretry', 100, 'retry_later'
FROM jobs WHERE attempts = 2;
INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status, latency_ms, disposition)
SELECT id, CASE WHEN finished_at < 1764090000000 THEN 1 WHEN finished_at < 1764180000000 THEN 2 ELSE 3 END,
       finished_at - 3000, finished_at - 2990, 403, 'RATE_LIMIT_EXCEEDED', 10, 'throttled'
FROM jobs WHERE finished_at IS NOT NULL AND decided_by IS NULL AND id % 20 = 0;

-- Every 40th answered path job sent an earlier upload's image_id; for one in
-- 8 of those the id had expired (IMAGE_ID_NOT_EXIST) and the bytes went up.
UPDATE attempts SET sent_image_id = printf('%032x', job_id * 7919)
 WHERE disposition IN ('done', 'permanent_failure') AND job_id % 40 = 3 AND job_id % 10 <> 0;
INSERT INTO attempts (job_id, run_id, started_at, finished_at, http_status, api_status, reason, request_id,
                      latency_ms, disposition, sent_image_id)
SELECT id, CASE WHEN finished_at < 1764090000000 THEN 1 WHEN finished_at < 1764180000000 THEN 2 ELSE 3 END,
       finished_at - 1200, finished_at - 1000, 400, 'IMAGE_ID_NOT_EXIST', 'image_id not exist', 'TIDexpired', 200,
       'image_id_expired', printf('%032x', id * 104729)
FROM jobs WHERE finished_at IS NOT NULL AND decided_by IS NULL AND id % 320 = 43;

-- The runs' counters, as the runner keeps them.
UPDATE runs SET
  reused = (SELECT count(*) FROM jobs j WHERE j.decided_by = 'reused' AND
            CASE WHEN j.finished_at < 1764090000000 THEN 1 WHEN j.finished_at < 1764180000000 THEN 2 ELSE 3 END
            = runs.id),
  sent_by_image_id = (SELECT count(*) FROM attempts a WHERE a.run_id = runs.id AND a.sent_image_id IS NOT NULL);
