-- claim_deliveries counts an institution's live leases through delivery_leases_institution_idx. A
-- lease row lives for one attempt, so between vacuums the index holds thousands of freed ones. Before
-- the table has statistics (a fresh install, the first minute after a start) the planner counts with
-- a bitmap scan, which must visit every freed lease each time and never marks one dead in the index:
-- a burst for one school made each claim cost ~8 ms (20,000 attempts: 608 µs of PostgreSQL each). A
-- plain index scan marks the freed ones dead as it meets them, so later counts skip them.
ALTER FUNCTION claim_deliveries(bigint[], int, int, int, text) SET enable_bitmapscan = off;
