-- 003: exact counts of jobs by state and, for done and failed jobs, by their
-- last api_status, so `lfbatch run` and `lfbatch status` never count the
-- jobs table (seconds at millions of jobs). Triggers keep job_counts exact in
-- the transaction that changes jobs, whoever writes them (lfbatch, sqlite3).
-- The key of a job: (state, api_status) for done and failed jobs ('' for a
-- final job without a status), (state, '') for pending and leased ones.
-- A key whose jobs are gone stays, with n = 0.
-- lfbatch enqueue inserts with its connection's triggers off and counts its
-- rows itself (src/store/job_queue.cc): an INSERT trigger added on jobs must
-- be mirrored there.

CREATE TABLE job_counts (
  state       TEXT NOT NULL,
  api_status  TEXT NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (state, api_status)
) WITHOUT ROWID;

-- One scan of the existing jobs, once, while migrating.
INSERT INTO job_counts (state, api_status, n)
  SELECT state,
         CASE WHEN state = 'done' OR state = 'failed' THEN coalesce(api_status, '') ELSE '' END,
         count(*)
  FROM jobs GROUP BY 1, 2;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs
BEGIN
  INSERT INTO job_counts (state, api_status, n)
    VALUES (NEW.state, CASE WHEN NEW.state = 'done' OR NEW.state = 'failed'
                            THEN coalesce(NEW.api_status, '') ELSE '' END, 1)
    ON CONFLICT (state, api_status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs
BEGIN
  UPDATE job_counts SET n = n - 1
   WHERE state = OLD.state
     AND api_status = CASE WHEN OLD.state = 'done' OR OLD.state = 'failed'
                           THEN coalesce(OLD.api_status, '') ELSE '' END;
END;

-- Fires only when a job's key changes: a lease, a settlement, a recovery, a
-- release, a re-queue; not a renewal nor a retry's new api_status.
CREATE TRIGGER jobs_count_update AFTER UPDATE OF state, api_status ON jobs
  WHEN OLD.state IS NOT NEW.state
    OR ((NEW.state = 'done' OR NEW.state = 'failed')
        AND coalesce(OLD.api_status, '') IS NOT coalesce(NEW.api_status, ''))
BEGIN
  UPDATE job_counts SET n = n - 1
   WHERE state = OLD.state
     AND api_status = CASE WHEN OLD.state = 'done' OR OLD.state = 'failed'
                           THEN coalesce(OLD.api_status, '') ELSE '' END;
  INSERT INTO job_counts (state, api_status, n)
    VALUES (NEW.state, CASE WHEN NEW.state = 'done' OR NEW.state = 'failed'
                            THEN coalesce(NEW.api_status, '') ELSE '' END, 1)
    ON CONFLICT (state, api_status) DO UPDATE SET n = n + 1;
END;
