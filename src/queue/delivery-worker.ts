import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from '../log.js';
import type { Pool } from '../store/database.js';
import { MicroBatcher } from '../store/micro-batcher.js';
import { type OutboundForDelivery, loadForDelivery, markUndeliverable } from '../store/outbound.repo.js';
import type { DeliveryAttempts } from './delivery-attempts.js';
import { DELIVERY_QUEUE, type DeliveryJobData, retryDelay } from './delivery-queue.js';
import { createConsumerConnection } from './redis.js';

export interface DeliveryWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly pool: Pool;
  /** The process's attempts and per-institution slots (shared with direct delivery). */
  readonly attempts: DeliveryAttempts;
  readonly backoffMs: readonly number[];
  readonly concurrency: number;
  readonly log: Logger;
  /** Job lock; a killed worker's jobs are picked up again after about this long. */
  readonly lockMs?: number;
}

/**
 * Delivers outbound messages to institutions' endpoints: one attempt and up to DELIVERY_RETRIES more,
 * each with a timeout, then the error queue (status `error` in PostgreSQL, the job in BullMQ's failed
 * set). A slow institution holds at most its share of the process's slots; its other jobs step
 * aside (delayed briefly, without using an attempt) so other institutions keep flowing.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker<DeliveryJobData> {
  // Concurrent jobs share their reads: one round trip for many.
  const loader = new MicroBatcher<number, OutboundForDelivery | null>({ maxBatch: 128, maxInFlight: 2, run: (ids) => loadForDelivery(options.pool, ids) });

  async function deliver(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    const message = await loader.submit(job.data.outboundId);
    if (job.data.park) {
      // Mirrors a message that went to the error queue on its direct attempt; replayed since, it stays out.
      if (message?.status === 'error') throw new UnrecoverableError(message.lastError ?? 'in the error queue');
      return `skipped (${message?.status ?? 'missing'})`;
    }
    if (!message || message.status !== 'pending') return `skipped (${message?.status ?? 'missing'})`;
    if (message.paused) return 'paused'; // resuming the institution enqueues its pending messages again
    if (!message.endpointUrl) {
      await markUndeliverable(options.pool, message.id, 'institution has no endpoint registered');
      throw new UnrecoverableError('institution has no endpoint registered');
    }
    // Its institution's slots are busy, or its direct attempt is waiting or under way: step aside without using an attempt.
    const releaseSlot = options.attempts.reserve(message);
    if (!releaseSlot) {
      await job.moveToDelayed(Date.now() + 50 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    try {
      // A direct attempt may have finished between the read above and the reservation: read again.
      if ((await loader.submit(message.id))?.status !== 'pending') return 'skipped (settled meanwhile)';
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const attemptNumber = (job.data.attemptsBefore ?? 0) + job.attemptsMade + 1;
      const outcome = await options.attempts.attempt({ ...message, endpointUrl: message.endpointUrl }, attemptNumber, lastAttempt, releaseSlot);
      if (outcome.kind === 'delivered') return 'delivered';
      if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.error);
      throw new Error(outcome.error);
    } finally {
      releaseSlot();
    }
  }

  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, deliver, {
    connection: createConsumerConnection(options.redisUrl),
    prefix: options.prefix,
    concurrency: options.concurrency,
    maxStalledCount: 10,
    ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}),
    // Retry n of a job whose message had attempts before it (direct delivery) waits as retry n + those.
    settings: { backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: { data: DeliveryJobData }) => retryDelay(options.backoffMs, attemptsMade + (job?.data.attemptsBefore ?? 0)) },
  });
  worker.on('error', (error) => options.log.warn('delivery worker error', { error: error.message }));
  return worker;
}
