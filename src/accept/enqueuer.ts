import type { JobsOptions, Queue } from 'bullmq';
import type { Logger } from '../infra/log.js';

/** The addBulk entries for a set of keys (row ids, or batches of them). */
export type JobsFor<T, K = number> = (keys: readonly K[]) => { name: string; data: T; opts: JobsOptions }[];

/**
 * Adds jobs for committed rows, gathering those of one loop turn into one addBulk. A failure is only
 * logged: the row is in PostgreSQL and a sweeper will enqueue it.
 */
export class Enqueuer<T, K = number> {
  private keys: K[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: Queue<T>,
    private readonly jobsFor: JobsFor<T, K>,
    private readonly log: Logger,
  ) {}

  enqueue(...keys: K[]): void {
    this.keys.push(...keys);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.keys;
      this.keys = [];
      const previous = this.inFlight;
      this.inFlight = Promise.all([previous, this.add(batch)]).then(() => undefined);
    });
  }

  /** Adds jobs for these keys now; a job that exists already is left as it is. */
  async add(keys: readonly K[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.queue.addBulk(this.jobsFor(keys) as Parameters<Queue<T>['addBulk']>[0]);
    } catch (error) {
      this.log.warn('enqueue failed; the sweeper will retry', {
        queue: this.queue.name,
        count: keys.length,
        error: (error as Error).message,
      });
    }
  }

  /** Waits for the adds started so far (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.inFlight;
  }
}
