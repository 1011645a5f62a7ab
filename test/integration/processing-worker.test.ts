/** Accepted messages flow through BullMQ to the processing worker (real Redis and PostgreSQL). */
import type { Worker } from 'bullmq';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { silentLogger } from '../../src/log.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { startProcessingWorker } from '../../src/queue/processing-worker.js';
import { randomUUID } from 'node:crypto';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { bodyFixture, defaultSenderOin, elementText, lasRequest, send } from '../support/soap.js';
import { storedCounts, useTestBroker, waitFor } from '../support/broker.js';

describe('processing worker', () => {
  const broker = useTestBroker();
  let worker: Worker;
  const queued: number[] = [];

  beforeAll(async () => {
    await seedDemoPopulation(broker().pool);
    worker = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!, prefix: broker().processingQueue.opts.prefix!, pool: broker().pool, handlers: createHandlers(),
      brokerOin: '00000001800866472000', concurrency: 4, batchSize: 8, transactions: 2, log: silentLogger(), onOutbound: (messages) => queued.push(...messages.map((m) => m.id)),
    });
  });
  afterAll(async () => {
    await worker.close();
  });

  test('messages are processed once each, the outbox empties and completed jobs leave Redis', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, `W-${i}`));
    for (const body of bodies) expect(elementText((await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body))).text, 'ontvangstBevestiging')).toBe('J');

    await waitFor(() => storedCounts(broker()), (c) => c.outbox === 0, 15_000);
    const outcomes = (await broker().pool.query("SELECT r.outcome, count(*)::int AS n FROM inbound_messages m JOIN processing_results r ON r.message_id = m.id WHERE m.operation = 'aanleverenInschrijvingVO' GROUP BY r.outcome")).rows;
    expect(outcomes).toEqual([{ outcome: 'approved', n: 10 }]);
    expect((await broker().pool.query("SELECT count(*)::int AS n FROM enrolments WHERE inschrijvingvolgnummer LIKE 'W-%'")).rows[0].n).toBe(10);
    // Per approved stand: the terugkoppeling and the enrolment's funding status.
    const operations = (await broker().pool.query('SELECT operation, count(*)::int AS n FROM outbound_messages WHERE id = ANY($1) GROUP BY 1 ORDER BY 1', [queued])).rows;
    expect(operations).toEqual([{ operation: 'terugkoppelenInschrijvingVO', n: 10 }, { operation: 'verstrekkenBekostigingsstatus', n: 10 }]);
    const counts = await waitFor(() => broker().processingQueue.getJobCounts('completed', 'waiting', 'active', 'failed'), (c) => c.waiting === 0 && c.active === 0);
    expect(counts).toEqual({ completed: 0, waiting: 0, active: 0, failed: 0 });
  });

  /** Stores messages without adding jobs (the test adds them), the way the accept path stores them. */
  async function storeWithoutJob(volgnummers: string[], operation = 'aanleverenInschrijvingVO', bsn = '123456782'): Promise<number[]> {
    const stored = await storeAcceptedBatch(broker().pool, volgnummers.map((volgnummer) => {
      const documentId = randomUUID();
      return {
        contract: 'DUO_VOAanlevering_InschrijvingVO_V1', operation, senderOin: defaultSenderOin('aanleverenInschrijvingVO'), brin: '25BE',
        documentId, documentTime: '2026-09-01T08:15:00Z', wsaMessageId: `urn:uuid:${randomUUID()}`, requestId: randomUUID(), receiptId: randomUUID(), receiptAt: new Date(),
        rawXml: lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId).replace(/2026-0001/g, volgnummer).replace('123456782', bsn)).xml,
      };
    }), null);
    return stored.map((receipt) => {
      if (receipt instanceof Error) throw receipt;
      return receipt.messageId;
    });
  }
  const inOutbox = async (ids: number[]): Promise<number> => (await broker().pool.query('SELECT count(*)::int AS n FROM processing_outbox WHERE message_id = ANY($1::bigint[])', [ids])).rows[0].n;

  test('a job of several messages where one cannot be processed: the others are processed once, the job fails after its attempts', async () => {
    const good = await storeWithoutJob(['MIX-1', 'MIX-2']);
    const [bad] = await storeWithoutJob(['MIX-3'], 'anOperationWithoutHandler');
    await broker().processingQueue.add('process', { messageIds: [good[0]!, bad!, good[1]!] }, { jobId: `mixed-${bad}`, attempts: 2, backoff: { type: 'fixed', delay: 100 } });

    const job = await waitFor(async () => broker().processingQueue.getJob(`mixed-${bad}`), (j) => j?.finishedOn !== undefined && j.attemptsMade === 2, 15_000);
    expect(job!.failedReason).toContain('no handler');
    expect(await inOutbox(good)).toBe(0);
    expect(await inOutbox([bad!])).toBe(1); // waits in the outbox; the failed job keeps the sweeper from re-adding it
    const results = await broker().pool.query('SELECT outcome FROM processing_results WHERE message_id = ANY($1::bigint[])', [good]);
    expect(results.rows).toEqual([{ outcome: 'approved' }, { outcome: 'approved' }]);
    expect((await broker().pool.query("SELECT count(*)::int AS n FROM enrolments WHERE inschrijvingvolgnummer LIKE 'MIX-%'")).rows[0].n).toBe(2);
    await job!.remove();
  });

  test('a job split over two transactions hands each message on to delivery when its own transaction commits', async () => {
    // Nine messages, batches of eight: the ninth (another pupil) runs in a second transaction, which
    // the test holds up on that pupil's register lock.
    const first = await storeWithoutJob(Array.from({ length: 8 }, (_, i) => `SPLIT-${i}`));
    const [last] = await storeWithoutJob(['SPLIT-8'], 'aanleverenInschrijvingVO', '111222333');
    const holder = await broker().pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtextextended('pgn:111222333', 0))");
      await broker().processingQueue.add('process', { messageIds: [...first, last!] }, { jobId: `split-${last}` });
      const causes = async (): Promise<number[]> => (await broker().pool.query<{ cause: number }>(
        'SELECT cause_message_id AS cause FROM outbound_messages WHERE id = ANY($1::bigint[])', [queued])).rows.map((r) => r.cause);
      // Well inside the pool's 5 s query timeout, which would end the held transaction.
      const handedOn = await waitFor(causes, (c) => first.every((id) => c.includes(id)), 3000);
      expect(first.filter((id) => !handedOn.includes(id))).toEqual([]);
      expect(handedOn).not.toContain(last);
      expect(await inOutbox([last!])).toBe(1); // its transaction still waits for the lock
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtextextended('pgn:111222333', 0))");
      holder.release();
    }
    await waitFor(() => inOutbox([last!]), (n) => n === 0, 15_000);
  });

  test('a job added before batch jobs ({ messageId }) is still processed', async () => {
    const [id] = await storeWithoutJob(['OLD-1']);
    await broker().processingQueue.add('process', { messageId: id } as never, { jobId: `old-${id}` });
    await waitFor(() => inOutbox([id!]), (n) => n === 0, 15_000);
    expect((await broker().pool.query('SELECT outcome FROM processing_results WHERE message_id = $1', [id])).rows).toEqual([{ outcome: 'approved' }]);
  });
});
