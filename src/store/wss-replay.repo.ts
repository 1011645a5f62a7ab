import type { Pool } from '../infra/database.js';

/** One signed request's replay key: the sender, its wsa:MessageID and a digest of its signature value. */
export interface SignedRequestKey {
  readonly senderOin: string;
  readonly messageId: string;
  readonly signatureDigest: string;
}

/**
 * Records a signed request, or finds it recorded already: true when it is new, false when the same
 * sender, MessageID and signature were seen before (a replay). One statement, so two copies racing
 * on two brokers cannot both be new.
 */
export async function recordSignedRequest(db: Pick<Pool, 'query'>, key: SignedRequestKey): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO wss_replay (sender_oin, message_id, signature_digest) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [key.senderOin, key.messageId, key.signatureDigest],
  );
  return result.rowCount === 1;
}

/** Forgets a recorded request: its message was known not to be stored, so an identical resend is no replay. */
export async function forgetSignedRequest(db: Pick<Pool, 'query'>, key: SignedRequestKey): Promise<void> {
  await db.query('DELETE FROM wss_replay WHERE sender_oin = $1 AND message_id = $2 AND signature_digest = $3', [
    key.senderOin,
    key.messageId,
    key.signatureDigest,
  ]);
}

/** Deletes records older than `windowMs`, which no request can match any more; returns how many. */
export async function pruneSignedRequests(db: Pick<Pool, 'query'>, windowMs: number): Promise<number> {
  const result = await db.query(`DELETE FROM wss_replay WHERE seen_at < now() - make_interval(secs => $1)`, [
    windowMs / 1000,
  ]);
  return result.rowCount ?? 0;
}
