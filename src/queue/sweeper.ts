import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { countSweeperReenqueued } from '../metrics/metrics.js';
import type { JobsFor } from './enqueuer.js';

const PAGE = 1000;

/** A row that must have a live job: its id, and the id of a batch job that may hold it instead of its own. */
export interface DueRow {
  readonly id: number;
  readonly batchJobId?: string | undefined;
}

/** One kind of durable work whose rows in PostgreSQL must each have a job in BullMQ. */
export interface SweptWork<T> {
  readonly name: string;
  readonly queue: Queue<T>;
  /** Rows older than the grace period, after `afterId`, ascending by id. */
  listDue(afterId: number, graceMs: number, limit: number): Promise<readonly DueRow[]>;
  /** The row's own job, which the sweeper adds when neither it nor the row's batch job lives. */
  readonly jobId: (id: number) => string;
  readonly jobsFor: JobsFor<T>;
}

/**
 * Re-enqueues rows that have no live job: the commit happened but the enqueue did not (Redis down, a
 * crash between commit and add, Redis data lost). Walks the rows in id pages, one page a tick, and
 * checks job existence in one Redis round trip per page.
 */
export class Sweeper<T> {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  /** Jobs re-created since start. */
  reenqueued = 0;

  constructor(
    private readonly work: SweptWork<T>,
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly options: { intervalMs: number; graceMs: number },
  ) {}

  start(): void {
    const tick = (): void => {
      void this.sweepOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One page: returns how many jobs it re-created. Never throws. */
  sweepOnce(): Promise<number> {
    this.running ??= this.sweepPage().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepPage(): Promise<number> {
    try {
      const rows = await this.work.listDue(this.cursor, this.options.graceMs, PAGE);
      this.cursor = rows.length < PAGE ? 0 : rows[rows.length - 1]!.id;
      if (rows.length === 0) return 0;
      // Per row: does its own job or its batch job exist? One EXISTS per distinct key, one round trip.
      const keysOf = (row: DueRow): string[] => [this.work.jobId(row.id), ...(row.batchJobId ? [row.batchJobId] : [])].map((id) => this.work.queue.toKey(id));
      const keys = [...new Set(rows.flatMap(keysOf))];
      const exists = await this.redis.pipeline(keys.map((key) => ['exists', key])).exec();
      const live = new Set(keys.filter((_, index) => exists?.[index]?.[1] === 1));
      const missing = rows.filter((row) => !keysOf(row).some((key) => live.has(key))).map((row) => row.id);
      if (missing.length === 0) return 0;
      await this.work.queue.addBulk(this.work.jobsFor(missing) as Parameters<Queue<T>['addBulk']>[0]);
      this.reenqueued += missing.length;
      countSweeperReenqueued(this.work.name, missing.length);
      this.log.info('sweeper re-enqueued rows without a job', { work: this.work.name, count: missing.length });
      return missing.length;
    } catch (error) {
      this.log.warn('sweep failed; will try again', { work: this.work.name, error: (error as Error).message });
      return 0;
    }
  }
}
