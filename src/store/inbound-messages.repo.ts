import pg from 'pg';
import { type Pool, prepared } from './database.js';

/** An inbound message that passed every check and is to be stored before it is acknowledged. */
export interface AcceptedMessage {
  readonly contract: string;
  readonly operation: string;
  readonly senderOin: string;
  readonly brin: string | null;
  readonly documentId: string;
  readonly documentTime: string;
  readonly wsaMessageId: string;
  readonly requestId: string;
  readonly receiptId: string;
  readonly receiptAt: Date;
  readonly rawXml: string;
}

/** The message stored first under an identificatiecode, to tell a resubmission from another message reusing it. */
export interface StoredOriginal {
  readonly operation: string;
  readonly rawXml: string;
  /** Rows stored before migration 007 carry their body's fingerprint; newer ones are fingerprinted when needed. */
  readonly bodyFingerprint: Buffer | null;
}

/** The durable outcome for one message: its row, the receipt to answer with, and whether it is new. */
export interface StoredReceipt {
  readonly messageId: number;
  readonly receiptId: string;
  readonly receiptAt: Date;
  /** False when (sender, identificatiecode) was stored before: answer the original receipt, do not process again. */
  readonly isNew: boolean;
  /** When not new: the message stored first, for the caller to check that this one is the same. */
  readonly original?: StoredOriginal;
}

interface StoredRow {
  ord: number;
  id: number;
  receipt_id: string;
  receipt_at: Date;
  inserted: boolean;
  operation: string;
  /** Only read back for messages stored before. */
  raw_xml?: string;
  body_fingerprint?: Buffer | null;
}

/**
 * Stores a batch of messages and their outbox rows in one statement (group commit), skipping those
 * whose (sender OIN, identificatiecode) exists. Returns, per input in order, the stored row and the
 * receipt that belongs to it; a duplicate gets the original's receipt.
 * Inputs: the messages, ($12) the key of the processing job that is to hold the new ones (NULL:
 * each gets a job of its own), and ($13) the latest time it may commit (NULL: none). Past that, the
 * deferred trigger of migration 012 rolls it back, however late the server gets to it.
 * Locking: unique index on (sender_oin, document_id); a conflicting insert by a concurrent statement
 * waits for it to commit, then counts as a conflict.
 */
const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[],
                       $7::text[], $8::text[], $9::uuid[], $10::timestamptz[], $11::text[])
    WITH ORDINALITY AS t(contract, operation, sender_oin, brin, document_id, document_time,
                         wsa_message_id, request_id, receipt_id, receipt_at, raw_xml, ord)
), inserted AS (
  INSERT INTO inbound_messages (contract, operation, sender_oin, brin, document_id, document_time,
                                wsa_message_id, request_id, receipt_id, receipt_at, raw_xml)
  SELECT contract, operation, sender_oin, brin, document_id, document_time,
         wsa_message_id, request_id, receipt_id, receipt_at, raw_xml
  FROM input
  ON CONFLICT (sender_oin, document_id) DO NOTHING
  RETURNING id, sender_oin, document_id, receipt_id, receipt_at, operation
), outbox AS (
  INSERT INTO processing_outbox (message_id, job_key) SELECT id, $12::text FROM inserted
), deadline AS (
  INSERT INTO accept_deadlines (backend_pid, deadline) VALUES (pg_backend_pid(), $13::timestamptz)
  ON CONFLICT (backend_pid) DO UPDATE SET deadline = EXCLUDED.deadline
)
SELECT i.ord::int AS ord, n.id, n.receipt_id, n.receipt_at, (n.receipt_id = i.receipt_id) AS inserted, n.operation
FROM input i
LEFT JOIN inserted n ON n.sender_oin = i.sender_oin AND n.document_id = i.document_id
ORDER BY i.ord`;

/**
 * Reads the stored receipts of messages that conflicted with a row stored before (a resubmission).
 * Kept out of INSERT_BATCH, whose plan then never touches inbound_messages beyond its unique index:
 * no plan choice that a growing table could make wrong.
 */
export const SELECT_EXISTING = `
SELECT t.ord::int AS ord, m.id, m.receipt_id, m.receipt_at, false AS inserted, m.operation, m.raw_xml, m.body_fingerprint
FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS t(sender_oin, document_id, ord)
JOIN inbound_messages m ON m.sender_oin = t.sender_oin AND m.document_id = t.document_id`;

/**
 * The insert was sent and no answer came (client-side timeout, connection lost, a FATAL error): it may
 * have committed, or may still commit when the server gets to it. Nothing else counts as unknown: a
 * connection that could not be had sent nothing, and an ERROR answer rolled the one statement back.
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(
    /** The statement's deadline: past it (on the server's clock) the statement can no longer commit. */
    readonly deadline: Date,
    options: { cause: unknown },
  ) {
    super(`no answer to the accept statement: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.name = 'CommitOutcomeUnknownError';
  }
}

/** How long after its deadline the client still waits for the statement's answer before it asks. */
export const DEADLINE_MARGIN_MS = 250;

/**
 * Stores a batch and returns one StoredReceipt per message, in order. The insert is one statement, so
 * it commits atomically on its own: one round trip per batch, no BEGIN/COMMIT. Messages that were
 * stored before (or by a concurrent batch) are read back afterwards, a second round trip only then;
 * where that fails, those messages get an Error in their place. With `commitWithinMs`, the statement
 * may commit only that long after it got its connection. Throws when nothing was stored, or
 * CommitOutcomeUnknownError when that cannot be told (only with `commitWithinMs`: see
 * src/store/accept-outcome.ts for how the caller learns it).
 */
export async function storeAcceptedBatch(pool: Pool, messages: readonly AcceptedMessage[], jobKey: string | null, commitWithinMs?: number): Promise<(StoredReceipt | Error)[]> {
  const column = <T>(pick: (m: AcceptedMessage) => T): T[] => messages.map(pick);
  // Nothing is sent before a connection is had; a slow connect must not eat the commit's time.
  const client = await pool.connect();
  const deadline = commitWithinMs === undefined ? null : new Date(Date.now() + commitWithinMs);
  const statement: pg.QueryConfig & { query_timeout?: number } = prepared('accept-batch', INSERT_BATCH, [
    column((m) => m.contract), column((m) => m.operation), column((m) => m.senderOin), column((m) => m.brin),
    column((m) => m.documentId), column((m) => m.documentTime), column((m) => m.wsaMessageId),
    column((m) => m.requestId), column((m) => m.receiptId), column((m) => m.receiptAt), column((m) => m.rawXml), jobKey, deadline,
  ]);
  // Waiting longer than the deadline allows is pointless: the answer is learnt another way then.
  if (deadline) statement.query_timeout = Math.max(1, deadline.getTime() - Date.now() + DEADLINE_MARGIN_MS);
  let rows: StoredRow[];
  try {
    rows = (await client.query<StoredRow>(statement)).rows;
    client.release();
  } catch (error) {
    // A client whose statement went unanswered must not be reused: its answer may still come.
    client.release(error as Error);
    const rolledBack = error instanceof pg.DatabaseError && error.severity === 'ERROR';
    throw deadline && !rolledBack ? new CommitOutcomeUnknownError(deadline, { cause: error }) : error;
  }
  // The insert has committed: from here on a failure is the failing duplicates' alone, never the new
  // messages' (they must get their receipt, not a DK0051 that a commit follows).
  const missing = rows.filter((row) => row.id === null);
  let readBackFailure: Error | undefined;
  if (missing.length > 0) {
    try {
      const again = await pool.query<StoredRow>(SELECT_EXISTING, [
        missing.map((row) => messages[row.ord - 1]!.senderOin),
        missing.map((row) => messages[row.ord - 1]!.documentId),
      ]);
      for (const row of again.rows) {
        const original = missing[row.ord - 1]!;
        rows[original.ord - 1] = { ...row, ord: original.ord };
      }
    } catch (error) {
      readBackFailure = error as Error;
    }
  }
  return rows.map((row) => {
    if (row.id === null) return readBackFailure ?? new Error('stored message not found after conflict');
    const stored = { messageId: row.id, receiptId: row.receipt_id, receiptAt: row.receipt_at, isNew: row.inserted };
    if (row.inserted) return stored;
    // Read back, or (its original came earlier in this batch) in memory.
    const rawXml = row.raw_xml ?? messages.find((message) => message.receiptId === row.receipt_id)?.rawXml;
    if (rawXml === undefined) return new Error('original of a duplicate not found');
    return { ...stored, original: { operation: row.operation, rawXml, bodyFingerprint: row.body_fingerprint ?? null } };
  });
}
