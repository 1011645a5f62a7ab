import { type Pool, prepared } from '../infra/database.js';
import {
  CLAIMED_MESSAGE_COLUMNS,
  type ClaimedMessage,
  type ClaimedMessageRow,
  type Tx,
  toClaimedMessage,
} from './register.repo.js';

/**
 * Outbox rows due for a wake-up: waiting (not in the processing error queue), not being processed (a
 * processing transaction holds its row lock), and not woken within `graceMs`. Each is marked woken
 * now, so several sweepers, in any number of processes, wake a row once per grace period.
 */
export async function wakeDueOutbox(pool: Pool, graceMs: number, limit: number): Promise<number[]> {
  const result = await pool.query<{ message_id: number }>(
    prepared(
      'outbox-wake',
      `UPDATE processing_outbox SET next_attempt_at = now()
     WHERE message_id IN (
       SELECT message_id FROM processing_outbox
       WHERE failed_at IS NULL AND next_attempt_at <= now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING message_id`,
      [graceMs, limit],
    ),
  );
  return result.rows.map((row) => row.message_id).sort((a, b) => a - b);
}

/** The message, still waiting in the outbox, locked for this transaction; null when it is not (processed, failed or gone). */
export async function lockWaitingMessage(tx: Tx, messageId: number): Promise<ClaimedMessage | null> {
  const result = await tx.query<ClaimedMessageRow>(
    `SELECT ${CLAIMED_MESSAGE_COLUMNS}
     FROM processing_outbox o JOIN inbound_messages m ON m.id = o.message_id
     WHERE o.message_id = $1 AND o.failed_at IS NULL FOR UPDATE OF o`,
    [messageId],
  );
  const row = result.rows[0];
  return row ? toClaimedMessage(tx, row) : null;
}

/** Puts a waiting message in the processing error queue with its reason. */
export async function markProcessingFailed(tx: Tx, messageId: number, reason: string): Promise<void> {
  await tx.query(
    'UPDATE processing_outbox SET failed_at = now(), failure = $2 WHERE message_id = $1 AND failed_at IS NULL',
    [messageId, reason],
  );
}

/** A message in the processing error queue. */
export interface ProcessingError {
  readonly messageId: number;
  readonly contract: string;
  readonly operation: string;
  readonly senderOin: string;
  readonly brin: string | null;
  readonly receivedAt: Date;
  readonly failedAt: Date;
  readonly failure: string | null;
}

/** Which processing-error-queue messages an operation applies to. */
export interface ProcessingErrorFilter {
  readonly ids?: readonly number[];
  readonly senderOin?: string;
  readonly limit?: number;
}

function processingErrorWhere(filter: ProcessingErrorFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses = ['o.failed_at IS NOT NULL'];
  if (filter.ids) clauses.push(`o.message_id = ANY($${params.push(filter.ids)}::bigint[])`);
  if (filter.senderOin) clauses.push(`m.sender_oin = $${params.push(filter.senderOin)}`);
  return { sql: clauses.join(' AND '), params };
}

/** The processing error queue, oldest first. */
export async function listProcessingErrors(pool: Pool, filter: ProcessingErrorFilter = {}): Promise<ProcessingError[]> {
  const { sql, params } = processingErrorWhere(filter);
  const result = await pool.query<{
    message_id: number;
    contract: string;
    operation: string;
    sender_oin: string;
    brin: string | null;
    received_at: Date;
    failed_at: Date;
    failure: string | null;
  }>(
    `SELECT o.message_id, m.contract, m.operation, m.sender_oin, m.brin, m.received_at, o.failed_at, o.failure
     FROM processing_outbox o JOIN inbound_messages m ON m.id = o.message_id
     WHERE ${sql} ORDER BY o.message_id LIMIT ${Math.min(Math.max(0, Math.floor(filter.limit ?? 1000)), 100_000)}`,
    params,
  );
  return result.rows.map((r) => ({
    messageId: r.message_id,
    contract: r.contract,
    operation: r.operation,
    senderOin: r.sender_oin,
    brin: r.brin,
    receivedAt: r.received_at,
    failedAt: r.failed_at,
    failure: r.failure,
  }));
}

/** Puts matching messages back to be processed now (the sweeper wakes them); returns their ids. A dry run changes nothing. */
export async function replayProcessingErrors(
  db: Pick<Pool, 'query'>,
  filter: ProcessingErrorFilter,
  dryRun = false,
): Promise<number[]> {
  const { sql, params } = processingErrorWhere(filter);
  const matching = `SELECT o.message_id FROM processing_outbox o JOIN inbound_messages m ON m.id = o.message_id WHERE ${sql}`;
  const statement = dryRun
    ? `${matching} ORDER BY 1`
    : `UPDATE processing_outbox SET failed_at = NULL, failure = NULL, next_attempt_at = '-infinity' WHERE message_id IN (${matching}) RETURNING message_id`;
  return (await db.query<{ message_id: number }>(statement, params)).rows
    .map((r) => r.message_id)
    .sort((a, b) => a - b);
}

/** Accepted messages waiting to be processed, and those in the processing error queue: the stats and the metrics gauges both read these. */
export async function countProcessingOutbox(db: Pick<Pool, 'query'>): Promise<{ waiting: number; failed: number }> {
  return (
    await db.query<{ waiting: number; failed: number }>(
      'SELECT count(*) FILTER (WHERE failed_at IS NULL)::int AS waiting, count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed FROM processing_outbox',
    )
  ).rows[0]!;
}
