import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import type { DeliveryAttempts } from './delivery-attempts.js';
import { type DeliveryJobData, parkJob, retryJob } from './delivery-queue.js';

export interface DirectDeliveryOptions {
  readonly attempts: DeliveryAttempts;
  /** Where retries and error-queue mirrors go as jobs. */
  readonly queue: Queue<DeliveryJobData>;
  /** Hands messages to the queued path (a delivery job each) when no direct attempt is made. */
  readonly enqueue: (ids: readonly number[]) => void;
  readonly retries: number;
  readonly backoffMs: readonly number[];
  /** Direct attempts running at once; more go to the queue. */
  readonly maxActive: number;
  readonly log: Logger;
  /** Called with the seconds from queued to delivered. */
  readonly onDelivered?: (seconds: number) => void;
}

/**
 * Makes the first attempt at each message straight after its processing transaction committed, in
 * the same process and with the rows already in hand: no delivery job, no read back. A message the
 * first attempt does not deliver gets a job for its retries (or, when it went to the error queue, a
 * job that mirrors it in BullMQ's failed set). A message that cannot be attempted now (its
 * institution's slots busy, no endpoint, too many direct attempts) gets an ordinary delivery job; a
 * paused institution's messages wait for the resume. A crash between commit and the job loses
 * nothing: the row is pending, and the sweeper gives it a job after its grace period.
 */
export class DirectDelivery {
  private active = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: DirectDeliveryOptions) {}

  offer(messages: readonly OutboundForDelivery[]): void {
    const queuedAt = Date.now();
    const toQueue: number[] = [];
    for (const message of messages) {
      if (message.paused) continue;
      const { endpointUrl } = message;
      if (!endpointUrl || this.active >= this.options.maxActive || !this.options.attempts.reserve(message)) {
        toQueue.push(message.id);
        continue;
      }
      this.active += 1;
      const run = this.attemptFirst({ ...message, endpointUrl }, queuedAt).finally(() => {
        this.options.attempts.release(message.institutionOin);
        this.active -= 1;
        this.running.delete(run);
      });
      this.running.add(run);
    }
    if (toQueue.length > 0) this.options.enqueue(toQueue);
  }

  /** Waits for the direct attempts under way, and their follow-up jobs (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async attemptFirst(message: OutboundForDelivery & { readonly endpointUrl: string }, queuedAt: number): Promise<void> {
    const { retries, backoffMs, queue } = this.options;
    try {
      const outcome = await this.options.attempts.attempt(message, 1, retries === 0);
      if (outcome.kind === 'delivered') {
        this.options.onDelivered?.((Date.now() - queuedAt) / 1000);
        return;
      }
      const job = outcome.kind === 'failed' || retries === 0 ? parkJob(message.id) : retryJob(message.id, retries, 1, backoffMs, queuedAt);
      await queue.add(job.name, job.data, job.opts);
    } catch (error) {
      // The attempt's record or its job was not written. PostgreSQL still says what holds: a pending
      // message gets its job from the sweeper; one in the error queue stays there, unmirrored.
      this.options.log.warn('direct delivery follow-up failed; the sweeper takes over', { outboundId: message.id, error: (error as Error).message });
    }
  }
}
