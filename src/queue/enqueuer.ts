import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import { type ProcessingJobData, processingJobs } from './processing-queue.js';

/**
 * Adds processing jobs for committed messages, gathering those of one loop turn into one addBulk.
 * A failure is only logged: the message is in the outbox and the sweeper will enqueue it.
 */
export class Enqueuer {
  private ids: number[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly queue: Queue<ProcessingJobData>, private readonly log: Logger) {}

  enqueue(messageId: number): void {
    this.ids.push(messageId);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const ids = this.ids;
      this.ids = [];
      const previous = this.inFlight;
      this.inFlight = Promise.all([previous, this.add(ids)]).then(() => undefined);
    });
  }

  /** Adds jobs for these ids now; a job that exists already is left as it is. */
  async add(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.queue.addBulk(processingJobs(ids));
    } catch (error) {
      this.log.warn('enqueue failed; the sweeper will retry', { count: ids.length, error: (error as Error).message });
    }
  }

  /** Waits for the adds started so far (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.inFlight;
  }
}
