import { type Pool, prepared } from './database.js';

/** An outbound message with where it goes. */
export interface OutboundForDelivery {
  readonly id: number;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly bodyXml: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly institutionOin: string;
  readonly endpointUrl: string | null;
  readonly paused: boolean;
}

/** These outbound messages with where they go, in the order asked; null where one does not exist. */
export async function loadForDelivery(pool: Pool, ids: readonly number[]): Promise<(OutboundForDelivery | null)[]> {
  const result = await pool.query<{ id: number; operation: string; wsa_message_id: string; body_xml: string; status: string; attempts: number; last_error: string | null; institution_oin: string; endpoint_url: string | null; paused: boolean }>(
    prepared('delivery-load', `SELECT o.id, o.operation, o.wsa_message_id, o.body_xml, o.status, o.attempts, o.last_error, o.institution_oin, i.endpoint_url, i.paused
     FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin WHERE o.id = ANY($1::bigint[])`,
    [ids])
  );
  const byId = new Map(result.rows.map((r) => [r.id, { id: r.id, operation: r.operation, wsaMessageId: r.wsa_message_id, bodyXml: r.body_xml, status: r.status, attempts: r.attempts, lastError: r.last_error, institutionOin: r.institution_oin, endpointUrl: r.endpoint_url, paused: r.paused }]));
  return ids.map((id) => byId.get(id) ?? null);
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
 * Records attempts and their effect on each message in one statement: attempts + 1, and the new
 * status (`delivered`, `error` when no attempt is left or the failure is final, else still `pending`).
 * Only a pending message changes, so a replayed or purged message is never overwritten by a late attempt.
 * The status test is written `(…) IS TRUE` so the partial index on pending rows cannot serve it: a
 * cached plan would read that index whole (every pending message) instead of one row per attempt.
 */
export async function recordAttempts(pool: Pool, attempts: readonly (AttemptRecord & { readonly status: 'delivered' | 'error' | 'pending' })[]): Promise<void> {
  if (attempts.length === 0) return;
  // One statement updates a message once: a second attempt at the same message goes in the next one.
  const seen = new Set<number>();
  const first: typeof attempts[number][] = [];
  const later: typeof attempts[number][] = [];
  for (const attempt of attempts) {
    (seen.has(attempt.outboundId) ? later : first).push(attempt);
    seen.add(attempt.outboundId);
  }
  if (later.length > 0) {
    await recordAttempts(pool, first);
    await recordAttempts(pool, later);
    return;
  }
  const column = <T>(pick: (a: (typeof attempts)[number]) => T): T[] => attempts.map(pick);
  await pool.query(
    prepared('delivery-record', `WITH attempt AS (
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[])
         AS a(outbound_id, started_at, endpoint, http_status, fault_code, latency_ms, error, status, outcome)),
     updated AS (
       UPDATE outbound_messages o SET attempts = o.attempts + 1, status = a.status, last_error = a.error,
         delivered_at = CASE WHEN a.status = 'delivered' THEN now() ELSE o.delivered_at END
       FROM attempt a WHERE o.id = a.outbound_id AND (o.status = 'pending') IS TRUE RETURNING o.id, o.attempts)
     INSERT INTO delivery_attempts (outbound_id, attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error)
     SELECT u.id, u.attempts, a.started_at, a.endpoint, a.http_status, a.fault_code, a.latency_ms, a.outcome, a.error
     FROM updated u JOIN attempt a ON a.outbound_id = u.id`,
    [column((a) => a.outboundId), column((a) => a.startedAt), column((a) => a.endpoint), column((a) => a.httpStatus ?? null),
      column((a) => a.faultCode ?? null), column((a) => a.latencyMs), column((a) => a.error ?? null), column((a) => a.status), column((a) => a.outcome)])
  );
}

/** Marks a message that cannot be attempted at all (no endpoint) as an error. */
export async function markUndeliverable(pool: Pool, id: number, reason: string): Promise<void> {
  await pool.query("UPDATE outbound_messages SET status = 'error', last_error = $2 WHERE id = $1 AND (status = 'pending') IS TRUE", [id, reason]);
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
