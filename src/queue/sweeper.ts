import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '../store/database.js';
import { listDueOutbox } from '../store/inbound-messages.repo.js';
import type { Logger } from '../log.js';
import { type ProcessingJobData, processingJobId, processingJobs } from './processing-queue.js';

const PAGE = 1000;

/**
 * Re-enqueues outbox rows that have no live job: the commit happened but the enqueue did not (Redis
 * down, crash between commit and add, Redis data lost). Walks the outbox in id pages, one page a tick,
 * and checks job existence in one Redis round trip per page.
 */
export class Sweeper {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  /** Jobs re-created since start (exported as a metric later). */
  reenqueued = 0;

  constructor(
    private readonly pool: Pool,
    private readonly queue: Queue<ProcessingJobData>,
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
      const ids = await listDueOutbox(this.pool, this.cursor, this.options.graceMs, PAGE);
      this.cursor = ids.length < PAGE ? 0 : ids[ids.length - 1]!;
      if (ids.length === 0) return 0;
      const exists = await this.redis.pipeline(ids.map((id) => ['exists', this.queue.toKey(processingJobId(id))])).exec();
      const missing = ids.filter((_, index) => exists?.[index]?.[1] !== 1);
      if (missing.length === 0) return 0;
      await this.queue.addBulk(processingJobs(missing));
      this.reenqueued += missing.length;
      this.log.info('sweeper re-enqueued messages without a job', { count: missing.length });
      return missing.length;
    } catch (error) {
      this.log.warn('sweep failed; will try again', { error: (error as Error).message });
      return 0;
    }
  }
}
