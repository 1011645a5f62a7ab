import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { countSweeperReenqueued } from '../metrics/metrics.js';
import type { JobsFor } from './enqueuer.js';

const PAGE = 1000;

/** One kind of durable work whose rows in PostgreSQL must each have a job in BullMQ. */
export interface SweptWork<T> {
  readonly name: string;
  readonly queue: Queue<T>;
  /** Row ids older than the grace period, after `afterId`, ascending. */
  listDue(afterId: number, graceMs: number, limit: number): Promise<number[]>;
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
      const ids = await this.work.listDue(this.cursor, this.options.graceMs, PAGE);
      this.cursor = ids.length < PAGE ? 0 : ids[ids.length - 1]!;
      if (ids.length === 0) return 0;
      const exists = await this.redis.pipeline(ids.map((id) => ['exists', this.work.queue.toKey(this.work.jobId(id))])).exec();
      const missing = ids.filter((_, index) => exists?.[index]?.[1] !== 1);
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
