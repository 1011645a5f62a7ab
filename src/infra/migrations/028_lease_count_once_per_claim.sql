-- claim_deliveries counts an institution's live leases once per claim, not once per message it asks
-- for: the `room` CTE, read once, was inlined into the join, whose filter ran the count for every
-- candidate. A claim of 25 messages of one school counted its leases 25 times: 0.75 ms, against 0.32 ms.
-- Migration 027 was withdrawn before release; replacing the function also drops the setting it gave it.
CREATE OR REPLACE FUNCTION claim_deliveries(p_ids bigint[], p_limit int, p_per_institution int, p_lease_ms int, p_owner text)
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
  ), room AS MATERIALIZED (
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
