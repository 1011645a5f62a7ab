import type { Pool } from '../infra/database.js';
import { openRawXml, RAW_XML, storedTextColumns } from './stored-text.js';

/** An inbound message with how its processing went, as a trace shows it. */
export interface InboundTraceRow {
  readonly id: number;
  readonly contract: string;
  readonly operation: string;
  readonly senderOin: string;
  readonly brin: string | null;
  readonly documentId: string;
  readonly wsaMessageId: string;
  readonly requestId: string;
  readonly receiptId: string;
  readonly receiptAt: Date;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
  readonly outcome: string | null;
  readonly rawXml: string;
  /** When processing failed for good (the processing error queue), and why. */
  readonly failedAt: Date | null;
  readonly failure: string | null;
}

/** How inbound messages are found for a trace: by id, by ids (newest first), or by the LAS's identificatiecode or wsa:MessageID (a UUID; the oldest match). */
export type InboundTraceLookup =
  | { readonly id: number }
  | { readonly ids: readonly number[] }
  | { readonly uuid: string };

interface Row {
  id: number;
  contract: string;
  operation: string;
  sender_oin: string;
  brin: string | null;
  document_id: string;
  wsa_message_id: string;
  request_id: string;
  receipt_id: string;
  receipt_at: Date;
  received_at: Date;
  processed_at: Date | null;
  outcome: string | null;
  raw_xml: string | null;
  raw_xml_sealed: Buffer | null;
  raw_xml_key_id: string | null;
  failed_at: Date | null;
  failure: string | null;
}

/** The inbound messages a lookup finds, with their processing result or processing-error-queue entry. */
export async function findInboundForTrace(pool: Pool, lookup: InboundTraceLookup): Promise<InboundTraceRow[]> {
  const [where, value] =
    'id' in lookup
      ? ['m.id = $1', lookup.id]
      : 'ids' in lookup
        ? ['m.id = ANY($1::bigint[]) ORDER BY m.id DESC', lookup.ids]
        : [
            "m.document_id = $1::text::uuid OR m.wsa_message_id IN ($1::text, 'urn:uuid:' || $1::text) ORDER BY m.id LIMIT 1",
            lookup.uuid,
          ];
  const rows = (
    await pool.query<Row>(
      `SELECT m.id, m.contract, m.operation, m.sender_oin, m.brin, m.document_id, m.wsa_message_id, m.request_id, m.receipt_id, m.receipt_at, m.received_at,
       r.processed_at, r.outcome, ${storedTextColumns(RAW_XML, 'm')}, o.failed_at, o.failure
     FROM inbound_messages m LEFT JOIN processing_results r ON r.message_id = m.id LEFT JOIN processing_outbox o ON o.message_id = m.id
     WHERE ${where}`,
      [value],
    )
  ).rows;
  return rows.map((r) => ({
    id: r.id,
    contract: r.contract,
    operation: r.operation,
    senderOin: r.sender_oin,
    brin: r.brin,
    documentId: r.document_id,
    wsaMessageId: r.wsa_message_id,
    requestId: r.request_id,
    receiptId: r.receipt_id,
    receiptAt: r.receipt_at,
    receivedAt: r.received_at,
    processedAt: r.processed_at,
    outcome: r.outcome,
    rawXml: openRawXml(pool, r),
    failedAt: r.failed_at,
    failure: r.failure,
  }));
}

/**
 * Ids of the newest `limit` inbound messages that concern a BRIN, newest first: those the school sent,
 * and those that caused a push to it among the last `pushLookback` outbound messages (a bound that keeps
 * this quick without an extra index on the delivery path).
 */
export async function inboundIdsConcerningBrin(
  pool: Pool,
  brin: string,
  limit: number,
  pushLookback: number,
): Promise<number[]> {
  return (
    await pool.query<{ id: number }>(
      `SELECT id FROM (
       (SELECT m.id FROM inbound_messages m WHERE m.brin = $1 ORDER BY m.id DESC LIMIT $2)
       UNION
       (SELECT o.cause_message_id AS id FROM outbound_messages o
        WHERE o.brin = $1 AND o.cause_message_id IS NOT NULL AND o.id > (SELECT coalesce(max(id), 0) - $3 FROM outbound_messages)
        ORDER BY o.id DESC LIMIT $2)) concerned
     ORDER BY id DESC LIMIT $2`,
      [brin, limit, pushLookback],
    )
  ).rows.map((r) => r.id);
}
