-- Locks every number of the pupils a processing batch works on in one round trip (it took two reads of
-- pupil_links and a lock statement, each a round trip inside the transaction): links read before the
-- locks so one ordered statement takes both numbers of a pupil, then, after each round of locks, read
-- again, since a batch we waited for may have committed a link naming numbers the first read missed.
-- It also locks the running prior-education subscriptions on the numbers it locks (FOR UPDATE, as
-- processing did in a statement of its own), so a batch whose pupils have none needs no further read.
-- Returns the numbers it locked (`locked`), the links read after the locks (`onderwijsnummer`, `bsn`) and
-- the subscriptions it locked (`subscription_id`).
CREATE FUNCTION lock_pupils(p_numbers text[], p_loaded text[])
RETURNS TABLE (locked text, onderwijsnummer text, bsn text, subscription_id bigint) LANGUAGE plpgsql AS $$
DECLARE
  loaded text[] := coalesce(p_loaded, '{}');
  wanted text[];
  unlocked text[];
  link_onr text[];
  link_bsn text[];
BEGIN
  SELECT array_agg(n) INTO unlocked FROM unnest(p_numbers) n WHERE NOT n = ANY (loaded);
  SELECT p_numbers || coalesce(array_agg(n), '{}') INTO wanted
  FROM pupil_links l, unnest(ARRAY[l.onderwijsnummer, l.bsn]) n
  WHERE l.bsn = ANY (ARRAY(SELECT l2.bsn FROM pupil_links l2 WHERE l2.onderwijsnummer = ANY (unlocked)) || unlocked);
  LOOP
    SELECT array_agg(DISTINCT n) INTO unlocked FROM unnest(wanted) n WHERE NOT n = ANY (loaded);
    EXIT WHEN unlocked IS NULL;
    PERFORM pg_advisory_xact_lock(k)
    FROM (SELECT DISTINCT hashtextextended('pgn:' || n, 0) AS k FROM unnest(unlocked) n ORDER BY 1) locks;
    loaded := loaded || unlocked;
    RETURN QUERY SELECT n, NULL::text, NULL::text, NULL::bigint FROM unnest(unlocked) n;
    RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, s.id FROM prior_education_subscriptions s
      WHERE s.pgn = ANY (unlocked) AND s.ended_at IS NULL ORDER BY s.id FOR UPDATE;
    SELECT array_agg(l.onderwijsnummer), array_agg(l.bsn) INTO link_onr, link_bsn
    FROM pupil_links l
    WHERE l.bsn = ANY (ARRAY(SELECT l2.bsn FROM pupil_links l2 WHERE l2.onderwijsnummer = ANY (unlocked)) || unlocked);
    RETURN QUERY SELECT NULL::text, x.o, x.b, NULL::bigint FROM unnest(link_onr, link_bsn) AS x(o, b);
    wanted := coalesce(link_onr, '{}') || coalesce(link_bsn, '{}');
  END LOOP;
END $$;
