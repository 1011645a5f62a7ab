import type { Pool } from '../store/database.js';
import { pgnsIn, pupilKey } from './pupil-key.js';

/** Anything that runs a query: a pool or the processing transaction's client. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

let processKey: string | undefined;

/**
 * Sets the key the processing hook uses (composition roots call this once: startPipeline). Module
 * state keeps the hook a single line in process-message.
 */
export function configurePupilTrace(traceKey: string): void {
  processKey = traceKey;
}

/**
 * Indexes a processed message under every pupil it names — in its own body and in the outbound
 * messages it causes (an assigned onderwijsnummer appears only there). Called inside the processing
 * transaction, so the index commits with the outcome. Without a configured key (a test calling the
 * processing core alone) nothing is indexed.
 */
export async function recordPupilTrace(tx: Queryable, message: { readonly id: number; readonly rawXml: string }, outbound: readonly { readonly bodyXml: string }[] = []): Promise<void> {
  if (processKey === undefined) return;
  const key = processKey;
  const pgns = pgnsIn(message.rawXml, ...outbound.map((o) => o.bodyXml));
  if (pgns.length === 0) return;
  await tx.query(
    'INSERT INTO pupil_trace (pupil_key, inbound_message_id) SELECT unnest($1::bytea[]), $2 ON CONFLICT DO NOTHING',
    [pgns.map((pgn) => pupilKey(key, pgn)), message.id],
  );
}

/** The inbound messages that concern this pupil, newest first. */
export async function inboundIdsForPupil(pool: Pool, traceKey: string, pgn: string, limit: number): Promise<number[]> {
  const result = await pool.query<{ id: number }>(
    'SELECT inbound_message_id AS id FROM pupil_trace WHERE pupil_key = $1 ORDER BY inbound_message_id DESC LIMIT $2',
    [pupilKey(traceKey, pgn), limit],
  );
  return result.rows.map((r) => r.id);
}
