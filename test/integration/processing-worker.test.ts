/** Accepted messages flow through BullMQ to the processing worker (real Redis and PostgreSQL). */
import type { Worker } from 'bullmq';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { silentLogger } from '../../src/log.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { startProcessingWorker } from '../../src/queue/processing-worker.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { storedCounts, useTestBroker, waitFor } from '../support/broker.js';

describe('processing worker', () => {
  const broker = useTestBroker();
  let worker: Worker;
  const queued: number[] = [];

  beforeAll(async () => {
    await seedDemoPopulation(broker().pool);
    worker = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!, prefix: broker().processingQueue.opts.prefix!, pool: broker().pool, handlers: createHandlers(),
      brokerOin: '00000001800866472000', concurrency: 4, batchSize: 8, transactions: 2, log: silentLogger(), onOutbound: (ids) => queued.push(...ids),
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
});
