-- 004: pay only for what counts. A path job's result is tied to the SHA-256
-- of the bytes the runner read (content_hash, set when the job is settled),
-- so identical content is verified once: later jobs with the same content
-- and auto_rotate copy the answer (decided_by 'reused', reused_from the job
-- that was answered), and content the API would reject is decided by the
-- client itself (decided_by 'preflight', no request, no attempt).

-- Who decided a final job's result: NULL for the API (every job before this
-- migration), 'preflight' (the spec's image rules, checked locally, nothing
-- sent), 'reused' (copied from job reused_from, same content, nothing sent).
ALTER TABLE jobs ADD COLUMN decided_by TEXT
  CHECK (decided_by IS NULL OR decided_by = 'preflight' OR decided_by = 'reused');
ALTER TABLE jobs ADD COLUMN reused_from INTEGER;
-- 1: verify for real, never take an earlier answer for the same content
-- (lfbatch enqueue --again). Identical files of one run still share a call.
ALTER TABLE jobs ADD COLUMN no_reuse INTEGER NOT NULL DEFAULT 0;

-- "Was this content answered before?" and "is there a recent image_id for
-- it?": one probe per prepared job. The index holds content_key, the first
-- 64 bits of the SHA-256 as an integer, not the 64-digit hash: every settled
-- path job inserts into it at a random place, and an entry a fifth the size
-- dirties that much fewer pages per commit (the lookup then compares the
-- whole hash on the few rows found). Partial: URL and file_id jobs, and jobs
-- not yet read, have no hash.
ALTER TABLE jobs ADD COLUMN content_key INTEGER;
CREATE INDEX jobs_content ON jobs (content_key) WHERE content_key IS NOT NULL;

-- The daily budget (max_requests_per_day) counts the requests sent since the
-- start of the day: a range at the end of this index.
CREATE INDEX attempts_started ON attempts (started_at);

-- What each run saved: jobs decided by pre-flight, jobs that took an earlier
-- or a concurrent answer for the same content, and uploads replaced by the
-- image_id of an earlier upload (file_id).
ALTER TABLE runs ADD COLUMN decided_locally INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN sent_by_image_id INTEGER NOT NULL DEFAULT 0;

-- The image_id an attempt sent in place of the file's bytes (file_id), when
-- the same content had been uploaded before; NULL for an upload, a file_url
-- or a file_id job.
ALTER TABLE attempts ADD COLUMN sent_image_id TEXT;
