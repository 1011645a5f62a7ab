/** claim_deliveries against its own database (no delivery process running): who gets a lease, and who not. */
import { LeaseVacuum } from '../../src/delivery/lease-vacuum.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { createLogger } from '../../src/infra/log.js';
import { migrate } from '../../src/infra/migrate.js';
import { claimDeliveries, commitLeasing, recordAttempts } from '../../src/store/outbound.repo.js';
import { createTestDatabase } from '../support/services.js';

const oinOf = (brin: string): string => `00000007000${brin}00000`;
const terms = { owner: 'test', perInstitution: 2, leaseMs: 60_000, handoffMs: 1000 };

describe('claim_deliveries', () => {
  let pool: Pool;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    pool = createPool(databaseUrl, 4);
    await migrate(pool);
    for (const brin of ['71AA', '71BB', '71CC']) {
      await pool.query(
        "INSERT INTO institutions (oin, name, brins, endpoint_url) VALUES ($1, $2, ARRAY[$2], 'http://127.0.0.1:9/')",
        [oinOf(brin), brin],
      );
    }
  });
  afterAll(async () => {
    await pool.end();
  });

  /** Pending messages for an institution, due this long ago. */
  async function pending(brin: string, count: number, dueSecondsAgo: number): Promise<number[]> {
    const rows = await pool.query<{ id: number }>(
      `INSERT INTO outbound_messages (institution_oin, operation, wsa_message_id, document_id, body_xml, next_attempt_at)
       SELECT $1, 'terugkoppelenInschrijvingVO', gen_random_uuid(), gen_random_uuid(), '<x/>', now() - make_interval(secs => $2 + g)
       FROM generate_series(1, $3) g RETURNING id`,
      [oinOf(brin), dueSecondsAgo, count],
    );
    return rows.rows.map((r) => r.id).sort((a, b) => a - b);
  }

  test("a poll takes a few of each institution: one school's backlog does not fill the batch", async () => {
    const backlog = await pending('71AA', 50, 3600); // due long before the other school's
    const [other] = await pending('71BB', 1, 10);
    const leased = await claimDeliveries(pool, null, 10, terms);
    expect(leased).toContain(other);
    expect(leased.filter((id) => backlog.includes(id))).toHaveLength(2); // its limit, not the batch
    await pool.query('DELETE FROM delivery_leases');
    await pool.query("UPDATE outbound_messages SET status = 'purged'");
  });

  /** Entries read so far in a lease index (by default the one a claim counts an institution's leases in); `one` is a pool of one connection, whose statistics are flushed on demand. */
  async function leaseIndexEntriesRead(one: Pool, index = 'delivery_leases_institution_idx'): Promise<number> {
    await one.query('SELECT pg_stat_force_next_flush()');
    const result = await one.query<{ n: string }>(
      'SELECT idx_tup_read AS n FROM pg_stat_user_indexes WHERE indexrelname = $1',
      [index],
    );
    return Number(result.rows[0]!.n);
  }

  test("a claim counts an institution's live leases once, not once for every message it asks for", async () => {
    const one = createPool(databaseUrl, 1, { plans: 'key-lookups' }); // as the deliverer's pool plans
    try {
      const ids = await pending('71AA', 60, 5);
      const wide = { ...terms, perInstitution: 100 };
      expect(await claimDeliveries(one, ids.slice(0, 40), 40, wide)).toHaveLength(40);
      const before = await leaseIndexEntriesRead(one);
      expect(await claimDeliveries(one, ids.slice(40), 20, wide)).toHaveLength(20);
      // Its ~40 live leases once; counted for each of the 20 asked for, it read 20 times as many.
      expect((await leaseIndexEntriesRead(one)) - before).toBeLessThan(100);
    } finally {
      await pool.query('DELETE FROM delivery_leases');
      await pool.query("UPDATE outbound_messages SET status = 'purged'");
      await one.end();
    }
  });

  test('a record frees the leases of its own attempts by key: it does not read every live lease', async () => {
    const one = createPool(databaseUrl, 1, { plans: 'key-lookups' }); // as the deliverer's pool plans
    const attempt = (outboundId: number) => ({
      outboundId,
      startedAt: new Date(),
      endpoint: 'http://127.0.0.1:9/',
      latencyMs: 1,
      outcome: 'delivered' as const,
      status: 'delivered' as const,
    });
    try {
      const ids = await pending('71AA', 226, 5);
      // As a busy day and the lease vacuum leave the table: many pages, which PostgreSQL counts as nearly empty.
      await pool.query(
        "INSERT INTO delivery_leases (outbound_id, institution_oin, owner, leased_until) SELECT -g, $1, 'gone', now() FROM generate_series(1, 5000) g",
        [oinOf('71AA')],
      );
      await pool.query('DELETE FROM delivery_leases');
      await pool.query('VACUUM (TRUNCATE false) delivery_leases');
      expect(await claimDeliveries(one, ids, 226, { ...terms, perInstitution: 300 })).toHaveLength(226);
      // Six records first: from then on the connection runs the statement's generic plan, as a deliverer's does.
      for (const id of ids.slice(220)) await recordAttempts(one, [attempt(id)], terms.owner);
      const before = await leaseIndexEntriesRead(one, 'delivery_leases_pkey');
      const attempted = ids.slice(0, 20);
      await recordAttempts(one, attempted.map(attempt), terms.owner);
      // The 20 it frees; a scan of the whole index read all 220 live leases.
      expect((await leaseIndexEntriesRead(one, 'delivery_leases_pkey')) - before).toBeLessThan(50);
      // Its cached plan meets each attempt with its own row only: a join filter compared every attempt with every other.
      const client = await one.connect();
      try {
        const [statement] = (
          await client.query<{ statement: string }>(
            "SELECT statement FROM pg_prepared_statements WHERE name = 'delivery-record'",
          )
        ).rows;
        const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (GENERIC_PLAN) ${statement!.statement}`);
        expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).not.toMatch(/Join Filter/);
      } finally {
        client.release();
      }
      const left = await pool.query<{ id: string; status: string; attempts: number }>(
        'SELECT o.id, o.status, o.attempts FROM outbound_messages o WHERE o.id = ANY($1) ORDER BY o.id',
        [ids.slice(0, 21)],
      );
      expect(left.rows.map((r) => [Number(r.id), r.status, r.attempts])).toEqual([
        ...attempted.map((id) => [id, 'delivered', 1]),
        [ids[20], 'pending', 0],
      ]);
      const leases = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery_leases');
      expect(leases.rows[0]!.n).toBe(200);
    } finally {
      await pool.query('DELETE FROM delivery_leases');
      await pool.query("UPDATE outbound_messages SET status = 'purged'");
      await one.end();
    }
  });

  test("a transaction's COMMIT leases the first attempts it queued: within each institution's room, none of a paused one", async () => {
    await claimDeliveries(pool, await pending('71AA', 3, 5), 3, { ...terms, perInstitution: 4 }); // three leases taken
    await pool.query('UPDATE institutions SET paused = true WHERE oin = $1', [oinOf('71BB')]);
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      const queued = await tx.query<{ id: string; institution_oin: string }>(
        `INSERT INTO outbound_messages (institution_oin, operation, wsa_message_id, document_id, body_xml)
         SELECT oin, 'terugkoppelenInschrijvingVO', gen_random_uuid(), gen_random_uuid(), '<x/>'
         FROM unnest($1::text[]) AS oin RETURNING id, institution_oin`,
        [[oinOf('71AA'), oinOf('71BB'), oinOf('71AA'), oinOf('71BB'), oinOf('71AA')]],
      );
      const messages = queued.rows.map((row) => ({ id: Number(row.id), institutionOin: row.institution_oin }));
      const twice = [...messages, messages[0]!]; // an id given twice is leased once, not a failed commit
      const leased = await commitLeasing(tx, { queued: twice, terms: { ...terms, perInstitution: 5 } });
      expect(leased.sort((x, y) => x - y)).toEqual([messages[0]!.id, messages[2]!.id]); // 71AA's oldest two, in its two free of five; 71BB is paused
      const rows = await pool.query('SELECT owner FROM delivery_leases WHERE outbound_id = $1', [messages[0]!.id]);
      expect(rows.rows).toEqual([{ owner: terms.owner }]); // committed
    } finally {
      await tx.query('ROLLBACK').catch(() => undefined); // a failed commit leaves the client's transaction aborted
      tx.release();
      await pool.query('UPDATE institutions SET paused = false');
      await pool.query('DELETE FROM delivery_leases');
      await pool.query("UPDATE outbound_messages SET status = 'purged'");
    }
  });

  test('an offered message that a poller attempted meanwhile is not leased again (its retry waits its back-off)', async () => {
    const [fresh, attempted] = await pending('71BB', 2, 5);
    // The first attempt was made elsewhere: attempts counted, a retry due later.
    await pool.query(
      "UPDATE outbound_messages SET attempts = 1, next_attempt_at = now() + interval '30 seconds' WHERE id = $1",
      [attempted],
    );
    expect(await claimDeliveries(pool, [fresh!, attempted!], 10, terms)).toEqual([fresh]);
    expect(await claimDeliveries(pool, null, 10, terms)).toEqual([]); // not due, and the fresh one is leased
  });

  test("a school's freed leases are vacuumed by the thousand: its claims do not wade through every one freed before", async () => {
    const one = createPool(databaseUrl, 1);
    const indexEntriesRead = () => leaseIndexEntriesRead(one);
    const vacuum = new LeaseVacuum(pool, createLogger('warn'));
    try {
      const ids = await pending('71CC', 3000, 5);
      const before = await indexEntriesRead();
      let claims = 0;
      for (let i = 0; i < ids.length; i += 5) {
        const leased = await claimDeliveries(one, ids.slice(i, i + 5), 5, { ...terms, perInstitution: 5 });
        expect(leased).toHaveLength(5);
        claims += 1;
        const attempt = { startedAt: new Date(), endpoint: 'http://127.0.0.1:9/', latencyMs: 1, httpStatus: 200 };
        await recordAttempts(
          one,
          leased.map((outboundId) => ({ ...attempt, outboundId, outcome: 'delivered', status: 'delivered' }) as const),
          terms.owner,
        );
        vacuum.freed(oinOf('71CC'), leased.length);
        await vacuum.idle();
      }
      // A claim reads the leases freed since the last vacuum (one every 1,000), not all freed so far.
      expect(((await indexEntriesRead()) - before) / claims).toBeLessThan(750); // 1,498 unvacuumed, ~170 vacuumed
      const vacuums = await one.query<{ n: string }>(
        "SELECT vacuum_count AS n FROM pg_stat_user_tables WHERE relname = 'delivery_leases'",
      );
      expect(Number(vacuums.rows[0]!.n)).toBeGreaterThanOrEqual(3); // one per 1,000 of its leases freed
    } finally {
      await one.end();
    }
  });
});
