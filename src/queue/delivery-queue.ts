import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue of outbound messages awaiting delivery to an institution's endpoint. */
export const DELIVERY_QUEUE = 'delivery';

/**
 * A delivery job carries the outbound message's id. A message whose first attempt was made straight
 * after processing (direct delivery) gets a job only when that attempt did not deliver it: for its
 * retries (`attemptsBefore` counts the attempt already made), or, when it went to the error queue,
 * a `park` job that only mirrors it into BullMQ's failed set.
 */
export interface DeliveryJobData {
  readonly outboundId: number;
  readonly attemptsBefore?: number;
  readonly park?: boolean;
}

export const deliveryJobId = (outboundId: number): string => `out-${outboundId}`;

/** Attempts = 1 + retries; the waits come from the worker's backoff strategy (DELIVERY_BACKOFF_MS). */
export function deliveryJobOptions(retries: number): JobsOptions {
  return { attempts: 1 + retries, backoff: { type: 'delivery' }, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } };
}

export function deliveryJobs(retries: number) {
  const opts = deliveryJobOptions(retries);
  return (ids: readonly number[]) => ids.map((outboundId) => ({ name: 'deliver', data: { outboundId }, opts: { ...opts, jobId: deliveryJobId(outboundId) } }));
}

/**
 * The job for a message's remaining attempts after `attemptsBefore` made elsewhere, its first run one
 * backoff wait from now. `queuedAt` (when the message was queued) stays the job's timestamp, so the
 * delivery-latency metric counts from there.
 */
export function retryJob(outboundId: number, retries: number, attemptsBefore: number, backoffMs: readonly number[], queuedAt: number, now = Date.now()) {
  const wait = retryDelay(backoffMs, attemptsBefore);
  return {
    name: 'deliver', data: { outboundId, attemptsBefore },
    opts: { ...deliveryJobOptions(retries), attempts: 1 + retries - attemptsBefore, jobId: deliveryJobId(outboundId), timestamp: queuedAt, delay: Math.max(0, now - queuedAt) + wait },
  };
}

/** The job that puts a message already in the error queue into BullMQ's failed set, with its reason. */
export function parkJob(outboundId: number) {
  return { name: 'park', data: { outboundId, park: true }, opts: { ...deliveryJobOptions(0), jobId: deliveryJobId(outboundId) } };
}

export function createDeliveryQueue(connection: Redis, prefix: string): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection, prefix });
}

/** The wait before retry n (1-based): the configured list, its last value repeating, ±10 % jitter. */
export function retryDelay(backoffMs: readonly number[], retry: number, random: () => number = Math.random): number {
  const base = backoffMs[Math.min(retry, backoffMs.length) - 1] ?? 0;
  return Math.round(base * (0.9 + 0.2 * random()));
}
