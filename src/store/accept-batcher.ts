import { StoreUnavailableError } from '../errors.js';
import type { Pool } from './database.js';
import { type AcceptedMessage, type StoredReceipt, storeAcceptedBatch } from './inbound-messages.repo.js';

export interface AcceptBatcherOptions {
  /** Most messages in one transaction. */
  readonly maxBatch: number;
  /** Transactions committing at once; more arrivals wait and join the next batch. */
  readonly maxInFlight: number;
  /** Longest a message waits for a transaction slot before it is told the store is unavailable. */
  readonly timeoutMs: number;
}

interface Waiter {
  readonly message: AcceptedMessage;
  readonly resolve: (receipt: StoredReceipt) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
}

/**
 * Group commit: requests that arrive while a transaction is committing are stored together in the
 * next one, so one fsync serves many messages. Under light load a message is committed alone at
 * once; under heavy load batches grow to `maxBatch`. Each caller learns its own outcome only after
 * its batch committed.
 */
export class AcceptBatcher {
  private pending: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly pool: Pool, private readonly options: AcceptBatcherOptions) {}

  /** Resolves after the message (or its earlier duplicate) is durably stored; rejects with StoreUnavailableError. */
  submit(message: AcceptedMessage): Promise<StoredReceipt> {
    return new Promise((resolve, reject) => {
      const finish = (action: () => void): void => {
        if (waiter.settled) return;
        waiter.settled = true;
        clearTimeout(timer);
        action();
      };
      const waiter: Waiter = {
        message,
        settled: false,
        resolve: (receipt) => finish(() => resolve(receipt)),
        reject: (error) => finish(() => reject(error)),
      };
      // Only a message still waiting for a batch times out here; one already in a statement waits for
      // its real outcome (bounded by the pool's statement_timeout), so a DK0051 is never followed by a commit.
      const timer = setTimeout(() => {
        const index = this.pending.indexOf(waiter);
        if (index === -1) return;
        this.pending.splice(index, 1);
        waiter.reject(new StoreUnavailableError(`no transaction slot within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      this.pending.push(waiter);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // setImmediate lets requests parsed in the same loop turn join one batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch).filter((waiter) => !waiter.settled);
      if (batch.length === 0) continue;
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        if (this.pending.length > 0) this.schedule();
      });
    }
  }

  private async commit(batch: Waiter[]): Promise<void> {
    try {
      const receipts = await storeAcceptedBatch(this.pool, batch.map((waiter) => waiter.message));
      batch.forEach((waiter, index) => waiter.resolve(receipts[index]!));
    } catch (error) {
      const failure = new StoreUnavailableError(`store failed: ${(error as Error).message}`, { cause: error });
      for (const waiter of batch) waiter.reject(failure);
    }
  }
}
