import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/log.js';
import { type ProcessingJobData, type StoredBatch, createProcessingQueue, processingBatchJobId, processingBatchJobs, processingJobId, processingSweptWork } from '../../src/queue/processing-queue.js';
import { createProducerConnection } from '../../src/queue/redis.js';
import { Sweeper } from '../../src/queue/sweeper.js';
import { AcceptBatcher } from '../../src/store/accept-batcher.js';
import { type Pool, createPool } from '../../src/store/database.js';
import type { AcceptedMessage } from '../../src/store/inbound-messages.repo.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase } from '../support/services.js';

const message = (documentId = randomUUID()): AcceptedMessage => ({
  contract: 'DUO_VOAanlevering_InschrijvingVO_V1', operation: 'aanleverenInschrijvingVO', senderOin: '0000000700025BE00000', brin: '25BE',
  documentId, documentTime: '2026-09-01T10:00:00Z', wsaMessageId: `urn:uuid:${randomUUID()}`, requestId: randomUUID(),
  receiptId: randomUUID(), receiptAt: new Date(), rawXml: `<x id="${documentId}"/>`,
});

/** One processing job per group commit, and a sweeper that knows which job holds an outbox row. */
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
    const batcher = new AcceptBatcher(pool, { maxBatch: 100, maxInFlight: 1, timeoutMs: 5000, outcome: { pool, waitMs: 1000 }, onStored: (key, ids) => stored.push({ key, ids }) });
    const first = message();
    // Submitted in one loop turn: one commit. The last repeats the first's identificatiecode.
    const receipts = await Promise.all([first, message(), message(), message(), message(), { ...first, receiptId: randomUUID(), rawXml: '<other/>' }].map((m) => batcher.submit(m)));

    expect(stored).toHaveLength(1);
    const newIds = receipts.slice(0, 5).map((r) => r.messageId);
    expect(stored[0]!.ids).toEqual(newIds);
    // The duplicate's original was stored in the same commit: it comes from memory, for the caller to compare.
    expect(receipts[5]).toMatchObject({ messageId: newIds[0], isNew: false, original: { operation: first.operation, rawXml: first.rawXml, bodyFingerprint: null } });
    const keys = await pool.query<{ job_key: string }>('SELECT DISTINCT job_key FROM processing_outbox WHERE message_id = ANY($1::bigint[])', [newIds]);
    expect(keys.rows).toEqual([{ job_key: stored[0]!.key }]);
  });

  test('the sweeper leaves rows whose batch job lives, and gives each row of a lost batch job a job of its own', async () => {
    const stored: StoredBatch[] = [];
    const batcher = new AcceptBatcher(pool, { maxBatch: 100, maxInFlight: 1, timeoutMs: 5000, outcome: { pool, waitMs: 1000 }, onStored: (key, messageIds) => stored.push({ key, messageIds }) });
    await Promise.all([message(), message(), message()].map((m) => batcher.submit(m)));
    await pool.query('DELETE FROM processing_outbox WHERE job_key IS DISTINCT FROM $1', [stored[0]!.key]); // only this test's rows
    const sweeper = new Sweeper(processingSweptWork(pool, queue), redis, silentLogger(), { intervalMs: 60_000, graceMs: 0 });

    await queue.addBulk(processingBatchJobs(stored));
    expect(await sweeper.sweepOnce()).toBe(0);

    await (await queue.getJob(processingBatchJobId(stored[0]!.key)))!.remove();
    expect(await sweeper.sweepOnce()).toBe(3);
    for (const id of stored[0]!.messageIds) expect((await queue.getJob(processingJobId(id)))?.data).toEqual({ messageIds: [id] });
    expect(await sweeper.sweepOnce()).toBe(0); // their own jobs now live
  });
});
