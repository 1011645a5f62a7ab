import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { seedDemoInstitutions, seedDemoPopulation } from '../../src/demo-seed.js';
import { loadConfig } from '../../src/infra/config.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { migrate } from '../../src/infra/migrate.js';
import { createPipelinePool } from '../../src/pipeline.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processBatch } from '../../src/processing/process-message.js';
import { type AcceptedMessage, storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { claimDeliveries, loadForDelivery, markUndeliverable, recordAttempts } from '../../src/store/outbound.repo.js';
import { createTestDatabase } from '../support/services.js';
import { acceptedMessage, BROKER_OIN, bodyFixture, operationOfFixture } from '../support/soap.js';

/** Tables that grow with every message: a plan may only reach their rows through an index condition. */
const GROWING =
  /^(inbound_messages|processing_outbox|processing_results|enrolments|outbound_messages|delivery_attempts|population_register|assigned_persons|pupil_trace|pupil_links|exam_results|diplomas|prior_education_subscriptions)(_|$)/;

/** A stored message as the accept path would store it, from a body fixture. */
const accepted = (fixture: string): AcceptedMessage =>
  acceptedMessage(operationOfFixture(fixture), bodyFixture(fixture));

/**
 * The scans in a plan that read a growing table (or one of its indexes) without an index condition:
 * each node's first line and its detail lines up to the next node.
 */
function unboundedScans(plan: string): string[] {
  const nodes = plan.split(/\n(?=\s*->)/);
  return nodes
    .filter((node) => {
      const scan =
        /(?:Seq Scan|Index Scan(?: Backward)? using \S+|Index Only Scan(?: Backward)? using \S+|Bitmap Index Scan) on (\S+)/.exec(
          node,
        );
      return scan !== null && GROWING.test(scan[1]!) && !/Index Cond:/.test(node);
    })
    .map((node) => node.split('\n')[0]!.trim());
}

/** The statements a pool's clients send, while `run` runs (observed, not changed). */
async function statementsSentDuring(run: () => Promise<void>): Promise<Set<string>> {
  const sent = new Set<string>();
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
    const text = typeof config === 'string' ? config : (config as { text?: string }).text;
    if (text && /^\s*(WITH|SELECT|INSERT|UPDATE|DELETE)\b/i.test(text) && /\$1\b/.test(text)) sent.add(text);
    return (original as (...args: unknown[]) => unknown).call(this, config, ...rest);
  } as typeof original;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

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

  test('the pipeline caches its plans, and on empty tables every one already reaches rows by key', async () => {
    // The tables are (nearly) empty here, as in a fresh install: the moment a cached plan is most likely wrong.
    const setup = pool();
    await seedDemoInstitutions(setup);
    await seedDemoPopulation(setup);
    const store = async (fixtures: string[]): Promise<number[]> =>
      (await storeAcceptedBatch(setup, fixtures.map(accepted), null)).map((stored) => {
        if (stored instanceof Error) throw stored;
        return stored.messageId;
      });
    const first = await store([
      'valid/aanleverenInschrijvingVO.xml',
      'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml',
      'valid/aanleverenIdentificerenPersoonVO-metPGN.xml',
      'valid/verwerkenPersoonsmutatie-adres.xml',
      'valid/aanleverenExamenresultaatVO.xml',
    ]);
    const then = await store([
      'valid/aanleverenVerwijderingInschrijvingVO.xml',
      'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml',
      'valid/aanleverenVerwijderingExamenresultaatVO.xml',
      'valid/aanvragenVooropleidingen.xml',
      'valid/stoppenAbonnementVooropleidingen.xml',
    ]);
    const pipeline = createPipelinePool(url, loadConfig({}));
    pools.push(pipeline);
    expect((await pipeline.query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('force_generic_plan');

    const sent = await statementsSentDuring(async () => {
      const results = [
        ...(await processBatch(pipeline, createHandlers(), first, {
          brokerOin: BROKER_OIN,
          traceKey: 'query-plans-test-key',
        })),
        ...(await processBatch(pipeline, createHandlers(), then, {
          brokerOin: BROKER_OIN,
          traceKey: 'query-plans-test-key',
        })),
      ];
      expect(results.map((r) => r.outcome)).toEqual([
        'approved',
        'identified',
        'identified',
        'approved',
        'approved',
        'approved',
        'identified',
        'approved',
        'approved',
        'approved',
      ]);
      const outbound = results.flatMap((r) => r.outbound);
      const terms = { owner: 'query-plans', perInstitution: 100, leaseMs: 60_000, handoffMs: 0 };
      expect(
        (
          await claimDeliveries(
            pipeline,
            outbound.map((o) => o.id),
            100,
            terms,
          )
        ).sort(),
      ).toEqual(outbound.map((o) => o.id).sort());
      await recordAttempts(
        pipeline,
        outbound.slice(1).map((o) => ({
          outboundId: o.id,
          startedAt: new Date(),
          endpoint: 'http://127.0.0.1:9/',
          latencyMs: 1,
          outcome: 'delivered',
          status: 'delivered',
        })),
        terms.owner,
      );
      await markUndeliverable(pipeline, outbound[0]!.id, 'test', terms.owner);
      expect(
        (
          await loadForDelivery(
            pipeline,
            outbound.map((o) => o.id),
          )
        ).map((o) => o?.status),
      ).toEqual(['error', ...outbound.slice(1).map(() => 'delivered')]);
      expect(await claimDeliveries(pipeline, null, 10, terms)).toEqual([]);
    });
    expect(sent.size).toBeGreaterThanOrEqual(12);

    // Each statement's generic plan, under the pipeline pool's settings and without them.
    const planOf = async (statement: string, guarded: boolean): Promise<string> => {
      const client = await pipeline.connect();
      try {
        if (!guarded)
          await client.query('SET enable_seqscan = on; SET enable_hashjoin = on; SET enable_mergejoin = on');
        return (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (GENERIC_PLAN) ${statement}`)).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      } finally {
        client.release(!guarded); // a connection whose settings were changed is not reused
      }
    };
    const unguarded: string[] = [];
    for (const statement of sent) {
      expect({ statement, scans: unboundedScans(await planOf(statement, true)) }).toEqual({ statement, scans: [] });
      unguarded.push(...unboundedScans(await planOf(statement, false)));
    }
    // Without the settings, cached plans would read growing tables whole.
    expect(unguarded.length).toBeGreaterThan(0);
  });

  test('pools plan every named statement for its own parameters unless told their plans are safe to cache', async () => {
    expect((await pool().query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('force_custom_plan');
    expect((await pool({ plans: 'cached' }).query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('auto');
    expect((await pool({ plans: 'key-lookups' }).query('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe(
      'force_generic_plan',
    );
  });

  test('the accept statement, whose plan is cached, reads inbound_messages only through its unique indexes', async () => {
    const accept = pool({ plans: 'cached' });
    await storeAcceptedBatch(
      accept,
      [
        {
          contract: 'DUO_VOAanlevering_InschrijvingVO_V1',
          operation: 'aanleverenInschrijvingVO',
          senderOin: '0000000700025BE00000',
          brin: '25BE',
          documentId: randomUUID(),
          documentTime: '2026-09-01T10:00:00Z',
          wsaMessageId: `urn:uuid:${randomUUID()}`,
          requestId: randomUUID(),
          receiptId: randomUUID(),
          receiptAt: new Date(),
          rawXml: '<x/>',
        },
      ],
      randomUUID(),
    );
    // The same connection (max 1): its prepared statement's text, planned without parameter values.
    const statement = (
      await accept.query<{ statement: string }>(
        "SELECT statement FROM pg_prepared_statements WHERE name = 'accept-batch'",
      )
    ).rows[0]!.statement;
    const plan = (await accept.query<{ 'QUERY PLAN': string }>(`EXPLAIN (GENERIC_PLAN) ${statement}`)).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    // Without a conflict target every unique index is an arbiter: (sender, identificatiecode) and (sender, MessageID).
    expect(plan).toContain('Conflict Resolution: NOTHING');
    const unique = await accept.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'inbound_messages' AND indexdef LIKE 'CREATE UNIQUE%' ORDER BY indexname",
    );
    expect(unique.rows.map((row) => row.indexname)).toEqual([
      'inbound_messages_pkey',
      'inbound_messages_sender_document_key',
      'inbound_messages_sender_message_key',
    ]);
    expect(plan.match(/ on inbound_messages\b/g)).toEqual([' on inbound_messages']); // "Insert on inbound_messages", no scan
  });
});
