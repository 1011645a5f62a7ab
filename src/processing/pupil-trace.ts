import type { Pool } from '../shared/database.js';
import { pgnsIn, pupilKey } from '../shared/pupil-key.js';

let processKey: string | undefined;

/**
 * Sets the key the processing hook uses (composition roots call this once: startPipeline). Module
 * state keeps the hook a single line in process-message.
 */
export function configurePupilTrace(traceKey: string): void {
  processKey = traceKey;
}

/** One row of the pupil index: a keyed hash of a PGN and the inbound message that names it. */
export interface PupilTraceEntry {
  readonly pupilKey: Buffer;
  readonly inboundMessageId: number;
}

/**
 * The index rows for a processed message: one per pupil it names, in its own body and in the outbound
 * messages it causes (an assigned onderwijsnummer appears only there). The processing transaction
 * writes them with the outcome, so the index commits with it. Without a configured key (a test calling
 * the processing core alone) there are none.
 */
export function pupilTraceEntries(message: { readonly id: number; readonly rawXml: string }, outbound: readonly { readonly bodyXml: string }[] = []): PupilTraceEntry[] {
  if (processKey === undefined) return [];
  const key = processKey;
  return pgnsIn(message.rawXml, ...outbound.map((o) => o.bodyXml)).map((pgn) => ({ pupilKey: pupilKey(key, pgn), inboundMessageId: message.id }));
}

/** The inbound messages that concern this pupil, newest first. */
export async function inboundIdsForPupil(pool: Pool, traceKey: string, pgn: string, limit: number): Promise<number[]> {
  const result = await pool.query<{ id: number }>(
    'SELECT inbound_message_id AS id FROM pupil_trace WHERE pupil_key = $1 ORDER BY inbound_message_id DESC LIMIT $2',
    [pupilKey(traceKey, pgn), limit],
  );
  return result.rows.map((r) => r.id);
}
