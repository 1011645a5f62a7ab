import type { Queue } from 'bullmq';
import { Gauge, Registry } from 'prom-client';

/**
 * The counts a scrape reads from PostgreSQL. The composition root hands in the function that reads them
 * (infra/ imports no repository), the same one the operator's stats use.
 */
export interface StoreCounts {
  readonly processingBacklog: number;
  readonly processingErrors: number;
  readonly outbound: { readonly pending: number; readonly error: number };
  /** Every institution, 0 when its error queue is empty: an alert on the gauge's delta then fires for its first message. */
  readonly institutions: readonly { readonly oin: string; readonly paused: boolean; readonly errorQueued: number }[];
}

/** What one scrape reads from PostgreSQL and Redis. */
interface StoreSnapshot extends StoreCounts {
  readonly queueJobs: { queue: string; state: string; count: number }[];
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

async function readSnapshot(readCounts: () => Promise<StoreCounts>, queues: readonly Queue[]): Promise<StoreSnapshot> {
  const [jobCounts, counts] = await Promise.all([
    Promise.all(
      queues.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts(...QUEUE_STATES) })),
    ),
    readCounts(),
  ]);
  return {
    ...counts,
    queueJobs: jobCounts.flatMap(({ queue, counts: byState }) =>
      QUEUE_STATES.map((state) => ({ queue, state, count: byState[state] ?? 0 })),
    ),
  };
}

/**
 * Gauges read at scrape time from PostgreSQL and Redis: queue depths, the processing backlog, the
 * error queue per institution. One snapshot serves all gauges of a scrape, and
 * an unreachable store shows as `bron_store_up 0` instead of failing the whole scrape. In a cluster
 * every worker reads the same values, so they aggregate with `max`, not `sum`.
 */
export function createStoreGauges(readCounts: () => Promise<StoreCounts>, queues: readonly Queue[]): Registry {
  const registry = new Registry();
  // prom-client starts every metric's collect() in one synchronous loop per scrape, so sharing the
  // read while it is in flight gives each scrape exactly one fresh snapshot.
  let inFlight: Promise<StoreSnapshot | null> | undefined;
  const snapshot = (): Promise<StoreSnapshot | null> => {
    inFlight ??= readSnapshot(readCounts, queues)
      .catch(() => null)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: StoreSnapshot) => void,
  ): void => {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      aggregator: 'max',
      async collect() {
        const s = await snapshot();
        this.reset();
        if (s) fill(this, s);
      },
    });
  };
  new Gauge({
    name: 'bron_store_up',
    help: 'Whether the last scrape could read PostgreSQL and Redis (1) or not (0)',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  gauge('bron_queue_jobs', 'BullMQ wake-up jobs per queue (processing) and state', ['queue', 'state'], (g, s) => {
    for (const { queue, state, count } of s.queueJobs) g.set({ queue, state }, count);
  });
  gauge(
    'bron_processing_backlog_messages',
    'Accepted messages not yet processed (waiting rows in the processing outbox)',
    [],
    (g, s) => g.set(s.processingBacklog),
  );
  gauge(
    'bron_processing_error_queue_messages',
    'Accepted messages that could not be processed (the processing error queue)',
    [],
    (g, s) => g.set(s.processingErrors),
  );
  gauge(
    'bron_outbound_messages',
    'Outbound messages waiting for delivery (pending) or in the error queue (error)',
    ['status'],
    (g, s) => {
      for (const status of ['pending', 'error'] as const) g.set({ status }, s.outbound[status]);
    },
  );
  gauge('bron_error_queue_messages', 'Messages in the error queue, per institution OIN', ['institution'], (g, s) => {
    for (const { oin, errorQueued } of s.institutions) g.set({ institution: oin }, errorQueued);
  });
  gauge(
    'bron_institution_paused',
    'Institutions whose deliveries are paused (1 per paused institution OIN)',
    ['institution'],
    (g, s) => {
      for (const { oin } of s.institutions.filter((i) => i.paused)) g.set({ institution: oin }, 1);
    },
  );
  return registry;
}
