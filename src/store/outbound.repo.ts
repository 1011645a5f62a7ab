import { type Pool, prepared } from '../shared/database.js';

/** An outbound message with where it goes. */
export interface OutboundForDelivery {
  readonly id: number;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly bodyXml: string;
  readonly status: string;
  /** Attempts counted since it was queued or last replayed (the retry budget's use). */
  readonly attempts: number;
  readonly lastError: string | null;
  readonly institutionOin: string;
  readonly endpointUrl: string | null;
  readonly paused: boolean;
  /** When it was queued (the delivery-latency metric counts from here). */
  readonly createdAt: Date;
}

/** These outbound messages with where they go, in the order asked; null where one does not exist. */
export async function loadForDelivery(pool: Pool, ids: readonly number[]): Promise<(OutboundForDelivery | null)[]> {
  const result = await pool.query<{ id: number; operation: string; wsa_message_id: string; body_xml: string; status: string; attempts: number; last_error: string | null; institution_oin: string; endpoint_url: string | null; paused: boolean; created_at: Date }>(
    prepared('delivery-load', `SELECT o.id, o.operation, o.wsa_message_id, o.body_xml, o.status, o.attempts - o.replayed_attempts AS attempts, o.last_error,
       o.institution_oin, i.endpoint_url, i.paused, o.created_at
     FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin WHERE o.id = ANY($1::bigint[])`,
    [ids])
  );
  const byId = new Map(result.rows.map((r) => [r.id, { id: r.id, operation: r.operation, wsaMessageId: r.wsa_message_id, bodyXml: r.body_xml, status: r.status, attempts: r.attempts, lastError: r.last_error, institutionOin: r.institution_oin, endpointUrl: r.endpoint_url, paused: r.paused, createdAt: r.created_at }]));
  return ids.map((id) => byId.get(id) ?? null);
}

export interface LeaseTerms {
  /** The claiming process (leases are released and attempts recorded only by their owner). */
  readonly owner: string;
  /** Most leases per institution, across all processes. */
  readonly perInstitution: number;
  /** How long a lease lasts: longer than an attempt, so only a dead owner's lease expires. */
  readonly leaseMs: number;
  /** How long a message offered by the process that queued it may wait there for a lease (pollers take it a second after it was queued). */
  readonly handoffMs: number;
}

/**
 * Leases pending messages for an attempt (see claim_deliveries, migration 011): these ids, or with
 * `ids` null the oldest due ones, up to `limit`. Returns the ids leased to `terms.owner`.
 */
export async function claimDeliveries(pool: Pool, ids: readonly number[] | null, limit: number, terms: LeaseTerms): Promise<number[]> {
  const result = await pool.query<{ leased_id: number }>(prepared(ids ? 'delivery-claim-ids' : 'delivery-claim-due', 'SELECT leased_id FROM claim_deliveries($1::bigint[], $2, $3, $4, $5)',
    [ids, limit, terms.perInstitution, terms.leaseMs, terms.owner]));
  return result.rows.map((row) => row.leased_id);
}

/** Gives leases back without an attempt (the process is stopping, or could not start them). */
export async function releaseLeases(pool: Pool, ids: readonly number[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await pool.query('DELETE FROM delivery_leases WHERE outbound_id = ANY($1::bigint[]) AND owner = $2', [ids, owner]);
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
  /** The message's status after this attempt, and when a pending one is due again. */
  readonly status: 'delivered' | 'error' | 'pending';
  readonly nextAttemptAt?: Date;
}

/**
 * Records attempts, their effect on each message and the release of its lease in one statement:
 * attempts + 1, the new status, when a retry is due. Only a message still leased to `owner` and still
 * pending changes: an attempt whose lease expired and was taken over (or a message replayed or purged
 * meanwhile) is never written over another's. The status test is written `(…) IS TRUE` so the partial
 * index on pending rows cannot serve it: a cached plan would read that index whole.
 */
export async function recordAttempts(pool: Pool, attempts: readonly AttemptRecord[], owner: string): Promise<void> {
  if (attempts.length === 0) return;
  // One statement updates a message once: a second attempt at the same message goes in the next one.
  const seen = new Set<number>();
  const first: AttemptRecord[] = [];
  const later: AttemptRecord[] = [];
  for (const attempt of attempts) {
    (seen.has(attempt.outboundId) ? later : first).push(attempt);
    seen.add(attempt.outboundId);
  }
  if (later.length > 0) {
    await recordAttempts(pool, first, owner);
    await recordAttempts(pool, later, owner);
    return;
  }
  const column = <T>(pick: (a: AttemptRecord) => T): T[] => attempts.map(pick);
  // An institution's answer is quoted in the record: a NUL byte, which PostgreSQL refuses, must not make it unwritable.
  const quoted = (text: string | undefined): string | null => (text === undefined ? null : text.replace(/\u0000/g, '').slice(0, 1000));
  await pool.query(
    prepared('delivery-record', `WITH attempt AS (
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
         AS a(outbound_id, started_at, endpoint, http_status, fault_code, latency_ms, error, status, outcome, next_attempt_at)),
     released AS (
       DELETE FROM delivery_leases l USING attempt a WHERE l.outbound_id = a.outbound_id AND l.owner = $11 RETURNING l.outbound_id),
     updated AS (
       UPDATE outbound_messages o SET attempts = o.attempts + 1, status = a.status, last_error = a.error,
         next_attempt_at = coalesce(a.next_attempt_at, o.next_attempt_at),
         delivered_at = CASE WHEN a.status = 'delivered' THEN now() ELSE o.delivered_at END
       FROM attempt a JOIN released r ON r.outbound_id = a.outbound_id
       WHERE o.id = a.outbound_id AND (o.status = 'pending') IS TRUE RETURNING o.id, o.attempts)
     INSERT INTO delivery_attempts (outbound_id, attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error)
     SELECT u.id, u.attempts, a.started_at, a.endpoint, a.http_status, a.fault_code, a.latency_ms, a.outcome, a.error
     FROM updated u JOIN attempt a ON a.outbound_id = u.id`,
    [column((a) => a.outboundId), column((a) => a.startedAt), column((a) => a.endpoint), column((a) => a.httpStatus ?? null),
      column((a) => quoted(a.faultCode)), column((a) => a.latencyMs), column((a) => quoted(a.error)), column((a) => a.status), column((a) => a.outcome),
      column((a) => a.nextAttemptAt ?? null), owner])
  );
}

/** Puts a leased message that cannot be attempted at all (no endpoint) in the error queue, and frees its lease. */
export async function markUndeliverable(pool: Pool, id: number, reason: string, owner: string): Promise<void> {
  await pool.query(
    `WITH released AS (DELETE FROM delivery_leases WHERE outbound_id = $1 AND owner = $3 RETURNING outbound_id)
     UPDATE outbound_messages SET status = 'error', last_error = $2 WHERE id = (SELECT outbound_id FROM released) AND (status = 'pending') IS TRUE`,
    [id, reason, owner]);
}
