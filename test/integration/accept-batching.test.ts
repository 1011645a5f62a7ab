import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AcceptBatcher } from '../../src/accept/accept-batcher.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { silentLogger } from '../../src/infra/log.js';
import { migrate } from '../../src/infra/migrate.js';
import {
  createProcessingQueue,
  messageIdsOf,
  type ProcessingJobData,
  processingBatchJobs,
  type StoredBatch,
} from '../../src/infra/processing-queue.js';
import { createProducerConnection } from '../../src/infra/redis.js';
import { Sweeper } from '../../src/processing/sweeper.js';
import type { AcceptedMessage } from '../../src/store/inbound-messages.repo.js';
import { createTestDatabase } from '../support/services.js';

const message = (documentId = randomUUID()): AcceptedMessage => ({
  contract: 'DUO_VOAanlevering_InschrijvingVO_V1',
  operation: 'aanleverenInschrijvingVO',
  senderOin: '0000000700025BE00000',
  brin: '25BE',
  documentId,
  documentTime: '2026-09-01T10:00:00Z',
  wsaMessageId: `urn:uuid:${randomUUID()}`,
  requestId: randomUUID(),
  receiptId: randomUUID(),
  receiptAt: new Date(),
  rawXml: `<x id="${documentId}"/>`,
});

/** One processing job per group commit, and a sweeper that wakes waiting rows from PostgreSQL alone. */
describe('processing jobs per group commit', () => {
  let pool: Pool;
  let redis: Redis;
  let queue: Queue<ProcessingJobData>;

  beforeAll(async () => {
    pool = createPool(await createTestDatabase(), 4);
    await migrate(pool);
    redis = createProducerConnection(process.env.TEST_REDIS_URL!);
    queue = createProcessingQueue(redis, `batching${Date.now()}`);
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await pool.end();
  });

  test('messages committed together are handed on once, under the key their outbox rows carry; a duplicate is not', async () => {
    const stored: { key: string; ids: number[] }[] = [];
    const batcher = new AcceptBatcher(pool, {
      maxBatch: 100,
      maxInFlight: 1,
      timeoutMs: 5000,
      outcome: { pool, waitMs: 1000 },
      onStored: (key, ids) => stored.push({ key, ids }),
    });
    const first = message();
    // Submitted in one loop turn: one commit. The last repeats the first's identificatiecode.
    const receipts = await Promise.all(
      [
        first,
        message(),
        message(),
        message(),
        message(),
        { ...first, receiptId: randomUUID(), rawXml: '<other/>' },
      ].map((m) => batcher.submit(m)),
    );

    expect(stored).toHaveLength(1);
    const newIds = receipts.slice(0, 5).map((r) => r.messageId);
    expect(stored[0]!.ids).toEqual(newIds);
    // The duplicate's original was stored in the same commit: it is read back, for the caller to compare.
    expect(receipts[5]).toMatchObject({
      messageId: newIds[0],
      isNew: false,
      original: {
        operation: first.operation,
        rawXml: first.rawXml,
        bodyFingerprint: null,
        sharedId: 'identificatiecodeBedrijfsdocument',
      },
    });
    const keys = await pool.query<{ job_key: string }>(
      'SELECT DISTINCT job_key FROM processing_outbox WHERE message_id = ANY($1::bigint[])',
      [newIds],
    );
    expect(keys.rows).toEqual([{ job_key: stored[0]!.key }]);
  });

  test('the sweeper wakes every waiting row once per grace period, whatever Redis holds, and never one in the processing error queue', async () => {
    const stored: StoredBatch[] = [];
    const batcher = new AcceptBatcher(pool, {
      maxBatch: 100,
      maxInFlight: 1,
      timeoutMs: 5000,
      outcome: { pool, waitMs: 1000 },
      onStored: (key, messageIds) => stored.push({ key, messageIds }),
    });
    await Promise.all([message(), message(), message(), message()].map((m) => batcher.submit(m)));
    const ids = stored[0]!.messageIds;
    await pool.query('DELETE FROM processing_outbox WHERE NOT (message_id = ANY($1::bigint[]))', [ids]); // only this test's rows
    await pool.query("UPDATE processing_outbox SET failed_at = now(), failure = 'test' WHERE message_id = $1", [
      ids[3],
    ]);
    const sweeper = new Sweeper(pool, queue, silentLogger(), { intervalMs: 60_000, graceMs: 200 });
    // A batch job that lives, as after a failed processing attempt: the sweeper does not look at it.
    await queue.addBulk(processingBatchJobs(stored));
    expect(await sweeper.sweepOnce()).toBe(0); // younger than the grace period
    await new Promise((resolve) => setTimeout(resolve, 250));
    await queue.drain(true);
    expect(await sweeper.sweepOnce()).toBe(3);
    const woken = (await queue.getJobs(['waiting'])).flatMap((job) => messageIdsOf(job.data));
    expect(woken.sort((a, b) => a - b)).toEqual(ids.slice(0, 3));
    expect(await sweeper.sweepOnce()).toBe(0); // woken just now
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await sweeper.sweepOnce()).toBe(3); // still waiting: woken again
  });
});
