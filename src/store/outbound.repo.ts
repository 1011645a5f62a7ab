import type { Pool } from './database.js';

/** An outbound message with where it goes. */
export interface OutboundForDelivery {
  readonly id: number;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly bodyXml: string;
  readonly status: string;
  readonly attempts: number;
  readonly institutionOin: string;
  readonly endpointUrl: string | null;
  readonly paused: boolean;
}

export async function loadForDelivery(pool: Pool, id: number): Promise<OutboundForDelivery | null> {
  const result = await pool.query<{ id: number; operation: string; wsa_message_id: string; body_xml: string; status: string; attempts: number; institution_oin: string; endpoint_url: string | null; paused: boolean }>(
    `SELECT o.id, o.operation, o.wsa_message_id, o.body_xml, o.status, o.attempts, o.institution_oin, i.endpoint_url, i.paused
     FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin WHERE o.id = $1`,
    [id],
  );
  const r = result.rows[0];
  return r ? { id: r.id, operation: r.operation, wsaMessageId: r.wsa_message_id, bodyXml: r.body_xml, status: r.status, attempts: r.attempts, institutionOin: r.institution_oin, endpointUrl: r.endpoint_url, paused: r.paused } : null;
}

export interface AttemptRecord {
  readonly outboundId: number;
  readonly startedAt: Date;
  readonly endpoint: string;
  readonly httpStatus?: number;
  readonly faultCode?: string;
  readonly latencyMs: number;
  readonly outcome: 'delivered' | 'retry' | 'failed';
  readonly error?: string;
}

/**
 * Records one attempt and its effect on the message in one statement: attempts + 1, and the new
 * status (`delivered`, `error` when no attempt is left or the failure is final, else still `pending`).
 * Only a pending message changes, so a replayed or purged message is never overwritten by a late attempt.
 */
export async function recordAttempt(pool: Pool, attempt: AttemptRecord, finalStatus: 'delivered' | 'error' | 'pending'): Promise<void> {
  await pool.query(
    `WITH updated AS (
       UPDATE outbound_messages SET attempts = attempts + 1, status = $8, last_error = $7,
         delivered_at = CASE WHEN $8 = 'delivered' THEN now() ELSE delivered_at END
       WHERE id = $1 AND status = 'pending' RETURNING id, attempts)
     INSERT INTO delivery_attempts (outbound_id, attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error)
     SELECT id, attempts, $2, $3, $4, $5, $6, $9, $7 FROM updated`,
    [attempt.outboundId, attempt.startedAt, attempt.endpoint, attempt.httpStatus ?? null, attempt.faultCode ?? null, attempt.latencyMs, attempt.error ?? null, finalStatus, attempt.outcome],
  );
}

/** Marks a message that cannot be attempted at all (no endpoint) as an error. */
export async function markUndeliverable(pool: Pool, id: number, reason: string): Promise<void> {
  await pool.query("UPDATE outbound_messages SET status = 'error', last_error = $2 WHERE id = $1 AND status = 'pending'", [id, reason]);
}

/** Pending outbound messages older than `graceMs`, after `afterId`, for institutions not paused (for the sweeper). */
export async function listDuePending(pool: Pool, afterId: number, graceMs: number, limit: number): Promise<number[]> {
  const result = await pool.query<{ id: number }>(
    `SELECT o.id FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin
     WHERE o.status = 'pending' AND NOT i.paused AND o.id > $1
       AND o.created_at <= now() - make_interval(secs => $2::double precision / 1000)
     ORDER BY o.id LIMIT $3`,
    [afterId, graceMs, limit],
  );
  return result.rows.map((row) => row.id);
}
