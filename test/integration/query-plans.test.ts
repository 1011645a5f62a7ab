import { randomUUID } from 'node:crypto';
import { type Pool, createPool } from '../../src/store/database.js';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase } from '../support/services.js';

/**
 * A generic plan cached on a fresh, nearly empty database kept scanning tables whole as they grew
 * (bench:accept: PostgreSQL CPU per message 3-8x in half the runs). These tests pin the two defences.
 */
describe('query plans on a growing database', () => {
  let url: string;
  const pools: Pool[] = [];
  const pool = (options?: Parameters<typeof createPool>[2]): Pool => {
    const created = createPool(url, 1, options);
    pools.push(created);
    return created;
  };

  beforeAll(async () => {
    url = await createTestDatabase();
    const setup = pool();
    await migrate(setup);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
  });

  test('pools plan every named statement for its own parameters unless told their plans are safe to cache', async () => {
    expect((await pool().query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('force_custom_plan');
    expect((await pool({ cachedPlans: true }).query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('auto');
  });

  test('the accept statement, whose plan is cached, reads inbound_messages only through its unique index', async () => {
    const accept = pool({ cachedPlans: true });
    await storeAcceptedBatch(accept, [{
      contract: 'DUO_VOAanlevering_InschrijvingVO_V1', operation: 'aanleverenInschrijvingVO', senderOin: '0000000700025BE00000', brin: '25BE',
      documentId: randomUUID(), documentTime: '2026-09-01T10:00:00Z', wsaMessageId: `urn:uuid:${randomUUID()}`, requestId: randomUUID(),
      receiptId: randomUUID(), receiptAt: new Date(), rawXml: '<x/>',
    }], randomUUID());
    // The same connection (max 1): its prepared statement's text, planned without parameter values.
    const statement = (await accept.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name = 'accept-batch'")).rows[0]!.statement;
    const plan = (await accept.query<{ 'QUERY PLAN': string }>(`EXPLAIN (GENERIC_PLAN) ${statement}`)).rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toContain('Conflict Arbiter Indexes: inbound_messages_sender_document_key');
    expect(plan.match(/ on inbound_messages\b/g)).toEqual([' on inbound_messages']); // "Insert on inbound_messages", no scan
  });
});
