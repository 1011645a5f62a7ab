/**
 * Encryption at rest across a key change: rows sealed under k1 and rows stored in plain text before
 * keys were configured are all re-sealed under k2 by `keys rotate` (batches, audited), after which k1
 * can go; the broker reads every form through its repositories meanwhile.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { DataKeys } from '../../src/infra/data-keys.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { silentLogger } from '../../src/infra/log.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { traceMessage } from '../../src/operator/trace.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { databaseUrlOf } from '../support/console.js';
import { acceptedMessage, bodyFixture, lasRequest, send } from '../support/soap.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
const keyOf = (id: string, fill: number): string => `${id}:${Buffer.alloc(32, fill).toString('base64')}`;
const K1 = keyOf('k1', 1);
const K2 = keyOf('k2', 2);

describe('keys rotate', () => {
  const broker = useTestBroker({ env: { DATA_KEYS: K1 } });
  let plainPool: Pool;
  let pipeline: Pipeline;
  beforeAll(() => {
    plainPool = createPool(databaseUrlOf(broker()), 2); // no keys: writes plain text, as before migration 021
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline.close();
    await plainPool.end();
  });

  const keyIds = async (): Promise<{ inbound: (string | null)[]; outbound: (string | null)[] }> => ({
    inbound: (
      await broker().pool.query('SELECT DISTINCT raw_xml_key_id AS k FROM inbound_messages ORDER BY 1')
    ).rows.map((r) => r.k),
    outbound: (
      await broker().pool.query('SELECT DISTINCT body_xml_key_id AS k FROM outbound_messages ORDER BY 1')
    ).rows.map((r) => r.k),
  });

  test('plain and k1 rows end under k2, still readable with k2 and unreadable with k1 alone', async () => {
    // Under k1: an accepted message and its feedback.
    const sealed = bodyFixture('valid/aanleverenInschrijvingVO.xml');
    expect((await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', sealed))).status).toBe(200);
    // In plain text: three stored by a process without keys.
    for (let i = 0; i < 3; i++) {
      const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, `P-${i}`);
      const [stored] = await storeAcceptedBatch(plainPool, [acceptedMessage('aanleverenInschrijvingVO', body)], null);
      expect(stored).not.toBeInstanceOf(Error);
    }
    await waitFor(
      async () => (await broker().pool.query('SELECT count(*)::int AS n FROM processing_outbox')).rows[0].n,
      (n) => n === 0,
    );
    expect(await keyIds()).toEqual({ inbound: ['k1', null], outbound: ['k1'] });

    const env = { ...process.env, DATABASE_URL: databaseUrlOf(broker()), DATA_KEYS: `${K2},${K1}` };
    const rotated = await run(process.execPath, [CLI, 'keys', 'rotate', '--batch-size', '2'], { env });
    expect(rotated.stdout).toMatch(/^re-encrypted 4 inbound and \d+ outbound message\(s\) under key k2\n$/);
    expect(await keyIds()).toEqual({ inbound: ['k2'], outbound: ['k2'] });
    const status = JSON.parse((await run(process.execPath, [CLI, 'keys', 'status', '--json'], { env })).stdout);
    expect(Object.keys(status.inbound)).toEqual(['k2']);

    // Read through the repositories: with k2 (k1 may now be removed), and not with k1 alone.
    const withK2 = createPool(databaseUrlOf(broker()), 1, { dataKeys: DataKeys.parse(K2) });
    const withK1 = createPool(databaseUrlOf(broker()), 1, { dataKeys: DataKeys.parse(K1) });
    try {
      const first = (await broker().pool.query('SELECT min(id)::int AS id FROM inbound_messages')).rows[0].id;
      const trace = await traceMessage(withK2, String(first));
      expect(trace).not.toBeNull();
      await expect(traceMessage(withK1, String(first))).rejects.toThrow(
        "inbound_messages.raw_xml sealed with data key 'k2', which is not in DATA_KEYS",
      );
    } finally {
      await withK2.end();
      await withK1.end();
    }
    const audit = (
      await broker().pool.query("SELECT target, affected FROM operator_audit WHERE action = 'keys.rotate'")
    ).rows;
    expect(audit).toHaveLength(1);
    expect(audit[0].target).toMatchObject({ keyId: 'k2', inbound: 4 });
  });

  test('without a key there is nothing to rotate under: refused, nothing changed', async () => {
    const env = { ...process.env, DATABASE_URL: databaseUrlOf(broker()), BROKER_PROFILE: 'development', DATA_KEYS: '' };
    const failed = await run(process.execPath, [CLI, 'keys', 'rotate'], { env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('DATA_KEYS is not set: there is no key to re-encrypt under');
  });
});
