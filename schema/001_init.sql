-- 001: the queue (jobs), every request sent (attempts), every `lfbatch run` (runs).
-- Timestamps are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  host          TEXT,
  pid           INTEGER,
  settings      TEXT,              -- JSON of the run's settings, never the secret
  ended_how     TEXT,              -- completed, out_of_quota, interrupted, deadline, budget, aborted_credentials, aborted_configuration, crashed
  ended_detail  TEXT,
  requests      INTEGER NOT NULL DEFAULT 0,
  done          INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  retried       INTEGER NOT NULL DEFAULT 0,
  throttled     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY,
  -- The CHECKs spell out OR chains: SQLite evaluates `x IN (...)` in a CHECK
  -- through a temporary table per row, which costs ~1 us per inserted row.
  source_kind       TEXT NOT NULL
                    CHECK (source_kind = 'path' OR source_kind = 'url' OR source_kind = 'file_id'),
  source            TEXT NOT NULL,
  auto_rotate       INTEGER NOT NULL DEFAULT 0,
  tag               TEXT,
  state             TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state = 'pending' OR state = 'leased' OR state = 'done' OR state = 'failed'),
  attempts          INTEGER NOT NULL DEFAULT 0,   -- requests sent, throttled ones excluded
  next_attempt_at   INTEGER NOT NULL DEFAULT 0,
  lease_owner       TEXT,
  lease_expires_at  INTEGER,
  -- the last result
  verify_score      REAL,
  image_id          TEXT,
  request_id        TEXT,
  api_status        TEXT,    -- the API's status, or a transport failure code
  reason            TEXT,
  http_status       INTEGER,
  content_hash      TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  finished_at       INTEGER
);

-- "Lease the next N due jobs" walks this index: O(log n + N) at any queue size.
CREATE INDEX jobs_due ON jobs (next_attempt_at, id) WHERE state = 'pending';
-- Recovering expired leases.
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'leased';
-- Renewing and releasing one runner's leases.
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE state = 'leased';
-- "Is this source already queued?" at enqueue time.
CREATE INDEX jobs_source ON jobs (source, source_kind);

CREATE TABLE attempts (
  id            INTEGER PRIMARY KEY,
  job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_id        INTEGER REFERENCES runs (id),
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER NOT NULL,
  http_status   INTEGER,
  api_status    TEXT,      -- the API's status, or a transport failure code
  reason        TEXT,
  request_id    TEXT,
  verify_score  REAL,
  image_id      TEXT,
  latency_ms    REAL,
  disposition   TEXT       -- what the runner did: done, permanent_failure, retry_later, throttled, ...
);

CREATE INDEX attempts_job ON attempts (job_id);
CREATE INDEX attempts_run ON attempts (run_id);
