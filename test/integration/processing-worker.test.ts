/** Accepted messages flow through BullMQ to the processing worker (real Redis and PostgreSQL). */

import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { createPool } from '../../src/infra/database.js';
import { silentLogger } from '../../src/infra/log.js';
import { messageIdsOf, type ProcessingJobData } from '../../src/infra/processing-queue.js';
import { enrolmentHandler } from '../../src/processing/handlers/enrolment.handler.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { startProcessingWorker } from '../../src/processing/processing-worker.js';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { listProcessingErrors } from '../../src/store/processing-outbox.repo.js';
import { storedCounts, useTestBroker, waitFor } from '../support/broker.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { bodyFixture, defaultSenderOin, elementText, lasRequest, send } from '../support/soap.js';

describe('processing worker', () => {
  const broker = useTestBroker();
  let worker: Worker;
  const queued: number[] = [];

  beforeAll(async () => {
    await seedDemoPopulation(broker().pool);
    worker = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!,
      prefix: broker().processingQueue.opts.prefix!,
      pool: broker().pool,
      handlers: createHandlers(),
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: '00000001800866472000',
      concurrency: 4,
      batchSize: 8,
      transactions: 2,
      log: silentLogger(),
      onOutbound: (messages) => queued.push(...messages.map((m) => m.id)),
    });
  });
  afterAll(async () => {
    await worker.close();
  });

  test('messages are processed once each, the outbox empties and completed jobs leave Redis', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) =>
      bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, `W-${i}`),
    );
    for (const body of bodies)
      expect(
        elementText(
          (await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body))).text,
          'ontvangstBevestiging',
        ),
      ).toBe('J');

    await waitFor(
      () => storedCounts(broker()),
      (c) => c.outbox === 0,
      15_000,
    );
    const outcomes = (
      await broker().pool.query(
        "SELECT r.outcome, count(*)::int AS n FROM inbound_messages m JOIN processing_results r ON r.message_id = m.id WHERE m.operation = 'aanleverenInschrijvingVO' GROUP BY r.outcome",
      )
    ).rows;
    expect(outcomes).toEqual([{ outcome: 'approved', n: 10 }]);
    expect(
      (await broker().pool.query("SELECT count(*)::int AS n FROM enrolments WHERE inschrijvingvolgnummer LIKE 'W-%'"))
        .rows[0].n,
    ).toBe(10);
    // Per approved stand: the terugkoppeling and the enrolment's funding status.
    const operations = (
      await broker().pool.query(
        'SELECT operation, count(*)::int AS n FROM outbound_messages WHERE id = ANY($1) GROUP BY 1 ORDER BY 1',
        [queued],
      )
    ).rows;
    expect(operations).toEqual([
      { operation: 'terugkoppelenInschrijvingVO', n: 10 },
      { operation: 'verstrekkenBekostigingsstatus', n: 10 },
    ]);
    const counts = await waitFor(
      () => broker().processingQueue.getJobCounts('completed', 'waiting', 'active', 'failed'),
      (c) => c.waiting === 0 && c.active === 0,
    );
    expect(counts).toEqual({ completed: 0, waiting: 0, active: 0, failed: 0 });
  });

  /** Stores messages without adding jobs (the test adds them), the way the accept path stores them. */
  async function storeWithoutJob(
    volgnummers: string[],
    operation = 'aanleverenInschrijvingVO',
    bsn = '123456782',
  ): Promise<number[]> {
    const stored = await storeAcceptedBatch(
      broker().pool,
      volgnummers.map((volgnummer) => {
        const documentId = randomUUID();
        return {
          contract: 'DUO_VOAanlevering_InschrijvingVO_V1',
          operation,
          senderOin: defaultSenderOin('aanleverenInschrijvingVO'),
          brin: '25BE',
          documentId,
          documentTime: '2026-09-01T08:15:00Z',
          wsaMessageId: `urn:uuid:${randomUUID()}`,
          requestId: randomUUID(),
          receiptId: randomUUID(),
          receiptAt: new Date(),
          rawXml: lasRequest(
            'aanleverenInschrijvingVO',
            bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)
              .replace(/2026-0001/g, volgnummer)
              .replace('123456782', bsn),
          ).xml,
        };
      }),
      null,
    );
    return stored.map((receipt) => {
      if (receipt instanceof Error) throw receipt;
      return receipt.messageId;
    });
  }
  const inOutbox = async (ids: number[]): Promise<number> =>
    (
      await broker().pool.query(
        'SELECT count(*)::int AS n FROM processing_outbox WHERE message_id = ANY($1::bigint[])',
        [ids],
      )
    ).rows[0].n;

  test('a job of several messages where one cannot be processed: the others are processed once, the bad one goes to the processing error queue; the job completes', async () => {
    const good = await storeWithoutJob(['MIX-1', 'MIX-2']);
    const [bad] = await storeWithoutJob(['MIX-3'], 'anOperationWithoutHandler');
    await broker().processingQueue.add(
      'process',
      { messageIds: [good[0]!, bad!, good[1]!] },
      { jobId: `mixed-${bad}` },
    );

    const [failed] = await waitFor(
      () => listProcessingErrors(broker().pool, { ids: [bad!] }),
      (rows) => rows.length === 1,
      15_000,
    );
    expect(failed!.failure).toContain('no handler for anOperationWithoutHandler');
    expect(await inOutbox(good)).toBe(0);
    const results = await broker().pool.query(
      'SELECT outcome FROM processing_results WHERE message_id = ANY($1::bigint[])',
      [good],
    );
    expect(results.rows).toEqual([{ outcome: 'approved' }, { outcome: 'approved' }]);
    expect(
      (await broker().pool.query("SELECT count(*)::int AS n FROM enrolments WHERE inschrijvingvolgnummer LIKE 'MIX-%'"))
        .rows[0].n,
    ).toBe(2);
    // Jobs are wake-ups: none is left failed in Redis, whatever happened to its messages.
    expect(await broker().processingQueue.getFailedCount()).toBe(0);
  });

  test('an enrolment whose processing fails for its own sake gets a terugkoppeling with V0001, and nothing in the register changes', async () => {
    const connection = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
    const prefix = `broken${Date.now()}`;
    const queue = new Queue<ProcessingJobData>('processing', { connection, prefix });
    const failing = new Map(createHandlers());
    failing.set('aanleverenInschrijvingVO', {
      ...enrolmentHandler,
      handle: async () => {
        throw new Error('rule engine bug for 123456782');
      },
    });
    const offered: string[] = [];
    const brokenWorker = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!,
      prefix,
      pool: broker().pool,
      handlers: failing,
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: '00000001800866472000',
      concurrency: 2,
      batchSize: 4,
      transactions: 1,
      log: silentLogger(),
      onOutbound: (messages) => offered.push(...messages.map((m) => m.bodyXml)),
    });
    try {
      const [id] = await storeWithoutJob(['BUG-1']);
      await queue.add('process', { messageIds: [id!] });
      const [failed] = await waitFor(
        () => listProcessingErrors(broker().pool, { ids: [id!] }),
        (rows) => rows.length === 1,
        15_000,
      );
      expect(failed!.failure).toBe('Error: rule engine bug for ******782'); // the reason, personal number masked
      await waitFor(
        async () => offered.length,
        (n) => n === 1,
        5000,
      );
      expect(offered[0]).toContain('<t:signaalcode>V0001</t:signaalcode>');
      expect(offered[0]).toContain('<t:leveringGoedgekeurd>false</t:leveringGoedgekeurd>');
      expect(
        (await broker().pool.query("SELECT count(*)::int AS n FROM enrolments WHERE inschrijvingvolgnummer = 'BUG-1'"))
          .rows[0].n,
      ).toBe(0);
      expect(
        (await broker().pool.query('SELECT count(*)::int AS n FROM processing_results WHERE message_id = $1', [id]))
          .rows[0].n,
      ).toBe(0);
    } finally {
      await brokenWorker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });

  test('a database outage during processing uses up nothing: the message waits and the sweeper has it processed, whatever its job did', async () => {
    // A second worker on the same queue whose database is unreachable takes the job while ours is paused.
    await worker.pause();
    const unreachable = createPool('postgres://nobody@127.0.0.1:9/none', 2);
    const cutOff = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!,
      prefix: broker().processingQueue.opts.prefix!,
      pool: unreachable,
      handlers: createHandlers(),
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: '00000001800866472000',
      concurrency: 1,
      batchSize: 4,
      transactions: 1,
      log: silentLogger(),
    });
    const [id] = await storeWithoutJob(['OUTAGE-1']);
    try {
      // A job id that the old sweeper took for the message's own job: left failed, it kept the message from ever being re-queued.
      await broker().processingQueue.add('process', { messageIds: [id!] }, { jobId: `msg-${id}` });
      await waitFor(
        async () => await broker().processingQueue.getJobCounts('waiting', 'active'),
        (c) => c.waiting === 0 && c.active === 0,
        10_000,
      );
      expect(await inOutbox([id!])).toBe(1);
      expect(await listProcessingErrors(broker().pool, { ids: [id!] })).toEqual([]); // an outage is not the message's fault
    } finally {
      await cutOff.close();
      await unreachable.end();
      worker.resume();
    }
    // The broker's sweeper (grace 300 ms) wakes it; our worker processes it.
    await waitFor(
      () => inOutbox([id!]),
      (n) => n === 0,
      15_000,
    );
    expect(
      (await broker().pool.query('SELECT outcome FROM processing_results WHERE message_id = $1', [id])).rows,
    ).toEqual([{ outcome: 'approved' }]);
    const jobs = await broker().processingQueue.getJobs(['failed', 'completed', 'waiting', 'delayed']);
    expect(jobs.filter((job) => messageIdsOf(job.data).includes(id!))).toEqual([]);
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
      const causes = async (): Promise<number[]> =>
        (
          await broker().pool.query<{ cause: number }>(
            'SELECT cause_message_id AS cause FROM outbound_messages WHERE id = ANY($1::bigint[])',
            [queued],
          )
        ).rows.map((r) => r.cause);
      // Well inside the pool's 5 s query timeout, which would end the held transaction.
      const handedOn = await waitFor(causes, (c) => first.every((id) => c.includes(id)), 3000);
      expect(first.filter((id) => !handedOn.includes(id))).toEqual([]);
      expect(handedOn).not.toContain(last);
      expect(await inOutbox([last!])).toBe(1); // its transaction still waits for the lock
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtextextended('pgn:111222333', 0))");
      holder.release();
    }
    await waitFor(
      () => inOutbox([last!]),
      (n) => n === 0,
      15_000,
    );
  });

  test('a job added before batch jobs ({ messageId }) is still processed', async () => {
    const [id] = await storeWithoutJob(['OLD-1']);
    await broker().processingQueue.add('process', { messageId: id } as never, { jobId: `old-${id}` });
    await waitFor(
      () => inOutbox([id!]),
      (n) => n === 0,
      15_000,
    );
    expect(
      (await broker().pool.query('SELECT outcome FROM processing_results WHERE message_id = $1', [id])).rows,
    ).toEqual([{ outcome: 'approved' }]);
  });
});
