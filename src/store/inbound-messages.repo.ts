import pg from 'pg';
import { type Pool, prepared } from '../infra/database.js';
import type { BucketSpan } from './outbound.repo.js';
import { openRawXml, RAW_XML, resealBatch, type StoredTextRow, sealFor, storedTextColumns } from './stored-text.js';

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

/** Which of a message's ids a message stored before carries too. */
export type SharedId = 'identificatiecodeBedrijfsdocument' | 'MessageID';

/** A message stored before that shares an id with a new one, to tell a resubmission from another message reusing the id. */
export interface StoredOriginal {
  readonly operation: string;
  readonly rawXml: string;
  /** Rows stored before migration 007 carry their body's fingerprint; newer ones are fingerprinted when needed. */
  readonly bodyFingerprint: Buffer | null;
  /** The id it shares: the identificatiecode (perhaps the MessageID too), or only the MessageID. */
  readonly sharedId: SharedId;
}

/** The durable outcome for one message: its row, the receipt to answer with, and whether it is new. */
export interface StoredReceipt {
  readonly messageId: number;
  readonly receiptId: string;
  readonly receiptAt: Date;
  /** False when (sender, identificatiecode) or (sender, MessageID) was stored before: answer the original receipt or refuse, never process again. */
  readonly isNew: boolean;
  /** When not new: the stored message whose receipt this is (same identificatiecode, else same MessageID), for the caller to check that this one is the same. */
  readonly original?: StoredOriginal;
  /** When not new: another stored message that already carries this message's MessageID (a reuse, whatever the original says). */
  readonly messageIdTakenBy?: StoredOriginal;
}

interface StoredRow {
  ord: number;
  id: number;
  receipt_id: string;
  receipt_at: Date;
  inserted: boolean;
  operation: string;
}

/** A stored message that shares an id with an input, as SELECT_EXISTING reads it back. */
interface ExistingRow extends StoredTextRow<'raw_xml'> {
  ord: number;
  id: number;
  receipt_id: string;
  receipt_at: Date;
  operation: string;
  body_fingerprint: Buffer | null;
  same_document: boolean;
}

/** wsa:MessageID as a uuid: `urn:uuid:` dropped (envelope rules have checked the form). */
const MESSAGE_UUID = (column: string): string => `regexp_replace(${column}, '^urn:uuid:', '')::uuid`;

/**
 * Stores a batch of messages and their outbox rows in one statement (group commit), skipping those
 * whose (sender OIN, identificatiecode) or (sender OIN, MessageID) exists. Returns, per input in order,
 * the stored row and the receipt that belongs to it; a duplicate gets the original's receipt.
 * Inputs: the messages, ($12) the key of the processing job that is to hold the new ones (NULL:
 * each gets a job of its own), and ($13) the latest time it may commit (NULL: none). Past that, the
 * deferred trigger of migration 012 rolls it back, however late the server gets to it.
 * Locking: unique indexes on (sender_oin, document_id) and (sender_oin, wsa_message_uuid); a conflicting
 * insert by a concurrent statement waits for it to commit, then counts as a conflict.
 */
const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[],
                       $7::text[], $8::text[], $9::uuid[], $10::timestamptz[], $11::text[], $14::text[], $15::text[])
    WITH ORDINALITY AS t(contract, operation, sender_oin, brin, document_id, document_time,
                         wsa_message_id, request_id, receipt_id, receipt_at, raw_xml, raw_xml_sealed_base64, raw_xml_key_id, ord)
), inserted AS (
  INSERT INTO inbound_messages (contract, operation, sender_oin, brin, document_id, document_time,
                                wsa_message_id, wsa_message_uuid, request_id, receipt_id, receipt_at, ${storedTextColumns(RAW_XML)})
  SELECT contract, operation, sender_oin, brin, document_id, document_time,
         wsa_message_id, ${MESSAGE_UUID('wsa_message_id')}, request_id, receipt_id, receipt_at,
         raw_xml, decode(raw_xml_sealed_base64, 'base64'), raw_xml_key_id
  FROM input
  ON CONFLICT DO NOTHING
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
 * Reads back the stored messages that share an id with the inputs ($1 sender OINs, $2 identificatiecodes,
 * $3 MessageIDs): per input the one with its identificatiecode (same_document), and any other with its
 * MessageID. Kept out of INSERT_BATCH, whose plan then never touches inbound_messages beyond its unique
 * indexes: no plan choice that a growing table could make wrong. Each half is one of those indexes.
 */
const SELECT_EXISTING = `
WITH t AS (SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[]) WITH ORDINALITY AS t(sender_oin, document_id, wsa_message_id, ord))
SELECT t.ord::int AS ord, m.id, m.receipt_id, m.receipt_at, m.operation, ${storedTextColumns(RAW_XML, 'm')}, m.body_fingerprint, true AS same_document
FROM t JOIN inbound_messages m ON m.sender_oin = t.sender_oin AND m.document_id = t.document_id
UNION ALL
SELECT t.ord::int, m.id, m.receipt_id, m.receipt_at, m.operation, ${storedTextColumns(RAW_XML, 'm')}, m.body_fingerprint, false
FROM t JOIN inbound_messages m ON m.sender_oin = t.sender_oin AND m.wsa_message_uuid = ${MESSAGE_UUID('t.wsa_message_id')}
WHERE m.document_id <> t.document_id`;

/** SELECT_EXISTING's parameters for these messages. */
const existingParameters = (messages: readonly AcceptedMessage[]): [string[], string[], string[]] => [
  messages.map((m) => m.senderOin),
  messages.map((m) => m.documentId),
  messages.map((m) => m.wsaMessageId),
];

const originalOf = (db: object, row: ExistingRow): StoredOriginal => ({
  operation: row.operation,
  rawXml: openRawXml(db, row),
  bodyFingerprint: row.body_fingerprint,
  sharedId: row.same_document ? 'identificatiecodeBedrijfsdocument' : 'MessageID',
});

/**
 * The receipt of a message that SELECT_EXISTING found rows for: new when the row with its
 * identificatiecode carries its own receipt id; otherwise a duplicate of that row (or, without one, of
 * the row with its MessageID), for the caller to compare. Undefined when no row was found.
 */
function receiptFromExisting(
  db: object,
  message: AcceptedMessage,
  rows: readonly ExistingRow[],
): StoredReceipt | undefined {
  const sameDocument = rows.find((row) => row.same_document);
  const sameMessageId = rows.find((row) => !row.same_document);
  const stored = sameDocument ?? sameMessageId;
  if (!stored) return undefined;
  const receipt = { messageId: stored.id, receiptId: stored.receipt_id, receiptAt: stored.receipt_at };
  if (stored.receipt_id === message.receiptId) return { ...receipt, isNew: true };
  return {
    ...receipt,
    isNew: false,
    original: originalOf(db, stored),
    ...(sameDocument && sameMessageId ? { messageIdTakenBy: originalOf(db, sameMessageId) } : {}),
  };
}

/** Per message, in order, the rows SELECT_EXISTING found for it. */
function existingByMessage(messages: readonly AcceptedMessage[], rows: readonly ExistingRow[]): ExistingRow[][] {
  const found: ExistingRow[][] = messages.map(() => []);
  for (const row of rows) found[row.ord - 1]!.push(row);
  return found;
}

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

/** INSERT_BATCH for these messages, as a named statement; each message sealed with `db`'s current data key. */
function insertBatchStatement(
  db: object,
  messages: readonly AcceptedMessage[],
  jobKey: string | null,
  deadline: Date | null,
): pg.QueryConfig {
  const column = <T>(pick: (m: AcceptedMessage) => T): T[] => messages.map(pick);
  // One cipher call per message, in the same statement: sealing adds no round trip.
  const stored = messages.map((m) => sealFor(db, RAW_XML, m.rawXml));
  return prepared('accept-batch', INSERT_BATCH, [
    column((m) => m.contract),
    column((m) => m.operation),
    column((m) => m.senderOin),
    column((m) => m.brin),
    column((m) => m.documentId),
    column((m) => m.documentTime),
    column((m) => m.wsaMessageId),
    column((m) => m.requestId),
    column((m) => m.receiptId),
    column((m) => m.receiptAt),
    stored.map((s) => s.plain),
    jobKey,
    deadline,
    // Base64 text, decoded by PostgreSQL: node-postgres writes a bytea[] element as hex, several times slower.
    stored.map((s) => s.sealed?.toString('base64') ?? null),
    stored.map((s) => s.keyId),
  ]);
}

/**
 * Stores a batch and returns one StoredReceipt per message, in order. The insert is one statement, so
 * it commits atomically on its own: one round trip per batch, no BEGIN/COMMIT. Messages that were
 * stored before (or by a concurrent batch) are read back afterwards, a second round trip only then;
 * where that fails, those messages get an Error in their place. With `commitWithinMs`, the statement
 * may commit only that long after it got its connection. Throws when nothing was stored, or
 * CommitOutcomeUnknownError when that cannot be told (only with `commitWithinMs`: see
 * src/accept/accept-outcome.ts for how the caller learns it).
 */
export async function storeAcceptedBatch(
  pool: Pool,
  messages: readonly AcceptedMessage[],
  jobKey: string | null,
  commitWithinMs?: number,
): Promise<(StoredReceipt | Error)[]> {
  // Nothing is sent before a connection is had; a slow connect must not eat the commit's time.
  const client = await pool.connect();
  const deadline = commitWithinMs === undefined ? null : new Date(Date.now() + commitWithinMs);
  const statement: pg.QueryConfig & { query_timeout?: number } = insertBatchStatement(pool, messages, jobKey, deadline);
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
  const duplicates = rows.filter((row) => !row.inserted).map((row) => messages[row.ord - 1]!);
  let existing: ExistingRow[][] = [];
  let readBackFailure: Error | undefined;
  if (duplicates.length > 0) {
    try {
      existing = existingByMessage(
        duplicates,
        (await pool.query<ExistingRow>(SELECT_EXISTING, existingParameters(duplicates))).rows,
      );
    } catch (error) {
      readBackFailure = error as Error;
    }
  }
  let next = 0;
  return rows.map((row) => {
    if (row.inserted) return { messageId: row.id, receiptId: row.receipt_id, receiptAt: row.receipt_at, isNew: true };
    const found = existing[next];
    const message = duplicates[next++]!;
    if (readBackFailure) return readBackFailure;
    return receiptFromExisting(pool, message, found ?? []) ?? new Error('stored message not found after conflict');
  });
}

/**
 * Stores messages with their processing-outbox rows in the caller's transaction (INSERT_BATCH, no
 * commit deadline, no batch job): for an operator's action that records its audit row in the same
 * transaction. Per message, in order: its row id and whether this statement stored it (false: a
 * message with its ids was stored before, and `messageId` is that one's).
 */
export async function insertAcceptedInTransaction(
  tx: Pick<Pool, 'query'>,
  messages: readonly AcceptedMessage[],
): Promise<{ messageId: number; isNew: boolean }[]> {
  const rows = (await tx.query<StoredRow>(insertBatchStatement(tx, messages, null, null))).rows;
  return rows.map((row) => ({ messageId: row.id, isNew: row.inserted }));
}

/** The advisory lock of migration 012's commit-time check (two-integer form). */
const COMMIT_CHECK_LOCK = [1112691534, 51] as const;

/**
 * One look, in one transaction, at what an unanswered accept statement stored: the exclusive lock waits
 * for every accept transaction that passed its commit-time check (they hold it shared until they end);
 * then, if the server's clock is past the deadline, no statement with that deadline can commit any
 * more, and what is stored now is final. Per message its receipt, or null when nothing of it is stored;
 * undefined while the server's clock has not reached the deadline. A failure leaves the transaction
 * open: the caller drops the connection, which rolls back and frees the lock.
 */
export async function readSettledReceipts(
  client: pg.PoolClient,
  messages: readonly AcceptedMessage[],
  deadline: Date,
): Promise<(StoredReceipt | null)[] | undefined> {
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...COMMIT_CHECK_LOCK]);
  // A new statement, so a snapshot taken after the lock was granted.
  const past = (await client.query<{ past: boolean }>('SELECT clock_timestamp() > $1::timestamptz AS past', [deadline]))
    .rows[0]!.past;
  const found = past ? (await client.query<ExistingRow>(SELECT_EXISTING, existingParameters(messages))).rows : [];
  await client.query('COMMIT');
  if (!past) return undefined;
  const byMessage = existingByMessage(messages, found);
  return messages.map((message, i) => receiptFromExisting(client, message, byMessage[i]!) ?? null);
}

/** Messages accepted in the last hour and the last 24 hours (BRIN-indexed receipt times, never the whole archive). */
export async function countAcceptedMessages(db: Pick<Pool, 'query'>): Promise<{ lastHour: number; last24h: number }> {
  const row = (
    await db.query<{ hour: number; day: number }>(
      `SELECT count(*) FILTER (WHERE received_at > now() - interval '1 hour')::int AS hour, count(*)::int AS day
     FROM inbound_messages WHERE received_at > now() - interval '24 hours'`,
    )
  ).rows[0]!;
  return { lastHour: row.hour, last24h: row.day };
}

/** Processing outcomes (approved, rejected, identified, …) of the messages accepted in the last 24 hours, by outcome. */
export async function countOutcomesLast24h(db: Pick<Pool, 'query'>): Promise<Record<string, number>> {
  const rows = (
    await db.query<{ outcome: string; n: number }>(
      `SELECT r.outcome, count(*)::int AS n FROM processing_results r JOIN inbound_messages m ON m.id = r.message_id
     WHERE m.received_at > now() - interval '24 hours' GROUP BY r.outcome ORDER BY r.outcome`,
    )
  ).rows;
  return Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
}

/** Messages accepted per bucket over the span, oldest first, every bucket present (zeros included). */
export async function acceptedPerBucket(
  db: Pick<Pool, 'query'>,
  span: BucketSpan,
): Promise<{ start: Date; accepted: number }[]> {
  const bin = (column: string): string => `date_bin(make_interval(secs => $2), ${column}, timestamptz 'epoch')`;
  const since = 'now() - make_interval(mins => $1)';
  return (
    await db.query<{ start: Date; accepted: number }>(
      `WITH bucket AS (SELECT generate_series(${bin(since)}, now(), make_interval(secs => $2)) AS start),
     accepted AS (SELECT ${bin('received_at')} AS start, count(*)::int AS n FROM inbound_messages WHERE received_at > ${since} GROUP BY 1)
     SELECT b.start, coalesce(a.n, 0)::int AS accepted FROM bucket b LEFT JOIN accepted a ON a.start = b.start ORDER BY b.start`,
      [span.minutes, span.bucketSeconds],
    )
  ).rows;
}

/** Re-seals stored messages not under the current data key yet (`resealBatch`), a batch at a time. */
export const resealInboundBatch = (tx: Pick<Pool, 'query'>, afterId: number, limit: number) =>
  resealBatch(tx, RAW_XML, afterId, limit);

/** Stored messages per data key (null: plain text), for `keys status` and the rotation's progress. */
export async function countInboundByDataKey(db: Pick<Pool, 'query'>): Promise<Record<string, number>> {
  const rows = (
    await db.query<{ key_id: string | null; n: number }>(
      'SELECT raw_xml_key_id AS key_id, count(*)::int AS n FROM inbound_messages GROUP BY 1',
    )
  ).rows;
  return Object.fromEntries(rows.map((r) => [r.key_id ?? 'plain', r.n]));
}
