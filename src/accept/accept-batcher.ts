import { randomUUID } from 'node:crypto';
import type { Pool } from '../infra/database.js';
import { StoreOutcomeUnknownError, StoreUnavailableError } from '../infra/errors.js';
import { MicroBatcher } from '../infra/micro-batcher.js';
import {
  type AcceptedMessage,
  CommitOutcomeUnknownError,
  type StoredReceipt,
  storeAcceptedBatch,
} from '../store/inbound-messages.repo.js';
import { settleCommitOutcome } from './accept-outcome.js';

export interface AcceptBatcherOptions {
  /** Most messages in one transaction. */
  readonly maxBatch: number;
  /** Transactions committing at once; more arrivals wait and join the next batch. */
  readonly maxInFlight: number;
  /**
   * Longest a message waits for a transaction slot before it is told the store is unavailable, and
   * the longest a statement may take to commit once it has its connection (its deadline, enforced by
   * PostgreSQL at commit).
   */
  readonly timeoutMs: number;
  /**
   * Where to learn the outcome of a statement whose answer never came (a pool apart from the accept
   * pool, whose connections may all be stuck), and for how long after its deadline to keep trying.
   */
  readonly outcome: { readonly pool: Pool; readonly waitMs: number };
  /**
   * Called after each commit with the key its outbox rows carry and the messages it stored new (not
   * duplicates): one processing job per commit instead of one per message. It must not throw (the
   * batch has committed); an enqueue that fails later is the sweeper's to repair.
   */
  readonly onStored?: (jobKey: string, newMessageIds: number[]) => void;
}

/**
 * Group commit of accepted messages: requests that arrive while a transaction commits are stored
 * together in the next one. A message still waiting for a slot times out before it reaches the
 * database. A statement carries a deadline past which PostgreSQL refuses to commit it; when its
 * answer does not come by then, the batch asks on another connection what is stored, and what it
 * answers is final. So a StoreUnavailableError (DK0051) is never followed by a commit of that batch;
 * when the outcome cannot be learnt, the batch fails with StoreOutcomeUnknownError instead.
 */
export class AcceptBatcher {
  private readonly batcher: MicroBatcher<AcceptedMessage, StoredReceipt | Error>;

  constructor(
    pool: Pool,
    private readonly options: AcceptBatcherOptions,
  ) {
    this.batcher = new MicroBatcher({
      maxBatch: options.maxBatch,
      maxInFlight: options.maxInFlight,
      queueTimeout: {
        ms: options.timeoutMs,
        error: () => new StoreUnavailableError(`no transaction slot within ${options.timeoutMs} ms`),
      },
      run: async (messages) => {
        const jobKey = randomUUID();
        let stored: (StoredReceipt | Error)[];
        try {
          stored = await storeAcceptedBatch(pool, messages, jobKey, options.timeoutMs);
        } catch (error) {
          if (!(error instanceof CommitOutcomeUnknownError))
            throw new StoreUnavailableError(`store failed: ${(error as Error).message}`, { cause: error });
          stored = await this.settle(messages, error);
        }
        const newMessageIds = stored.flatMap((receipt) =>
          receipt instanceof Error || !receipt.isNew ? [] : [receipt.messageId],
        );
        if (newMessageIds.length > 0) options.onStored?.(jobKey, newMessageIds);
        return stored;
      },
    });
  }

  /** The final outcome of a batch whose statement went unanswered; throws when it cannot be learnt. */
  private async settle(
    messages: readonly AcceptedMessage[],
    unanswered: CommitOutcomeUnknownError,
  ): Promise<(StoredReceipt | Error)[]> {
    const outcome = await settleCommitOutcome(
      this.options.outcome.pool,
      messages,
      unanswered.deadline,
      this.options.outcome.waitMs,
    );
    if (!outcome)
      throw new StoreOutcomeUnknownError(`outcome unknown ${this.options.outcome.waitMs} ms after the deadline`, {
        cause: unanswered,
      });
    return outcome.map(
      (receipt) => receipt ?? new StoreUnavailableError(`not stored: ${unanswered.message}`, { cause: unanswered }),
    );
  }

  /** Resolves after the message (or its earlier duplicate) is durably stored; rejects with StoreUnavailableError or StoreOutcomeUnknownError. */
  async submit(message: AcceptedMessage): Promise<StoredReceipt> {
    const stored = await this.batcher.submit(message);
    if (stored instanceof StoreUnavailableError) throw stored;
    // Otherwise only a duplicate whose original could not be read back gets here with an error: nothing of it was stored.
    if (stored instanceof Error) throw new StoreUnavailableError(`store failed: ${stored.message}`, { cause: stored });
    return stored;
  }
}
