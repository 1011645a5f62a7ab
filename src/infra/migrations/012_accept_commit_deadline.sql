-- A commit-time deadline for the accept statement, so that a Server.DK0051 stays true. A statement the
-- broker gave up on may still sit unread in the server's socket buffer (a stopped or stalled server)
-- and run, and commit, long after the sender was answered. Each accept statement upserts its deadline
-- here (one row per backend: no table growth, no WAL, no contention between connections), and the
-- deferred trigger below rolls the whole transaction back when it commits after that deadline.
CREATE UNLOGGED TABLE accept_deadlines (
  backend_pid integer PRIMARY KEY,
  deadline    timestamptz
);

-- Runs at commit. The shared advisory lock is held until the transaction has ended, so the broker's
-- outcome check (src/accept/accept-outcome.ts), which takes it exclusively once the deadline has passed
-- on this server's clock, waits for any transaction that passed this check and then sees it committed
-- or gone; a transaction that checks later sees the deadline passed. The two-integer key lives apart
-- from the single-bigint keys used elsewhere.
CREATE FUNCTION accept_commit_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1112691534, 51);
  IF NEW.deadline IS NOT NULL AND clock_timestamp() > NEW.deadline THEN
    RAISE EXCEPTION 'accept deadline % passed before commit', NEW.deadline USING ERRCODE = 'BB051';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER accept_commit_deadline AFTER INSERT OR UPDATE ON accept_deadlines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accept_commit_deadline();
