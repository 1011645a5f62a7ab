import type { Queue } from 'bullmq';
import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { countSweeperReenqueued } from '../infra/metrics/metrics.js';
import { type ProcessingJobData, processingWakeUps } from '../infra/processing-queue.js';
import { wakeDueOutbox } from '../store/processing-outbox.repo.js';

const PAGE = 1000;
/** Wake-ups already waiting in Redis beyond which the sweeper waits for workers to catch up (a hint only: Redis may have lost them, then it counts none). */
const MAX_WAITING_JOBS = 64;

/**
 * Wakes the processing worker for every outbox row that is due, read from PostgreSQL alone: a commit
 * whose job was never added (Redis down, a crash between commit and add, Redis data lost), a job that
 * failed or vanished, a message interrupted by a database outage, a replayed one. Whatever Redis holds,
 * a waiting message is woken once per grace period until it is processed or in the error queue. Safe
 * in any number of processes (rows are marked woken under SKIP LOCKED).
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  /** Wake-ups sent since start. */
  reenqueued = 0;

  constructor(
    private readonly pool: Pool,
    private readonly queue: Queue<ProcessingJobData>,
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

  /** One page: returns how many messages it woke. Never throws. */
  sweepOnce(): Promise<number> {
    this.running ??= this.sweepPage().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepPage(): Promise<number> {
    try {
      // With workers down, waking every row each grace period would pile jobs up in Redis for nothing.
      if ((await this.queue.getWaitingCount()) >= MAX_WAITING_JOBS) return 0;
      const ids = await wakeDueOutbox(this.pool, this.options.graceMs, PAGE);
      if (ids.length === 0) return 0;
      // Marked woken before the add: if the add fails, the rows are due again after the grace period.
      await this.queue.addBulk(processingWakeUps(ids));
      this.reenqueued += ids.length;
      countSweeperReenqueued('processing', ids.length);
      this.log.info('sweeper woke waiting messages', { work: 'processing', count: ids.length });
      return ids.length;
    } catch (error) {
      this.log.warn('sweep failed; will try again', { work: 'processing', error: (error as Error).message });
      return 0;
    }
  }
}
