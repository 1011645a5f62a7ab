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
  /** Direct attempts in an HTTP exchange at once; more wait for one to be answered. */
  readonly maxActive: number;
  /**
   * How long a message may wait in memory for a slot (its institution's, or one of `maxActive`) before
   * it is handed to the queue instead. Wait plus attempt must stay inside the delivery sweeper's grace,
   * so the sweeper never takes a waiting or running message for one without a job.
   */
  readonly maxWaitMs: number;
  readonly log: Logger;
  /** Called with the seconds from queued to delivered. */
  readonly onDelivered?: (seconds: number) => void;
}

/** Most messages waiting in memory for a slot; more are handed to the queue at once. */
const MAX_WAITING = 1024;

interface WaitingMessage {
  readonly message: OutboundForDelivery & { readonly endpointUrl: string };
  /** When processing handed it on (its wait is measured from here). */
  readonly queuedAt: number;
}

/**
 * Makes the first attempt at each message straight after its processing transaction committed, in
 * the same process and with the rows already in hand: no delivery job, no read back. A message the
 * first attempt does not deliver gets a job for its retries (or, when it went to the error queue, a
 * job that mirrors it in BullMQ's failed set). A message whose institution's slots are busy (or all
 * `maxActive` are) waits in memory, in arrival order, and starts as soon as an attempt of either path
 * frees a slot; after `maxWaitMs` (a hung institution) it gets an ordinary delivery job, as does one
 * without an endpoint. A message of an institution paused when processing committed waits for the
 * resume (one paused while it waits in memory may still get its first attempt, as one already under
 * way does). A crash between commit and the attempt or job loses nothing: the row is pending, and the
 * sweeper gives it a job after its grace.
 */
export class DirectDelivery {
  private active = 0;
  private readonly running = new Set<Promise<void>>();
  private waiting: WaitingMessage[] = [];
  private expiry: NodeJS.Timeout | undefined;

  constructor(private readonly options: DirectDeliveryOptions) {
    // A slot freed by either delivery path goes to the message that has waited longest for it.
    options.attempts.whenSlotFreed(() => this.startWaiting());
  }

  offer(messages: readonly OutboundForDelivery[]): void {
    const queuedAt = Date.now();
    const toQueue: number[] = [];
    for (const message of messages) {
      if (message.paused) continue;
      const { endpointUrl } = message;
      if (!endpointUrl) {
        toQueue.push(message.id);
        continue;
      }
      const ready = { ...message, endpointUrl };
      if (this.tryStart(ready, queuedAt)) continue;
      if (this.waiting.length >= MAX_WAITING) {
        toQueue.push(message.id);
        continue;
      }
      this.options.attempts.hold(message.id, true);
      this.waiting.push({ message: ready, queuedAt });
    }
    if (toQueue.length > 0) this.options.enqueue(toQueue);
    this.scheduleExpiry();
  }

  /** Hands the waiting messages to the queue, then waits for the direct attempts under way and their follow-up jobs (shutdown, tests). */
  async drain(): Promise<void> {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.handToQueue(this.waiting);
    this.waiting = [];
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * No room for another attempt: `maxActive` HTTP exchanges, or twice that many attempts under way with
   * their records (a slow database slows direct delivery down instead of piling up unrecorded deliveries).
   */
  private full(): boolean {
    return this.active >= this.options.maxActive || this.running.size >= 2 * this.options.maxActive;
  }

  private tryStart(message: WaitingMessage['message'], queuedAt: number): boolean {
    if (this.full()) return false;
    const releaseInstitutionSlot = this.options.attempts.reserve(message);
    if (!releaseInstitutionSlot) return false;
    this.active += 1;
    // `active` counts HTTP exchanges, like the institution's slots: both end when the answer is in.
    // Freed before the institution's slot, whose release starts the next waiting message.
    let released = false;
    const releaseSlots = (): void => {
      if (released) return;
      released = true;
      this.active -= 1;
      releaseInstitutionSlot();
    };
    const run = this.attemptFirst(message, queuedAt, releaseSlots).finally(() => {
      releaseSlots();
      this.running.delete(run);
      this.startWaiting(); // a message may have waited for the record, not a slot
    });
    this.running.add(run);
    return true;
  }

  /** Starts waiting messages whose slots are free, oldest first; those that waited `maxWaitMs` go to the queue. */
  private startWaiting(): void {
    const now = Date.now();
    const oldest = this.waiting[0];
    if (!oldest) return;
    if (this.full() && now - oldest.queuedAt < this.options.maxWaitMs) {
      this.scheduleExpiry();
      return;
    }
    const expired: WaitingMessage[] = [];
    this.waiting = this.waiting.filter((waiting) => {
      if (now - waiting.queuedAt >= this.options.maxWaitMs) {
        expired.push(waiting);
        return false;
      }
      if (this.full()) return true;
      this.options.attempts.hold(waiting.message.id, false);
      if (this.tryStart(waiting.message, waiting.queuedAt)) return false;
      this.options.attempts.hold(waiting.message.id, true);
      return true;
    });
    this.handToQueue(expired);
    this.scheduleExpiry();
  }

  private handToQueue(waiting: readonly WaitingMessage[]): void {
    if (waiting.length === 0) return;
    for (const { message } of waiting) this.options.attempts.hold(message.id, false);
    this.options.enqueue(waiting.map(({ message }) => message.id));
  }

  /** Wakes up when the oldest waiting message's time is up, in case no attempt finishes before. */
  private scheduleExpiry(): void {
    if (this.expiry || this.waiting.length === 0) return;
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      this.startWaiting();
    }, Math.max(0, this.waiting[0]!.queuedAt + this.options.maxWaitMs - Date.now()));
    this.expiry.unref();
  }

  private async attemptFirst(message: OutboundForDelivery & { readonly endpointUrl: string }, queuedAt: number, releaseSlots: () => void): Promise<void> {
    const { retries, backoffMs, queue } = this.options;
    try {
      const outcome = await this.options.attempts.attempt(message, 1, retries === 0, releaseSlots);
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
