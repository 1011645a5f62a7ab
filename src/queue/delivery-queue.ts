import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue of outbound messages awaiting delivery to an institution's endpoint. */
export const DELIVERY_QUEUE = 'delivery';

/** A delivery job carries the outbound message's id only. */
export interface DeliveryJobData {
  readonly outboundId: number;
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

export function createDeliveryQueue(connection: Redis, prefix: string): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection, prefix });
}

/** The wait before retry n (1-based): the configured list, its last value repeating, ±10 % jitter. */
export function retryDelay(backoffMs: readonly number[], retry: number, random: () => number = Math.random): number {
  const base = backoffMs[Math.min(retry, backoffMs.length) - 1] ?? 0;
  return Math.round(base * (0.9 + 0.2 * random()));
}
