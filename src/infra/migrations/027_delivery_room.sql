-- Room for new leases per institution (DELIVERY_PER_INSTITUTION less its live leases) for a processing
-- transaction that leases its messages' first attempts in the statement that queues them, so no claim
-- round trip follows its commit. It takes the advisory locks claim_deliveries takes, held until the
-- transaction ends, but only those free now: a processing write never waits here (a wait would queue
-- each batch behind another's commit). An institution whose lock is taken gets no room; its messages
-- are claimed after the commit as before. plpgsql: the count's snapshot is taken after the locks, so it
-- sees every lease committed before them.
CREATE FUNCTION delivery_room(p_oins text[], p_per_institution int)
RETURNS TABLE (oin text, free int) LANGUAGE plpgsql AS $$
DECLARE
  locked text[];
BEGIN
  SELECT array_agg(x.oin) INTO locked FROM (SELECT DISTINCT o AS oin FROM unnest(p_oins) o) x
  WHERE pg_try_advisory_xact_lock(hashtextextended('delivery:' || x.oin, 0));
  RETURN QUERY
  SELECT l.oin, (p_per_institution - (SELECT count(*) FROM delivery_leases d
                                      WHERE d.institution_oin = l.oin AND d.leased_until >= clock_timestamp()))::int
  FROM unnest(locked) AS l(oin);
END $$;
