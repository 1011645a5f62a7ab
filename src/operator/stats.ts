import type { Queue } from 'bullmq';
import type { Pool } from '../infra/database.js';
import type { StoreCounts } from '../infra/metrics/store-gauges.js';
import { acceptedPerBucket, countAcceptedMessages, countOutcomesLast24h } from '../store/inbound-messages.repo.js';
import { listInstitutionQueueStates } from '../store/institutions.repo.js';
import { countOpenOutbound, deliveredPerBucket, deliveryLatencyLastHour } from '../store/outbound.repo.js';
import { countProcessingOutbox } from '../store/processing-outbox.repo.js';

/** The broker at a glance. Counts over time spans use the BRIN-indexed times, never the whole archive. */
export interface Stats {
  readonly at: Date;
  readonly acceptedLastHour: number;
  readonly acceptedLast24h: number;
  /** Processing outcomes of the last 24 hours (approved, rejected, identified, …). */
  readonly outcomesLast24h: Readonly<Record<string, number>>;
  /** Accepted messages not processed yet (the processing error queue not included). */
  readonly processingBacklog: number;
  /** Accepted messages that could not be processed: the processing error queue. */
  readonly processingErrors: number;
  readonly outboundPending: number;
  readonly errorQueue: number;
  readonly deliveredLastHour: number;
  /** Queueing → receipt of the messages delivered in the last hour, in seconds (null when none were). */
  readonly deliveryLatencyLastHour: { readonly p50: number; readonly p95: number; readonly max: number } | null;
  readonly institutions: { readonly total: number; readonly paused: number };
  /** BullMQ job counts per queue, when the queues are at hand. */
  readonly queues: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The counts of open work the stats show and the metrics gauges export (broker.ts hands this to them). */
export async function readStoreCounts(pool: Pool): Promise<StoreCounts> {
  const [outbox, outbound, institutions] = await Promise.all([
    countProcessingOutbox(pool),
    countOpenOutbound(pool),
    listInstitutionQueueStates(pool),
  ]);
  return { processingBacklog: outbox.waiting, processingErrors: outbox.failed, outbound, institutions };
}

export async function collectStats(pool: Pool, queues: readonly Queue[] = []): Promise<Stats> {
  const [accepted, outcomes, open, latency, jobCounts] = await Promise.all([
    countAcceptedMessages(pool),
    countOutcomesLast24h(pool),
    readStoreCounts(pool),
    deliveryLatencyLastHour(pool),
    Promise.all(
      queues.map(
        async (queue) => [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const,
      ),
    ),
  ]);
  const round = (seconds: number | null): number => Math.round((seconds ?? 0) * 1000) / 1000;
  return {
    at: new Date(),
    acceptedLastHour: accepted.lastHour,
    acceptedLast24h: accepted.last24h,
    outcomesLast24h: outcomes,
    processingBacklog: open.processingBacklog,
    processingErrors: open.processingErrors,
    outboundPending: open.outbound.pending,
    errorQueue: open.outbound.error,
    deliveredLastHour: latency.delivered,
    deliveryLatencyLastHour:
      latency.delivered === 0 ? null : { p50: round(latency.p50), p95: round(latency.p95), max: round(latency.max) },
    institutions: { total: open.institutions.length, paused: open.institutions.filter((i) => i.paused).length },
    queues: Object.fromEntries(jobCounts),
  };
}

/** One bucket of the accepted/delivered chart. */
export interface SeriesPoint {
  readonly start: Date;
  readonly accepted: number;
  readonly delivered: number;
}

/**
 * Accepted and delivered messages per bucket over the last `minutes`, oldest first, every bucket
 * present (zeros included) so a chart's x axis is time, not rows.
 */
export async function messageSeries(
  pool: Pool,
  options: { minutes: number; bucketSeconds: number },
): Promise<SeriesPoint[]> {
  const span = {
    minutes: Math.min(Math.max(Math.floor(options.minutes), 1), 7 * 24 * 60),
    bucketSeconds: Math.min(Math.max(Math.floor(options.bucketSeconds), 10), 86_400),
  };
  const [accepted, delivered] = await Promise.all([acceptedPerBucket(pool, span), deliveredPerBucket(pool, span)]);
  return accepted.map(({ start, accepted: n }) => ({
    start,
    accepted: n,
    delivered: delivered.get(start.getTime()) ?? 0,
  }));
}
