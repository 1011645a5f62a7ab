-- PostgreSQL alone says where each message stands; queue jobs only wake workers up. A lost, failed or
-- duplicated job can delay a message, never strand it: sweepers and pollers read these columns only.

-- Processing: a row waits (failed_at NULL) or is in the processing error queue (failed_at set, with
-- the reason). next_attempt_at is when a sweeper may wake it up again; each wake-up moves it on.
ALTER TABLE processing_outbox
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN failed_at timestamptz,
  ADD COLUMN failure text;
CREATE INDEX processing_outbox_due_idx ON processing_outbox (next_attempt_at) WHERE failed_at IS NULL;
CREATE INDEX processing_outbox_failed_idx ON processing_outbox (message_id) WHERE failed_at IS NOT NULL;

-- Delivery: a pending message is due at next_attempt_at (its retry's backoff over, or a second after
-- it was queued: the process that queued it makes the first attempt unless it cannot). Pollers of
-- every process find due messages through this index, never walking the ones just queued.
ALTER TABLE outbound_messages
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- attempts made before the last replay: a replayed message gets a fresh set of retries
  ADD COLUMN replayed_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbound_messages ALTER COLUMN next_attempt_at SET DEFAULT now() + interval '1 second';
DROP INDEX outbound_messages_pending_idx;
CREATE INDEX outbound_messages_due_idx ON outbound_messages (next_attempt_at) WHERE status = 'pending';

-- A message being attempted holds a lease: one attempt at a time across processes, and at most
-- DELIVERY_PER_INSTITUTION live leases per institution. A killed process's leases expire; the next
-- claim takes an expired lease over. Unlogged: a lease is worth nothing after a crash of PostgreSQL
-- (every attempt under way then has failed to record), and a claim that writes no WAL commits
-- without waiting for a flush (bench:pipeline: the claim's cost per outbound message 87 -> 55 µs).
-- Rows come and go with every attempt: vacuumed early, so the per-institution counts never wade
-- through dead rows.
CREATE UNLOGGED TABLE delivery_leases (
  outbound_id     bigint PRIMARY KEY,
  institution_oin text NOT NULL,
  owner           text NOT NULL,
  leased_until    timestamptz NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX delivery_leases_institution_idx ON delivery_leases (institution_oin);

-- Leases pending messages for attempts: the given ones (p_ids), or those due (p_ids NULL; messages
-- of paused institutions and of those whose leases are all taken are passed over, so they starve
-- no one). Live leases are counted per institution under an advisory lock, so the limit holds across
-- processes; plpgsql gives each statement a fresh snapshot, so the count sees every lease committed
-- before, and a message delivered meanwhile is no longer pending.
CREATE FUNCTION claim_deliveries(p_ids bigint[], p_limit int, p_per_institution int, p_lease_ms int, p_owner text)
RETURNS TABLE (leased_id bigint) LANGUAGE plpgsql AS $$
DECLARE
  candidates bigint[] := p_ids;
BEGIN
  IF p_ids IS NULL THEN
    -- At most p_per_institution of one institution: a school with a large backlog (a resume after a
    -- long pause) does not fill the batch and hold up the others' retries.
    SELECT array_agg(d.id) INTO candidates FROM (
      SELECT e.id FROM (
        SELECT o.id, o.next_attempt_at, row_number() OVER (PARTITION BY o.institution_oin ORDER BY o.next_attempt_at) AS position
        FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin
        WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND NOT i.paused
          AND NOT EXISTS (SELECT 1 FROM delivery_leases l WHERE l.outbound_id = o.id AND l.leased_until >= now())
          AND o.institution_oin NOT IN (SELECT l.institution_oin FROM delivery_leases l WHERE l.leased_until >= now()
                                        GROUP BY l.institution_oin HAVING count(*) >= p_per_institution)) e
      WHERE e.position <= p_per_institution
      ORDER BY e.next_attempt_at LIMIT p_limit) d;
  END IF;
  IF candidates IS NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('delivery:' || x.oin, 0)) FROM (
    SELECT DISTINCT o.institution_oin AS oin FROM outbound_messages o
    WHERE o.id = ANY (candidates) AND (o.status = 'pending') IS TRUE ORDER BY 1) x;
  RETURN QUERY
  WITH candidate AS (
    SELECT o.id, o.institution_oin, row_number() OVER (PARTITION BY o.institution_oin ORDER BY o.next_attempt_at, o.id) AS position
    FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin
    WHERE o.id = ANY (candidates) AND (o.status = 'pending') IS TRUE AND NOT i.paused
      AND NOT EXISTS (SELECT 1 FROM delivery_leases l WHERE l.outbound_id = o.id AND l.leased_until >= now())
      -- Checked again after the locks: offered ids only while never attempted (a poller may have made
      -- the first attempt and set a retry's back-off), due ones only while still due.
      AND (CASE WHEN p_ids IS NULL THEN o.next_attempt_at <= now() ELSE o.attempts = o.replayed_attempts END)
  ), room AS (
    SELECT x.oin, p_per_institution - (SELECT count(*) FROM delivery_leases l WHERE l.institution_oin = x.oin AND l.leased_until >= now()) AS free
    FROM (SELECT DISTINCT c.institution_oin AS oin FROM candidate c) x
  )
  INSERT INTO delivery_leases AS l (outbound_id, institution_oin, owner, leased_until)
  SELECT c.id, c.institution_oin, p_owner, now() + make_interval(secs => p_lease_ms / 1000.0)
  FROM candidate c JOIN room r ON r.oin = c.institution_oin WHERE c.position <= r.free
  ON CONFLICT ON CONSTRAINT delivery_leases_pkey DO UPDATE SET owner = EXCLUDED.owner, leased_until = EXCLUDED.leased_until
    WHERE l.leased_until < now()
  RETURNING l.outbound_id;
  IF p_ids IS NULL THEN
    -- Pollers tidy up after dead processes (after the claim, so the locks come in one order).
    DELETE FROM delivery_leases l WHERE l.leased_until < now() - interval '1 minute';
  END IF;
END $$;
