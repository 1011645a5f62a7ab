import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import type { Pool } from '../infra/database.js';
import { type AcceptedMessage, readSettledReceipts, type StoredReceipt } from '../store/inbound-messages.repo.js';

/** Per message: its stored row as a receipt, or null when nothing of it is stored (and never will be by that statement). */
export type SettledOutcome = (StoredReceipt | null)[];

/**
 * Learns what an accept statement whose answer never came stored, on a connection of its own (the
 * accept pool's may all be stuck). Retries while the server is unreachable or its clock is behind the
 * deadline; returns undefined when `waitMs` (from the deadline) ran out without an answer.
 */
export async function settleCommitOutcome(
  pool: Pool,
  messages: readonly AcceptedMessage[],
  deadline: Date,
  waitMs: number,
): Promise<SettledOutcome | undefined> {
  const giveUpAt = deadline.getTime() + waitMs;
  while (Date.now() < giveUpAt) {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const outcome = await readSettledReceipts(client, messages, deadline);
      client.release();
      if (outcome) return outcome;
      await sleep(50); // this server's clock is behind the broker's
    } catch (error) {
      // A look that got no answer may be waiting in the server too: this connection is done.
      client?.release(error as Error);
      await sleep(100);
    }
  }
  return undefined;
}
