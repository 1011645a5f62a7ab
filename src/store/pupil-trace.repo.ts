import type { Pool } from '../shared/database.js';
import { pupilKey } from '../shared/pupil-key.js';

/** The inbound messages that concern this pupil, newest first (the index holds keyed hashes, never a PGN). */
export async function inboundIdsForPupil(pool: Pool, traceKey: string, pgn: string, limit: number): Promise<number[]> {
  const result = await pool.query<{ id: number }>(
    'SELECT inbound_message_id AS id FROM pupil_trace WHERE pupil_key = $1 ORDER BY inbound_message_id DESC LIMIT $2',
    [pupilKey(traceKey, pgn), limit],
  );
  return result.rows.map((r) => r.id);
}
