import type { Queue } from 'bullmq';
import { Gauge, Registry } from 'prom-client';
import type { Pool } from '../database.js';

/** What a scrape reads from PostgreSQL and Redis. */
interface StoreSnapshot {
  readonly queueJobs: { queue: string; state: string; count: number }[];
  readonly processingBacklog: number;
  readonly processingErrors: number;
  readonly outbound: { status: string; count: number }[];
  readonly errorQueue: { institution: string; count: number }[];
  readonly paused: string[];
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

async function readSnapshot(pool: Pool, queues: readonly Queue[]): Promise<StoreSnapshot> {
  const [jobCounts, backlog, outbound, errors, paused] = await Promise.all([
    Promise.all(queues.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...QUEUE_STATES) }))),
    pool.query<{ n: number; failed: number }>('SELECT count(*) FILTER (WHERE failed_at IS NULL)::int AS n, count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed FROM processing_outbox'),
    pool.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM outbound_messages WHERE status IN ('pending', 'error') GROUP BY status"),
    // Every institution gets a series, 0 when its error queue is empty: an alert on the gauge's delta then fires for its first message.
    pool.query<{ institution_oin: string; n: number }>(
      `SELECT i.oin AS institution_oin, coalesce(e.n, 0)::int AS n FROM institutions i
       LEFT JOIN (SELECT institution_oin, count(*) AS n FROM outbound_messages WHERE status = 'error' GROUP BY institution_oin) e ON e.institution_oin = i.oin`),
    pool.query<{ oin: string }>('SELECT oin FROM institutions WHERE paused'),
  ]);
  return {
    queueJobs: jobCounts.flatMap(({ queue, counts }) => QUEUE_STATES.map((state) => ({ queue, state, count: counts[state] ?? 0 }))),
    processingBacklog: backlog.rows[0]!.n,
    processingErrors: backlog.rows[0]!.failed,
    outbound: ['pending', 'error'].map((status) => ({ status, count: outbound.rows.find((r) => r.status === status)?.n ?? 0 })),
    errorQueue: errors.rows.map((r) => ({ institution: r.institution_oin, count: r.n })),
    paused: paused.rows.map((r) => r.oin),
  };
}

/**
 * Gauges read at scrape time from PostgreSQL and Redis: queue depths, the processing backlog, the
 * error queue per institution. One snapshot serves all gauges of a scrape, and
 * an unreachable store shows as `bron_store_up 0` instead of failing the whole scrape. In a cluster
 * every worker reads the same values, so they aggregate with `max`, not `sum`.
 */
export function createStoreGauges(pool: Pool, queues: readonly Queue[]): Registry {
  const registry = new Registry();
  // prom-client starts every metric's collect() in one synchronous loop per scrape, so sharing the
  // read while it is in flight gives each scrape exactly one fresh snapshot.
  let inFlight: Promise<StoreSnapshot | null> | undefined;
  const snapshot = (): Promise<StoreSnapshot | null> => {
    inFlight ??= readSnapshot(pool, queues).catch(() => null).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: StoreSnapshot) => void): void => {
    new Gauge<L>({
      name, help, labelNames, registers: [registry], aggregator: 'max',
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) fill(this, s);
      },
    });
  };
  new Gauge({
    name: 'bron_store_up', help: 'Whether the last scrape could read PostgreSQL and Redis (1) or not (0)', registers: [registry], aggregator: 'max',
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  gauge('bron_queue_jobs', 'BullMQ wake-up jobs per queue (processing) and state', ['queue', 'state'], (g, s) => {
    for (const { queue, state, count } of s.queueJobs) g.set({ queue, state }, count);
  });
  gauge('bron_processing_backlog_messages', 'Accepted messages not yet processed (waiting rows in the processing outbox)', [], (g, s) => g.set(s.processingBacklog));
  gauge('bron_processing_error_queue_messages', 'Accepted messages that could not be processed (the processing error queue)', [], (g, s) => g.set(s.processingErrors));
  gauge('bron_outbound_messages', 'Outbound messages waiting for delivery (pending) or in the error queue (error)', ['status'], (g, s) => {
    for (const { status, count } of s.outbound) g.set({ status }, count);
  });
  gauge('bron_error_queue_messages', 'Messages in the error queue, per institution OIN', ['institution'], (g, s) => {
    for (const { institution, count } of s.errorQueue) g.set({ institution }, count);
  });
  gauge('bron_institution_paused', 'Institutions whose deliveries are paused (1 per paused institution OIN)', ['institution'], (g, s) => {
    for (const institution of s.paused) g.set({ institution }, 1);
  });
  return registry;
}
