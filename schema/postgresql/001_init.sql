-- PostgreSQL 001: the queue of schema/001..004 (SQLite) in one step, for many
-- runners on many hosts sharing one database. Same tables and columns, same
-- meaning; what differs is said where it differs.
-- Timestamps are integer milliseconds since the Unix epoch, UTC. Lease times
-- (lease_expires_at, runs.alive_at) are the database server's clock, never a
-- runner's, so the runners' hosts need not agree on the time.

-- The server's clock in the unit of every timestamp: lease times are taken
-- from it.
CREATE FUNCTION lfbatch_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS
  $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;

CREATE TABLE runs (
  id                BIGSERIAL PRIMARY KEY,
  started_at        BIGINT NOT NULL,
  finished_at       BIGINT,
  host              TEXT,
  pid               BIGINT,
  settings          TEXT,              -- JSON of the run's settings, never the secret
  ended_how         TEXT,              -- completed, out_of_quota, ..., crashed
  ended_detail      TEXT,
  requests          BIGINT NOT NULL DEFAULT 0,
  done              BIGINT NOT NULL DEFAULT 0,
  failed            BIGINT NOT NULL DEFAULT 0,
  retried           BIGINT NOT NULL DEFAULT 0,
  throttled         BIGINT NOT NULL DEFAULT 0,
  decided_locally   BIGINT NOT NULL DEFAULT 0,
  reused            BIGINT NOT NULL DEFAULT 0,
  sent_by_image_id  BIGINT NOT NULL DEFAULT 0,
  -- Only here: the run's heartbeat, renewed with its leases. An unfinished
  -- run whose heartbeat is older than its lease time is dead: any live
  -- runner marks it crashed and its unanswered attempts in doubt.
  alive_at          BIGINT,
  lease_millis      BIGINT
);
CREATE INDEX runs_unfinished ON runs (alive_at) WHERE finished_at IS NULL;

CREATE TABLE jobs (
  id                BIGSERIAL PRIMARY KEY,
  source_kind       TEXT NOT NULL CHECK (source_kind IN ('path', 'url', 'file_id')),
  -- A source that is not valid UTF-8 (a file name in another encoding) is
  -- stored as '\x' and the hex of its bytes: no real source starts with a
  -- backslash (absolute paths start with '/'), and PostgreSQL's text must be
  -- valid in the database encoding.
  source            TEXT NOT NULL,
  auto_rotate       INTEGER NOT NULL DEFAULT 0,
  tag               TEXT,
  state             TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'leased', 'done', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   BIGINT NOT NULL DEFAULT 0,
  lease_owner       TEXT,
  lease_expires_at  BIGINT,
  verify_score      DOUBLE PRECISION,
  image_id          TEXT,
  request_id        TEXT,
  api_status        TEXT,
  reason            TEXT,
  http_status       INTEGER,
  content_hash      TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  finished_at       BIGINT,
  decided_by        TEXT CHECK (decided_by IS NULL OR decided_by IN ('preflight', 'reused')),
  reused_from       BIGINT,
  no_reuse          INTEGER NOT NULL DEFAULT 0,
  content_key       BIGINT
);

-- Leasing walks jobs_due with FOR UPDATE SKIP LOCKED: runners leasing at the
-- same moment skip each other's rows instead of queueing on them.
CREATE INDEX jobs_due ON jobs (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'leased';
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE state = 'leased';
CREATE INDEX jobs_source ON jobs (source, source_kind);
CREATE INDEX jobs_content ON jobs (content_key) WHERE content_key IS NOT NULL;

CREATE TABLE attempts (
  id             BIGSERIAL PRIMARY KEY,
  job_id         BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_id         BIGINT REFERENCES runs (id),
  started_at     BIGINT NOT NULL,
  finished_at    BIGINT,     -- NULL: no answer (yet): disposition 'sent' or 'in_doubt'
  http_status    INTEGER,
  api_status     TEXT,
  reason         TEXT,
  request_id     TEXT,
  verify_score   DOUBLE PRECISION,
  image_id       TEXT,
  latency_ms     DOUBLE PRECISION,
  disposition    TEXT,
  sent_image_id  TEXT
);
CREATE INDEX attempts_job ON attempts (job_id);
CREATE INDEX attempts_run ON attempts (run_id);
CREATE INDEX attempts_unanswered ON attempts (disposition, run_id) WHERE finished_at IS NULL;
CREATE INDEX attempts_started ON attempts (started_at);

-- Exact counts by (state, api_status) without counting jobs, as SQLite's
-- job_counts, but append-only: every change of a job's key inserts a -1 row
-- for the old key and a +1 row for the new one, and a count is the sum of a
-- key's rows. Runners settling at once never update the same row, so they
-- never wait on each other's locks nor deadlock on the counts; any runner
-- folds the rows into one per key now and then (fold_job_counts()).
CREATE TABLE job_counts (
  state       TEXT NOT NULL,
  api_status  TEXT NOT NULL,
  n           BIGINT NOT NULL
);
CREATE INDEX job_counts_key ON job_counts (state, api_status);

CREATE FUNCTION job_count_key_status(state TEXT, api_status TEXT) RETURNS TEXT
  LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE WHEN state IN ('done', 'failed') THEN coalesce(api_status, '') ELSE '' END $$;

CREATE FUNCTION jobs_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO job_counts VALUES (NEW.state, job_count_key_status(NEW.state, NEW.api_status), 1);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO job_counts VALUES (OLD.state, job_count_key_status(OLD.state, OLD.api_status), -1);
  ELSIF OLD.state IS DISTINCT FROM NEW.state
     OR job_count_key_status(OLD.state, OLD.api_status)
        IS DISTINCT FROM job_count_key_status(NEW.state, NEW.api_status) THEN
    INSERT INTO job_counts VALUES
      (OLD.state, job_count_key_status(OLD.state, OLD.api_status), -1),
      (NEW.state, job_count_key_status(NEW.state, NEW.api_status), 1);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_count AFTER INSERT OR DELETE OR UPDATE OF state, api_status ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_count_changes();

-- Folds job_counts into one row per key. One folder at a time (the advisory
-- lock; a second caller returns at once); a runner settling meanwhile only
-- appends rows the fold does not see, so nothing is counted twice.
CREATE FUNCTION fold_job_counts() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('lfbatch.fold_job_counts')) THEN
    RETURN;
  END IF;
  WITH gone AS (DELETE FROM job_counts RETURNING state, api_status, n)
  INSERT INTO job_counts
    SELECT state, api_status, sum(n) FROM gone GROUP BY state, api_status HAVING sum(n) <> 0;
END $$;

-- What the runners of one account share (one row per API endpoint and
-- api_id; never the secret): the rate they send at together, the bucket of
-- tokens they draw on, and what one runner learnt that binds all (a
-- throttle, a Retry-After, the quota running out).
--
-- One runner leads (it holds the session advisory lock
-- pg_try_advisory_lock(hashtext('lfbatch.account_limits ' || account)) on
-- its connection, which the server drops with that connection): every tick
-- it runs its rate controller on the answers the runners reported and adds
-- what the controller grants to `tokens`, and publishes the controller's
-- state (rate, last_limit, last_decrease_at) for a successor to resume
-- from. Every runner, the leader too, takes a few tokens every tick in the
-- same UPDATE that adds its answers to the counters. Invariants: tokens >= 0;
-- drawn <= minted (a token is taken at most once).
CREATE TABLE account_limits (
  account            TEXT PRIMARY KEY,
  -- The leader's controller as it last published it.
  rate               DOUBLE PRECISION NOT NULL DEFAULT 0,  -- req/s for all runners together; 0 = none yet / unlimited
  last_limit         DOUBLE PRECISION NOT NULL DEFAULT 0,  -- the limit last found (CUBIC's Wmax); 0 = never throttled
  last_decrease_at   BIGINT,                               -- server clock, ms: the leader's last decrease
  leader             TEXT,                                 -- who leads ("host pid n"), for logs
  leader_since       BIGINT,
  refilled_at        BIGINT,                               -- the leader's last tick: its heartbeat
  -- The shared bucket.
  tokens             BIGINT NOT NULL DEFAULT 0 CHECK (tokens >= 0),
  bucket             BIGINT NOT NULL DEFAULT 0,            -- its size, as the leader last set it
  minted             BIGINT NOT NULL DEFAULT 0,            -- tokens ever added (net of a shrinking bucket)
  drawn              BIGINT NOT NULL DEFAULT 0,            -- tokens ever taken
  last_drawn         BIGINT NOT NULL DEFAULT 0,            -- what the latest draw took (read by its RETURNING)
  -- The runners' answers, totals since the row was made; the leader reads the increase.
  admitted           BIGINT NOT NULL DEFAULT 0,
  throttled          BIGINT NOT NULL DEFAULT 0,            -- only requests sent at or after last_decrease_at
  throttled_at       BIGINT,                               -- last RATE_LIMIT_EXCEEDED any runner saw
  paused_until       BIGINT,                               -- Retry-After: no runner sends before it
  out_of_quota_at    BIGINT,                               -- last OUT_OF_QUOTA any runner saw; NULL: quota left
  out_of_quota_until BIGINT,                               -- --on-quota wait: when to try again
  updated_at         BIGINT NOT NULL
);
