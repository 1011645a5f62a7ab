/**
 * The one checker: what the load generator was told (receipts, faults, no answer), what the endpoints
 * received, and what PostgreSQL holds after recovery, held against each other.
 *
 * - lost: a receipted document without its inbound row; a stored message neither processed nor in
 *   the processing error queue; an outbound message neither delivered (its endpoint answered its
 *   wsa:MessageID with a receipt) nor in the error queue (status error or purged).
 * - stuck: processing_outbox rows not in the processing error queue (failed_at NULL), and outbound
 *   messages still pending.
 * - duplicated: two inbound rows or two processing results for one document; two outbound messages
 *   for one cause (cause_message_id + operation + institution_oin); different receipts for copies of
 *   one document.
 * - unexpected: a document that got only faults (no receipt) yet is stored; a push an endpoint
 *   received whose wsa:MessageID is no outbound message's.
 * - redelivered (not a failure): receipts an endpoint gave the same wsa:MessageID beyond the first.
 *
 * Optional columns (processing_outbox.failed_at, from migration 011) are read through to_jsonb, so
 * the checker runs on the schema before and after it.
 */
import type pg from 'pg';
import type { InstitutionEndpoint } from './endpoints.js';
import type { SentDocument } from './load.js';
import { documentKey } from './load.js';

export interface Verdict {
  sent: number;
  receipted: number;
  faulted: number;
  noAnswer: number;
  stored: number;
  processed: number;
  delivered: number;
  errorQueued: number;
  lost: number;
  stuck: number;
  duplicated: number;
  unexpected: number;
  redelivered: number;
  /** Why each non-zero required count is not zero, with examples (ids only, never personal data). */
  details: string[];
}

/** Work that is not final yet: outbox rows outside the processing error queue, pending outbound messages. */
export async function unfinished(db: pg.Client): Promise<{ outbox: number; pending: number }> {
  const result = await db.query<{ outbox: number; pending: number }>(
    `SELECT (SELECT count(*) FROM processing_outbox o WHERE to_jsonb(o)->>'failed_at' IS NULL)::int AS outbox,
            (SELECT count(*) FROM outbound_messages WHERE status = 'pending')::int AS pending`,
  );
  return result.rows[0]!;
}

const examples = (items: readonly string[]): string =>
  items.length === 0 ? '' : ` (e.g. ${items.slice(0, 3).join(', ')}${items.length > 3 ? ', …' : ''})`;

export async function check(
  db: pg.Client,
  documents: ReadonlyMap<string, SentDocument>,
  endpoints: readonly InstitutionEndpoint[],
): Promise<Verdict> {
  const details: string[] = [];
  const inbound = (
    await db.query<{ id: number; sender_oin: string; document_id: string }>(
      'SELECT id, sender_oin, document_id::text AS document_id FROM inbound_messages',
    )
  ).rows;
  const results = (
    await db.query<{ message_id: number; n: number }>(
      'SELECT message_id, count(*)::int AS n FROM processing_results GROUP BY message_id',
    )
  ).rows;
  const outbox = (
    await db.query<{ message_id: number; failed: boolean }>(
      "SELECT message_id, (to_jsonb(o)->>'failed_at') IS NOT NULL AS failed FROM processing_outbox o",
    )
  ).rows;
  const outbound = (
    await db.query<{
      id: number;
      institution_oin: string;
      operation: string;
      wsa_message_id: string;
      cause_message_id: number | null;
      status: string;
    }>(
      'SELECT id, institution_oin, operation, wsa_message_id::text AS wsa_message_id, cause_message_id, status FROM outbound_messages',
    )
  ).rows;

  const rowsByDoc = new Map<string, number[]>();
  for (const row of inbound) {
    const key = documentKey(row.sender_oin, row.document_id);
    rowsByDoc.set(key, [...(rowsByDoc.get(key) ?? []), row.id]);
  }
  const resultCount = new Map(results.map((r) => [r.message_id, r.n]));
  const inOutbox = new Map(outbox.map((r) => [r.message_id, r.failed]));
  const deliveredAt = new Map<string, number>();
  for (const endpoint of endpoints)
    for (const [id, n] of endpoint.delivered()) deliveredAt.set(id, (deliveredAt.get(id) ?? 0) + n);

  const docs = [...documents.values()];
  const receipted = docs.filter((d) => d.answers.some((a) => a.kind === 'receipt'));
  const faulted = docs.filter(
    (d) => !d.answers.some((a) => a.kind === 'receipt') && d.answers.some((a) => a.kind === 'fault'),
  );
  const noAnswer = docs.filter((d) => d.answers.every((a) => a.kind === 'no-answer'));

  // lost
  const notStored = receipted.filter((d) => !rowsByDoc.has(d.key)).map((d) => d.documentId);
  const notProcessed = inbound
    .filter((row) => !resultCount.has(row.id) && inOutbox.get(row.id) !== true)
    .map((row) => `inbound ${row.id}`);
  const notDelivered = outbound
    .filter((o) => !deliveredAt.has(o.wsa_message_id) && o.status !== 'error' && o.status !== 'purged')
    .map((o) => `outbound ${o.id} ${o.operation} ${o.status}`);
  if (notStored.length)
    details.push(`lost: ${notStored.length} receipted documents have no inbound row${examples(notStored)}`);
  if (notProcessed.length)
    details.push(
      `lost: ${notProcessed.length} stored messages neither processed nor in the processing error queue${examples(notProcessed)}`,
    );
  if (notDelivered.length)
    details.push(
      `lost: ${notDelivered.length} outbound messages neither delivered nor in the error queue${examples(notDelivered)}`,
    );

  // stuck
  const outboxWaiting = outbox.filter((r) => !r.failed).map((r) => `inbound ${r.message_id}`);
  const pending = outbound
    .filter((o) => o.status === 'pending')
    .map(
      (o) => `outbound ${o.id} ${o.operation}${deliveredAt.has(o.wsa_message_id) ? ' (received by its endpoint)' : ''}`,
    );
  if (outboxWaiting.length)
    details.push(
      `stuck: ${outboxWaiting.length} processing_outbox rows not in the processing error queue${examples(outboxWaiting)}`,
    );
  if (pending.length) details.push(`stuck: ${pending.length} outbound messages still pending${examples(pending)}`);

  // duplicated
  const twiceStored = [...rowsByDoc.entries()].filter(([, ids]) => ids.length > 1);
  const twiceProcessedRows =
    results.filter((r) => r.n > 1).length +
    twiceStored.filter(([, ids]) => ids.filter((id) => resultCount.has(id)).length > 1).length;
  const causes = new Map<string, number[]>();
  for (const o of outbound) {
    if (o.cause_message_id === null) continue;
    const key = `${o.cause_message_id}/${o.operation}/${o.institution_oin}`;
    causes.set(key, [...(causes.get(key) ?? []), o.id]);
  }
  const twiceCaused = [...causes.entries()].filter(([, ids]) => ids.length > 1);
  const differentReceipts = docs.filter(
    (d) => new Set(d.answers.flatMap((a) => (a.kind === 'receipt' ? [a.receipt] : []))).size > 1,
  );
  if (twiceStored.length) details.push(`duplicated: ${twiceStored.length} documents stored more than once`);
  if (twiceProcessedRows) details.push(`duplicated: ${twiceProcessedRows} documents processed more than once`);
  if (twiceCaused.length)
    details.push(
      `duplicated: ${twiceCaused.length} causes with more than one outbound message${examples(twiceCaused.map(([key, ids]) => `${key.split('/').slice(0, 2).join(' ')}: outbound ${ids.join('+')}`))}`,
    );
  if (differentReceipts.length)
    details.push(`duplicated: ${differentReceipts.length} documents got different receipts for identical copies`);

  // unexpected
  const faultedButStored = faulted.filter((d) => rowsByDoc.has(d.key));
  const knownIds = new Set(outbound.map((o) => o.wsa_message_id));
  const phantoms = endpoints.flatMap((e) =>
    e.pushes.filter((p) => !knownIds.has(p.messageId)).map((p) => `${e.brin} ${p.operation}`),
  );
  if (faultedButStored.length) {
    const codes = [
      ...new Set(faultedButStored.flatMap((d) => d.answers.flatMap((a) => (a.kind === 'fault' ? [a.code] : [])))),
    ];
    details.push(
      `unexpected: ${faultedButStored.length} documents answered only with a fault (${codes.join(', ')}) are stored${examples(faultedButStored.map((d) => d.documentId))}`,
    );
  }
  if (phantoms.length)
    details.push(
      `unexpected: ${phantoms.length} pushes received whose wsa:MessageID is no outbound message's${examples(phantoms)}`,
    );

  let redelivered = 0;
  for (const n of deliveredAt.values()) redelivered += n - 1;

  return {
    sent: docs.length,
    receipted: receipted.length,
    faulted: faulted.length,
    noAnswer: noAnswer.length,
    stored: inbound.length,
    processed: inbound.filter((row) => resultCount.has(row.id)).length,
    delivered: outbound.filter((o) => deliveredAt.has(o.wsa_message_id)).length,
    errorQueued:
      outbound.filter((o) => o.status === 'error' || o.status === 'purged').length +
      outbox.filter((r) => r.failed).length,
    lost: notStored.length + notProcessed.length + notDelivered.length,
    stuck: outboxWaiting.length + pending.length,
    duplicated:
      twiceStored.length +
      twiceProcessedRows +
      twiceCaused.reduce((sum, [, ids]) => sum + ids.length - 1, 0) +
      differentReceipts.length,
    unexpected: faultedButStored.length + phantoms.length,
    redelivered,
    details,
  };
}
