import type { Queue } from 'bullmq';
import type { Pool } from '../shared/database.js';

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

export async function collectStats(pool: Pool, queues: readonly Queue[] = []): Promise<Stats> {
  const [inbound, outcomes, open, delivered, institutions, jobCounts] = await Promise.all([
    pool.query<{ hour: number; day: number; backlog: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE received_at > now() - interval '1 hour')::int AS hour, count(*)::int AS day,
         (SELECT count(*) FROM processing_outbox WHERE failed_at IS NULL)::int AS backlog,
         (SELECT count(*) FROM processing_outbox WHERE failed_at IS NOT NULL)::int AS failed
       FROM inbound_messages WHERE received_at > now() - interval '24 hours'`),
    pool.query<{ outcome: string; n: number }>(
      "SELECT r.outcome, count(*)::int AS n FROM processing_results r JOIN inbound_messages m ON m.id = r.message_id WHERE m.received_at > now() - interval '24 hours' GROUP BY r.outcome ORDER BY r.outcome"),
    pool.query<{ pending: number; error: number }>(
      "SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'error')::int AS error FROM outbound_messages WHERE status IN ('pending', 'error')"),
    pool.query<{ n: number; p50: number | null; p95: number | null; max: number | null }>(
      `SELECT count(*)::int AS n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) AS p95,
         max(extract(epoch FROM delivered_at - created_at))::float8 AS max
       FROM outbound_messages WHERE delivered_at > now() - interval '1 hour' AND status = 'delivered'`),
    pool.query<{ total: number; paused: number }>('SELECT count(*)::int AS total, count(*) FILTER (WHERE paused)::int AS paused FROM institutions'),
    Promise.all(queues.map(async (queue) => [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const)),
  ]);
  const latency = delivered.rows[0]!;
  const round = (seconds: number | null): number => Math.round((seconds ?? 0) * 1000) / 1000;
  return {
    at: new Date(),
    acceptedLastHour: inbound.rows[0]!.hour,
    acceptedLast24h: inbound.rows[0]!.day,
    outcomesLast24h: Object.fromEntries(outcomes.rows.map((r) => [r.outcome, r.n])),
    processingBacklog: inbound.rows[0]!.backlog,
    processingErrors: inbound.rows[0]!.failed,
    outboundPending: open.rows[0]!.pending,
    errorQueue: open.rows[0]!.error,
    deliveredLastHour: latency.n,
    deliveryLatencyLastHour: latency.n === 0 ? null : { p50: round(latency.p50), p95: round(latency.p95), max: round(latency.max) },
    institutions: institutions.rows[0]!,
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
export async function messageSeries(pool: Pool, options: { minutes: number; bucketSeconds: number }): Promise<SeriesPoint[]> {
  const minutes = Math.min(Math.max(Math.floor(options.minutes), 1), 7 * 24 * 60);
  const bucket = Math.min(Math.max(Math.floor(options.bucketSeconds), 10), 86_400);
  const count = (sql: string) => pool.query<{ start: Date; n: number }>(sql, [minutes, bucket]);
  const bin = (column: string): string => `date_bin(make_interval(secs => $2), ${column}, timestamptz 'epoch')`;
  const since = `now() - make_interval(mins => $1)`;
  const [accepted, delivered, range] = await Promise.all([
    count(`SELECT ${bin('received_at')} AS start, count(*)::int AS n FROM inbound_messages WHERE received_at > ${since} GROUP BY 1`),
    count(`SELECT ${bin('delivered_at')} AS start, count(*)::int AS n FROM outbound_messages WHERE delivered_at > ${since} AND status = 'delivered' GROUP BY 1`),
    count(`SELECT generate_series(${bin(since)}, now(), make_interval(secs => $2)) AS start, 0 AS n`),
  ]);
  const lookup = (rows: { start: Date; n: number }[]) => new Map(rows.map((r) => [r.start.getTime(), r.n]));
  const acceptedBy = lookup(accepted.rows);
  const deliveredBy = lookup(delivered.rows);
  return range.rows.map(({ start }) => ({ start, accepted: acceptedBy.get(start.getTime()) ?? 0, delivered: deliveredBy.get(start.getTime()) ?? 0 }));
}
