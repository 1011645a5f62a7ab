import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../errors.js';
import type { Pool } from './database.js';
import { type AcceptedMessage, type StoredReceipt, storeAcceptedBatch } from './inbound-messages.repo.js';
import { MicroBatcher } from './micro-batcher.js';

export interface AcceptBatcherOptions {
  /** Most messages in one transaction. */
  readonly maxBatch: number;
  /** Transactions committing at once; more arrivals wait and join the next batch. */
  readonly maxInFlight: number;
  /** Longest a message waits for a transaction slot before it is told the store is unavailable. */
  readonly timeoutMs: number;
  /**
   * Called after each commit with the key its outbox rows carry and the messages it stored new (not
   * duplicates): one processing job per commit instead of one per message. It must not throw (the
   * batch has committed); an enqueue that fails later is the sweeper's to repair.
   */
  readonly onStored?: (jobKey: string, newMessageIds: number[]) => void;
}

/**
 * Group commit of accepted messages: requests that arrive while a transaction commits are stored
 * together in the next one. Only a message still waiting for a slot times out; one already in a
 * statement waits for its real outcome (bounded by the pool's statement_timeout), so a DK0051 is
 * never followed by a commit.
 */
export class AcceptBatcher {
  private readonly batcher: MicroBatcher<AcceptedMessage, StoredReceipt | Error>;

  constructor(pool: Pool, options: AcceptBatcherOptions) {
    this.batcher = new MicroBatcher({
      maxBatch: options.maxBatch,
      maxInFlight: options.maxInFlight,
      queueTimeout: { ms: options.timeoutMs, error: () => new StoreUnavailableError(`no transaction slot within ${options.timeoutMs} ms`) },
      run: async (messages) => {
        const jobKey = randomUUID();
        let stored: (StoredReceipt | Error)[];
        try {
          stored = await storeAcceptedBatch(pool, messages, jobKey);
        } catch (error) {
          throw new StoreUnavailableError(`store failed: ${(error as Error).message}`, { cause: error });
        }
        const newMessageIds = stored.flatMap((receipt) => (receipt instanceof Error || !receipt.isNew ? [] : [receipt.messageId]));
        if (newMessageIds.length > 0) options.onStored?.(jobKey, newMessageIds);
        return stored;
      },
    });
  }

  /** Resolves after the message (or its earlier duplicate) is durably stored; rejects with StoreUnavailableError. */
  async submit(message: AcceptedMessage): Promise<StoredReceipt> {
    const stored = await this.batcher.submit(message);
    // Only a duplicate whose original could not be read back gets here with an error: nothing of it was stored.
    if (stored instanceof Error) throw new StoreUnavailableError(`store failed: ${stored.message}`, { cause: stored });
    return stored;
  }
}
