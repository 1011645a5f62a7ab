import type { Pool } from '../infra/database.js';
import { prepared } from '../infra/database.js';
import { pupilKey } from '../infra/pupil-key.js';

/** The inbound messages that concern this pupil, newest first (the index holds keyed hashes, never a PGN). */
export async function inboundIdsForPupil(pool: Pool, traceKey: string, pgn: string, limit: number): Promise<number[]> {
  const result = await pool.query<{ id: number }>(
    'SELECT inbound_message_id AS id FROM pupil_trace WHERE pupil_key = $1 ORDER BY inbound_message_id DESC LIMIT $2',
    [pupilKey(traceKey, pgn), limit],
  );
  return result.rows.map((r) => r.id);
}

/**
 * Whether this administration (OIN) identified the pupil, under any of these numbers: an identification
 * request it sent that was processed as `identified` and whose message or answer named the number (the
 * pupil index, keyed hashes). What an MBO institution must have done before it may ask for the pupil's
 * prior education.
 */
export async function identifiedBy(
  db: Pick<Pool, 'query'>,
  traceKey: string,
  senderOin: string,
  pgns: readonly string[],
): Promise<boolean> {
  if (pgns.length === 0) return false;
  const result = await db.query<{ found: boolean }>(
    prepared(
      'processing-identified-by',
      `SELECT EXISTS (
         SELECT 1 FROM pupil_trace t
           JOIN inbound_messages m ON m.id = t.inbound_message_id
           JOIN processing_results r ON r.message_id = m.id
         WHERE t.pupil_key = ANY($1::bytea[]) AND m.sender_oin = $2
           AND m.operation = 'aanleverenIdentificerenPersoonVO' AND r.outcome = 'identified') AS found`,
      [pgns.map((pgn) => pupilKey(traceKey, pgn)), senderOin],
    ),
  );
  return result.rows[0]?.found === true;
}
