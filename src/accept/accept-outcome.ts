import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import type { Pool } from '../shared/database.js';
import { type AcceptedMessage, type ExistingRow, SELECT_EXISTING, type StoredReceipt, existingByMessage, existingParameters, receiptFromExisting } from '../store/inbound-messages.repo.js';

/** The advisory lock of migration 012's commit-time check (two-integer form). */
const COMMIT_CHECK_LOCK = [1112691534, 51] as const;

/** Per message: its stored row as a receipt, or null when nothing of it is stored (and never will be by that statement). */
export type SettledOutcome = (StoredReceipt | null)[];

/**
 * One look, in one transaction: the exclusive lock waits for every accept transaction that passed its
 * commit-time check (they hold it shared until they end); then, if this server's clock is past the
 * deadline, no statement with that deadline can commit any more, and what is stored now is final.
 * Returns undefined while the server's clock has not reached the deadline.
 */
async function lookOnce(client: PoolClient, messages: readonly AcceptedMessage[], deadline: Date): Promise<SettledOutcome | undefined> {
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...COMMIT_CHECK_LOCK]);
  // A new statement, so a snapshot taken after the lock was granted.
  const past = (await client.query<{ past: boolean }>('SELECT clock_timestamp() > $1::timestamptz AS past', [deadline])).rows[0]!.past;
  const found = past ? (await client.query<ExistingRow>(SELECT_EXISTING, existingParameters(messages))).rows : [];
  // On a failure above the caller drops the connection, which rolls back and frees the lock.
  await client.query('COMMIT');
  if (!past) return undefined;
  const byMessage = existingByMessage(messages, found);
  return messages.map((message, i) => receiptFromExisting(message, byMessage[i]!) ?? null);
}

/**
 * Learns what an accept statement whose answer never came stored, on a connection of its own (the
 * accept pool's may all be stuck). Retries while the server is unreachable or its clock is behind the
 * deadline; returns undefined when `waitMs` (from the deadline) ran out without an answer.
 */
export async function settleCommitOutcome(pool: Pool, messages: readonly AcceptedMessage[], deadline: Date, waitMs: number): Promise<SettledOutcome | undefined> {
  const giveUpAt = deadline.getTime() + waitMs;
  while (Date.now() < giveUpAt) {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const outcome = await lookOnce(client, messages, deadline);
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
