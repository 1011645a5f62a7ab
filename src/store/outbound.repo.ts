import type pg from 'pg';
import { type Pool, prepared } from '../infra/database.js';
import { BODY_XML, openBodyXml, resealBatch, storedTextColumns } from './stored-text.js';

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
  /** Whether the institution's receipt must carry a valid signature with its OIN. */
  readonly verifyReceiptSignature: boolean;
  /** When it was queued (the delivery-latency metric counts from here). */
  readonly createdAt: Date;
  /** Its first attempt was leased to this process by the transaction that queued it (room reserved already). */
  readonly leasedAtQueue?: boolean;
}

/** These outbound messages with where they go, in the order asked; null where one does not exist. */
export async function loadForDelivery(pool: Pool, ids: readonly number[]): Promise<(OutboundForDelivery | null)[]> {
  const result = await pool.query<{
    id: number;
    operation: string;
    wsa_message_id: string;
    body_xml: string | null;
    body_xml_sealed: Buffer | null;
    body_xml_key_id: string | null;
    status: string;
    attempts: number;
    last_error: string | null;
    institution_oin: string;
    endpoint_url: string | null;
    paused: boolean;
    verify_receipt_signature: boolean;
    created_at: Date;
  }>(
    prepared(
      'delivery-load',
      `SELECT o.id, o.operation, o.wsa_message_id, ${storedTextColumns(BODY_XML, 'o')}, o.status, o.attempts - o.replayed_attempts AS attempts, o.last_error,
       o.institution_oin, i.endpoint_url, i.paused, i.verify_receipt_signature, o.created_at
     FROM outbound_messages o JOIN institutions i ON i.oin = o.institution_oin WHERE o.id = ANY($1::bigint[])`,
      [ids],
    ),
  );
  const byId = new Map(
    result.rows.map((r) => [
      r.id,
      {
        id: r.id,
        operation: r.operation,
        wsaMessageId: r.wsa_message_id,
        bodyXml: openBodyXml(pool, r),
        status: r.status,
        attempts: r.attempts,
        lastError: r.last_error,
        institutionOin: r.institution_oin,
        endpointUrl: r.endpoint_url,
        paused: r.paused,
        verifyReceiptSignature: r.verify_receipt_signature,
        createdAt: r.created_at,
      },
    ]),
  );
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
export async function claimDeliveries(
  pool: Pool,
  ids: readonly number[] | null,
  limit: number,
  terms: LeaseTerms,
): Promise<number[]> {
  const result = await pool.query<{ leased_id: number }>(
    prepared(
      ids ? 'delivery-claim-ids' : 'delivery-claim-due',
      'SELECT leased_id FROM claim_deliveries($1::bigint[], $2, $3, $4, $5)',
      [ids, limit, terms.perInstitution, terms.leaseMs, terms.owner],
    ),
  );
  return result.rows.map((row) => row.leased_id);
}

/**
 * Commits the caller's transaction, leasing the first attempts of messages it just queued (`leases.queued`,
 * by lease_first_attempts, migration 029) in the same round trip: the two statements go as one simple
 * query, so the institutions' locks are held from the lease to the commit only. Its values are
 * written into the text (simple queries take no parameters): ids and numbers as integers, OINs and the
 * owner quoted. Returns the ids leased; a failure of either statement fails the transaction.
 */
export async function commitLeasing(
  tx: pg.PoolClient,
  leases: {
    readonly queued: readonly { readonly id: number; readonly institutionOin: string }[];
    readonly terms: LeaseTerms;
  } | null,
): Promise<number[]> {
  if (!leases || leases.queued.length === 0) {
    await tx.query('COMMIT');
    return [];
  }
  const { queued, terms } = leases;
  const integer = (value: number): string => String(Math.trunc(Number(value)));
  const ids = queued.map((message) => integer(message.id)).join(',');
  const oins = queued.map((message) => tx.escapeLiteral(message.institutionOin)).join(',');
  const lease = `SELECT leased_id FROM lease_first_attempts(ARRAY[${ids}]::bigint[], ARRAY[${oins}]::text[], ${integer(terms.perInstitution)}, ${integer(terms.leaseMs)}, ${tx.escapeLiteral(terms.owner)})`;
  const results = (await tx.query(`${lease}; COMMIT`)) as unknown as pg.QueryResult<{ leased_id: string }>[];
  return results[0]!.rows.map((row) => Number(row.leased_id));
}

/**
 * Vacuums delivery_leases, index pass included: a claim's count of live leases reads an index that
 * keeps every freed lease until then. SKIP_LOCKED: when another process's vacuum is under way, that one
 * is enough; no truncation, whose exclusive lock would hold up claims.
 */
export async function vacuumDeliveryLeases(pool: Pool): Promise<void> {
  await pool.query('VACUUM (SKIP_LOCKED, INDEX_CLEANUP true, TRUNCATE false) delivery_leases');
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
  const quoted = (text: string | undefined): string | null =>
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
    text === undefined ? null : text.replace(/\u0000/g, '').slice(0, 1000);
  await pool.query(
    prepared(
      'delivery-record',
      // Every join is by index or by an array made once: CTEs joined to CTEs ran nested loops, n² rows a batch.
      `WITH released AS (
       DELETE FROM delivery_leases WHERE outbound_id = ANY($1::bigint[]) AND owner = $11 RETURNING outbound_id),
     updated AS (
       UPDATE outbound_messages o SET attempts = o.attempts + 1, status = a.status, last_error = a.error,
         next_attempt_at = coalesce(a.next_attempt_at, o.next_attempt_at),
         delivered_at = CASE WHEN a.status = 'delivered' THEN now() ELSE o.delivered_at END
       FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
         AS a(outbound_id, started_at, endpoint, http_status, fault_code, latency_ms, error, status, outcome, next_attempt_at)
       WHERE o.id = a.outbound_id AND a.outbound_id = ANY(ARRAY(SELECT outbound_id FROM released)) AND (o.status = 'pending') IS TRUE
       RETURNING o.id, o.attempts, a.started_at, a.endpoint, a.http_status, a.fault_code, a.latency_ms, a.outcome, a.error)
     INSERT INTO delivery_attempts (outbound_id, attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error)
     SELECT id, attempts, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error FROM updated`,
      [
        column((a) => a.outboundId),
        column((a) => a.startedAt),
        column((a) => a.endpoint),
        column((a) => a.httpStatus ?? null),
        column((a) => quoted(a.faultCode)),
        column((a) => a.latencyMs),
        column((a) => quoted(a.error)),
        column((a) => a.status),
        column((a) => a.outcome),
        column((a) => a.nextAttemptAt ?? null),
        owner,
      ],
    ),
  );
}

/** Puts a leased message that cannot be attempted at all (no endpoint) in the error queue, and frees its lease. */
export async function markUndeliverable(pool: Pool, id: number, reason: string, owner: string): Promise<void> {
  await pool.query(
    `WITH released AS (DELETE FROM delivery_leases WHERE outbound_id = $1 AND owner = $3 RETURNING outbound_id)
     UPDATE outbound_messages SET status = 'error', last_error = $2 WHERE id = (SELECT outbound_id FROM released) AND (status = 'pending') IS TRUE`,
    [id, reason, owner],
  );
}

type Queryable = Pick<Pool, 'query'>;

/** Which error-queue messages an operator's look or action applies to. */
export interface ErrorFilter {
  readonly ids?: readonly number[];
  readonly institutionOin?: string;
  readonly operation?: string;
  /** The inbound contract of the message that caused it, e.g. DUO_VOAanlevering_InschrijvingVO_V1. */
  readonly contract?: string;
  /** Text in the last error, e.g. `Client.DK0004`, `HTTP 503`, `no answer`. */
  readonly fault?: string;
  /** Only messages created at least this long ago. */
  readonly olderThanMs?: number;
  /** Only messages created at most this long ago. */
  readonly newerThanMs?: number;
  readonly limit?: number;
}

/** An error-queue message as stored; its last error unmasked (the operator layer masks it). */
export interface ErrorQueueEntry {
  readonly id: number;
  readonly institutionOin: string;
  readonly brin: string | null;
  readonly operation: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

const ageClause = (comparison: '<=' | '>=', param: number): string =>
  `created_at ${comparison} now() - make_interval(secs => $${param}::double precision / 1000)`;

function errorQueueWhere(filter: ErrorFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses = ["status = 'error'"];
  if (filter.ids) clauses.push(`id = ANY($${params.push(filter.ids)}::bigint[])`);
  if (filter.institutionOin) clauses.push(`institution_oin = $${params.push(filter.institutionOin)}`);
  if (filter.operation) clauses.push(`operation = $${params.push(filter.operation)}`);
  if (filter.contract)
    clauses.push(
      `EXISTS (SELECT 1 FROM inbound_messages m WHERE m.id = cause_message_id AND m.contract = $${params.push(filter.contract)})`,
    );
  if (filter.fault) clauses.push(`strpos(lower(coalesce(last_error, '')), lower($${params.push(filter.fault)})) > 0`);
  if (filter.olderThanMs !== undefined) clauses.push(ageClause('<=', params.push(filter.olderThanMs)));
  if (filter.newerThanMs !== undefined) clauses.push(ageClause('>=', params.push(filter.newerThanMs)));
  return { sql: clauses.join(' AND '), params };
}

/** Error-queue messages matching the filter, oldest first (at most `filter.limit`, default 1000). */
export async function listErrorQueue(db: Queryable, filter: ErrorFilter = {}): Promise<ErrorQueueEntry[]> {
  const { sql, params } = errorQueueWhere(filter);
  const result = await db.query<{
    id: number;
    institution_oin: string;
    brin: string | null;
    operation: string;
    attempts: number;
    last_error: string | null;
    created_at: Date;
  }>(
    `SELECT id, institution_oin, brin, operation, attempts, last_error, created_at FROM outbound_messages WHERE ${sql} ORDER BY id LIMIT ${Math.min(Math.max(0, Math.floor(filter.limit ?? 1000)), 100_000)}`,
    params,
  );
  return result.rows.map((r) => ({
    id: r.id,
    institutionOin: r.institution_oin,
    brin: r.brin,
    operation: r.operation,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
  }));
}

/** Ids in the error queue matching the filter, oldest first (all of them unless the filter has a limit). */
export async function errorQueueIds(db: Queryable, filter: ErrorFilter): Promise<number[]> {
  const { sql, params } = errorQueueWhere(filter);
  const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
  return (
    await db.query<{ id: number }>(`SELECT id FROM outbound_messages WHERE ${sql} ORDER BY id${limit}`, params)
  ).rows.map((r) => r.id);
}

/**
 * Moves these messages out of the error queue: `pending` is a replay (due at once, with a fresh set of
 * retries; attempts so far stay on record), `purged` takes them out of delivery for good. Only
 * messages still in the error queue move, so moving twice moves once; returns those that moved.
 */
export async function moveFromErrorQueue(
  db: Queryable,
  ids: readonly number[],
  status: 'pending' | 'purged',
): Promise<number[]> {
  return (
    await db.query<{ id: number }>(
      `UPDATE outbound_messages SET status = $2,
       next_attempt_at = CASE WHEN $2 = 'pending' THEN '-infinity'::timestamptz ELSE next_attempt_at END,
       replayed_attempts = CASE WHEN $2 = 'pending' THEN attempts ELSE replayed_attempts END
     WHERE id = ANY($1::bigint[]) AND status = 'error' RETURNING id`,
      [ids, status],
    )
  ).rows.map((r) => r.id);
}

/**
 * Makes an institution's waiting messages due at once (a retry's backoff is not waited out), so every
 * delivery process's next poll takes them; returns how many.
 */
export async function makeInstitutionDeliveriesDue(db: Queryable, oin: string): Promise<number> {
  return (
    (
      await db.query(
        `UPDATE outbound_messages SET next_attempt_at = least(next_attempt_at, now()) WHERE institution_oin = $1 AND status = 'pending'`,
        [oin],
      )
    ).rowCount ?? 0
  );
}

/** An outbound message as an operator inspects it; its last error unmasked. */
export interface OutboundDetail {
  readonly id: number;
  readonly institutionOin: string;
  readonly brin: string | null;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly status: string;
  readonly attempts: number;
  /** When a pending message is attempted next. */
  readonly nextAttemptAt: Date | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
  /** The inbound message whose processing queued it (none for a push not caused by one). */
  readonly causeMessageId: number | null;
  readonly documentId: string;
  readonly bodyXml: string;
}

/** How an outbound message is found: its id, its MessageID or document id (a UUID), or all that one inbound message caused. */
export type OutboundLookup = { readonly id: number } | { readonly uuid: string } | { readonly causeMessageId: number };

interface OutboundDetailRow {
  id: number;
  institution_oin: string;
  brin: string | null;
  operation: string;
  wsa_message_id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  cause_message_id: number | null;
  document_id: string;
  body_xml: string | null;
  body_xml_sealed: Buffer | null;
  body_xml_key_id: string | null;
}

/** The outbound messages a lookup finds, by id (a UUID finds at most one). */
export async function findOutboundMessages(db: Queryable, lookup: OutboundLookup): Promise<OutboundDetail[]> {
  const [where, value] =
    'id' in lookup
      ? ['id = $1', lookup.id]
      : 'uuid' in lookup
        ? ['wsa_message_id = $1::uuid OR document_id = $1::uuid', lookup.uuid]
        : ['cause_message_id = $1', lookup.causeMessageId];
  const rows = (
    await db.query<OutboundDetailRow>(
      `SELECT id, institution_oin, brin, operation, wsa_message_id, status, attempts, CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
       last_error, created_at, delivered_at, cause_message_id, document_id, ${storedTextColumns(BODY_XML)}
     FROM outbound_messages WHERE ${where} ORDER BY id${'uuid' in lookup ? ' LIMIT 1' : ''}`,
      [value],
    )
  ).rows;
  return rows.map((r) => ({
    id: r.id,
    institutionOin: r.institution_oin,
    brin: r.brin,
    operation: r.operation,
    wsaMessageId: r.wsa_message_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
    causeMessageId: r.cause_message_id,
    documentId: r.document_id,
    bodyXml: openBodyXml(db, r),
  }));
}

/** One recorded delivery attempt; its error unmasked. */
export interface DeliveryAttempt {
  readonly outboundId: number;
  readonly attempt: number;
  readonly startedAt: Date;
  readonly endpoint: string;
  readonly httpStatus: number | null;
  readonly faultCode: string | null;
  readonly latencyMs: number;
  readonly outcome: string;
  readonly error: string | null;
}

/** The attempts at these outbound messages, per message in attempt order. */
export async function listDeliveryAttempts(db: Queryable, outboundIds: readonly number[]): Promise<DeliveryAttempt[]> {
  if (outboundIds.length === 0) return [];
  const rows = (
    await db.query<{
      outbound_id: number;
      attempt: number;
      started_at: Date;
      endpoint: string;
      http_status: number | null;
      fault_code: string | null;
      latency_ms: number;
      outcome: string;
      error: string | null;
    }>(
      `SELECT outbound_id, attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error
     FROM delivery_attempts WHERE outbound_id = ANY($1::bigint[]) ORDER BY outbound_id, attempt`,
      [outboundIds],
    )
  ).rows;
  return rows.map((a) => ({
    outboundId: a.outbound_id,
    attempt: a.attempt,
    startedAt: a.started_at,
    endpoint: a.endpoint,
    httpStatus: a.http_status,
    faultCode: a.fault_code,
    latencyMs: a.latency_ms,
    outcome: a.outcome,
    error: a.error,
  }));
}

/** Outbound messages waiting for delivery (`pending`) and in the error queue (`error`): the stats and the metrics gauges both read these. */
export async function countOpenOutbound(db: Queryable): Promise<{ pending: number; error: number }> {
  return (
    await db.query<{ pending: number; error: number }>(
      "SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'error')::int AS error FROM outbound_messages WHERE status IN ('pending', 'error')",
    )
  ).rows[0]!;
}

/** Messages delivered in the last hour, with the queueing → receipt latency in seconds (null when none were). */
export async function deliveryLatencyLastHour(
  db: Queryable,
): Promise<{ delivered: number; p50: number | null; p95: number | null; max: number | null }> {
  const row = (
    await db.query<{ n: number; p50: number | null; p95: number | null; max: number | null }>(
      `SELECT count(*)::int AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) AS p95,
       max(extract(epoch FROM delivered_at - created_at))::float8 AS max
     FROM outbound_messages WHERE delivered_at > now() - interval '1 hour' AND status = 'delivered'`,
    )
  ).rows[0]!;
  return { delivered: row.n, p50: row.p50, p95: row.p95, max: row.max };
}

/** The last `minutes`, cut into buckets of `bucketSeconds` aligned on the epoch (date_bin). */
export interface BucketSpan {
  readonly minutes: number;
  readonly bucketSeconds: number;
}

/** Messages delivered per bucket over the span (buckets without any left out), keyed by the bucket's start. */
export async function deliveredPerBucket(db: Queryable, span: BucketSpan): Promise<Map<number, number>> {
  const rows = (
    await db.query<{ start: Date; n: number }>(
      `SELECT date_bin(make_interval(secs => $2), delivered_at, timestamptz 'epoch') AS start, count(*)::int AS n
     FROM outbound_messages WHERE delivered_at > now() - make_interval(mins => $1) AND status = 'delivered' GROUP BY 1`,
      [span.minutes, span.bucketSeconds],
    )
  ).rows;
  return new Map(rows.map((r) => [r.start.getTime(), r.n]));
}

/** As resealInboundBatch, for the bodies of outbound messages. */
export const resealOutboundBatch = (tx: Pick<Pool, 'query'>, afterId: number, limit: number) =>
  resealBatch(tx, BODY_XML, afterId, limit);

/** Outbound bodies per data key (null: plain text). */
export async function countOutboundByDataKey(db: Queryable): Promise<Record<string, number>> {
  const rows = (
    await db.query<{ key_id: string | null; n: number }>(
      'SELECT body_xml_key_id AS key_id, count(*)::int AS n FROM outbound_messages GROUP BY 1',
    )
  ).rows;
  return Object.fromEntries(rows.map((r) => [r.key_id ?? 'plain', r.n]));
}
