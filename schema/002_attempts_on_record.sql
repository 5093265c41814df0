-- 002: every call on record. An attempt row is committed before its request
-- leaves, with finished_at NULL and disposition 'sent', and completed when the
-- answer comes. A run that dies leaves such rows behind: the next run marks
-- them 'in_doubt' (the server may have counted them) and they stay unanswered.
-- SQLite cannot drop a NOT NULL constraint in place, so the table is rebuilt.

CREATE TABLE attempts_002 (
  id            INTEGER PRIMARY KEY,
  job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_id        INTEGER REFERENCES runs (id),
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,   -- NULL: no answer (yet): disposition 'sent' or 'in_doubt'
  http_status   INTEGER,
  api_status    TEXT,      -- the API's status, or a transport failure code
  reason        TEXT,
  request_id    TEXT,
  verify_score  REAL,
  image_id      TEXT,
  latency_ms    REAL,
  disposition   TEXT       -- what the runner did: done, permanent_failure, retry_later,
                           -- throttled, ...; 'sent' while in flight, 'in_doubt' when the
                           -- run died before the answer was stored
);

INSERT INTO attempts_002 SELECT id, job_id, run_id, started_at, finished_at, http_status,
  api_status, reason, request_id, verify_score, image_id, latency_ms, disposition FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_002 RENAME TO attempts;

CREATE INDEX attempts_job ON attempts (job_id);
CREATE INDEX attempts_run ON attempts (run_id);
-- The unanswered attempts (a run's in-flight ones; the in-doubt ones): few,
-- found without a scan at start-up and by status.
CREATE INDEX attempts_unanswered ON attempts (disposition, run_id) WHERE finished_at IS NULL;
