import { maskPersonalNumbers } from '../shared/log.js';
import type { Pool } from '../shared/database.js';

/**
 * The operator API for undeliverable messages (the error queue) and for pausing deliveries to an
 * institution: the mechanics. operator-actions.ts adds the audit; the CLI, admin API and dashboard use that.
 * The state lives in PostgreSQL alone: what changes here, every delivery process sees at its next poll.
 */

/** Which error-queue messages an operation applies to. */
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

export interface ErrorQueueEntry {
  readonly id: number;
  readonly institutionOin: string;
  readonly brin: string | null;
  readonly operation: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

export interface DeliveryAttempt {
  readonly attempt: number;
  readonly startedAt: Date;
  readonly endpoint: string;
  readonly httpStatus: number | null;
  readonly faultCode: string | null;
  readonly latencyMs: number;
  readonly outcome: string;
  readonly error: string | null;
}

export interface OperatorDeps {
  readonly pool: Pool;
}

const ageClause = (comparison: '<=' | '>=', param: number): string =>
  `created_at ${comparison} now() - make_interval(secs => $${param}::double precision / 1000)`;

function where(filter: ErrorFilter, status: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [status];
  const clauses = ['status = $1'];
  if (filter.ids) clauses.push(`id = ANY($${params.push(filter.ids)}::bigint[])`);
  if (filter.institutionOin) clauses.push(`institution_oin = $${params.push(filter.institutionOin)}`);
  if (filter.operation) clauses.push(`operation = $${params.push(filter.operation)}`);
  if (filter.contract) clauses.push(`EXISTS (SELECT 1 FROM inbound_messages m WHERE m.id = cause_message_id AND m.contract = $${params.push(filter.contract)})`);
  if (filter.fault) clauses.push(`strpos(lower(coalesce(last_error, '')), lower($${params.push(filter.fault)})) > 0`);
  if (filter.olderThanMs !== undefined) clauses.push(ageClause('<=', params.push(filter.olderThanMs)));
  if (filter.newerThanMs !== undefined) clauses.push(ageClause('>=', params.push(filter.newerThanMs)));
  return { sql: clauses.join(' AND '), params };
}

/** An institution's answer can quote values from our message: operators see personal numbers masked, as in the log. */
const masked = (text: string | null): string | null => (text === null ? null : maskPersonalNumbers(text));

/** Error-queue messages matching the filter, oldest first. */
export async function listErrors(deps: Pick<OperatorDeps, 'pool'>, filter: ErrorFilter = {}): Promise<ErrorQueueEntry[]> {
  const { sql, params } = where(filter, 'error');
  const result = await deps.pool.query<{ id: number; institution_oin: string; brin: string | null; operation: string; attempts: number; last_error: string | null; created_at: Date }>(
    `SELECT id, institution_oin, brin, operation, attempts, last_error, created_at FROM outbound_messages WHERE ${sql} ORDER BY id LIMIT ${Math.min(filter.limit ?? 1000, 100_000)}`,
    params,
  );
  return result.rows.map((r) => ({ id: r.id, institutionOin: r.institution_oin, brin: r.brin, operation: r.operation, attempts: r.attempts, lastError: masked(r.last_error), createdAt: r.created_at }));
}

/** An outbound message as an operator inspects it. */
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
}

/** One outbound message with its attempt timeline. */
export async function showOutbound(deps: Pick<OperatorDeps, 'pool'>, id: number): Promise<{ message: OutboundDetail; attempts: DeliveryAttempt[] } | null> {
  type Row = { id: string; institution_oin: string; brin: string | null; operation: string; wsa_message_id: string; status: string; attempts: number; next_attempt_at: Date | null; last_error: string | null; created_at: Date; delivered_at: Date | null; cause_message_id: string | null };
  const row = (await deps.pool.query<Row>(
    `SELECT id, institution_oin, brin, operation, wsa_message_id, status, attempts, CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at,
       last_error, created_at, delivered_at, cause_message_id FROM outbound_messages WHERE id = $1`, [id])).rows[0];
  if (!row) return null;
  const attempts = (await deps.pool.query<{ attempt: number; started_at: Date; endpoint: string; http_status: number | null; fault_code: string | null; latency_ms: number; outcome: string; error: string | null }>(
    'SELECT attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt', [id])).rows;
  return {
    message: {
      id: Number(row.id), institutionOin: row.institution_oin, brin: row.brin, operation: row.operation, wsaMessageId: row.wsa_message_id, status: row.status,
      attempts: row.attempts, nextAttemptAt: row.next_attempt_at, lastError: masked(row.last_error), createdAt: row.created_at, deliveredAt: row.delivered_at,
      causeMessageId: row.cause_message_id === null ? null : Number(row.cause_message_id),
    },
    attempts: attempts.map((a) => ({ attempt: a.attempt, startedAt: a.started_at, endpoint: a.endpoint, httpStatus: a.http_status, faultCode: a.fault_code, latencyMs: a.latency_ms, outcome: a.outcome, error: masked(a.error) })),
  };
}

/** How a bulk operation runs: a dry run changes nothing; progress is reported after each batch. */
export interface BulkOptions {
  readonly dryRun?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** Messages per statement (default 500): bounds lock time and lets progress move. */
  readonly batchSize?: number;
}

/** Ids in the error queue matching the filter, oldest first (all of them unless the filter has a limit). */
async function matchingIds(pool: Pool, filter: ErrorFilter): Promise<number[]> {
  const { sql, params } = where(filter, 'error');
  const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
  return (await pool.query<{ id: number }>(`SELECT id FROM outbound_messages WHERE ${sql} ORDER BY id${limit}`, params)).rows.map((r) => r.id);
}

/**
 * Applies `act` to the matching messages a batch at a time. `act` re-checks the status itself, so a
 * message another operator moved in the meantime is left alone and not counted.
 */
async function inBatches(pool: Pool, filter: ErrorFilter, options: BulkOptions, act: (ids: number[]) => Promise<number[]>): Promise<number[]> {
  const ids = await matchingIds(pool, filter);
  if (options.dryRun) {
    options.onProgress?.(ids.length, ids.length);
    return ids;
  }
  const size = options.batchSize ?? 500;
  const done: number[] = [];
  options.onProgress?.(0, ids.length);
  for (let start = 0; start < ids.length; start += size) {
    done.push(...(await act(ids.slice(start, start + size))));
    options.onProgress?.(Math.min(start + size, ids.length), ids.length);
  }
  return done;
}

// A replayed message is due at once, with a fresh set of retries (attempts so far stay on record).
const moveFromErrorQueue = async (pool: Pool, ids: readonly number[], status: 'pending' | 'purged'): Promise<number[]> =>
  (await pool.query<{ id: number }>(
    `UPDATE outbound_messages SET status = $2,
       next_attempt_at = CASE WHEN $2 = 'pending' THEN '-infinity'::timestamptz ELSE next_attempt_at END,
       replayed_attempts = CASE WHEN $2 = 'pending' THEN attempts ELSE replayed_attempts END
     WHERE id = ANY($1::bigint[]) AND status = 'error' RETURNING id`, [ids, status])).rows.map((r) => r.id);

/**
 * Puts error-queue messages back in delivery with their original wsa:MessageID and a fresh set of
 * attempts. Only messages still in the error queue move, so replaying twice delivers once.
 * With `dryRun` nothing changes; the result says which would.
 */
export async function replayErrors(deps: OperatorDeps, filter: ErrorFilter, options: BulkOptions = {}): Promise<number[]> {
  return inBatches(deps.pool, filter, options, async (batch) => {
    return moveFromErrorQueue(deps.pool, batch, 'pending');
  });
}

/** Removes error-queue messages from delivery for good (status `purged`; the row stays for audit). */
export async function purgeErrors(deps: OperatorDeps, filter: ErrorFilter, options: BulkOptions = {}): Promise<number[]> {
  return inBatches(deps.pool, filter, options, async (batch) => {
    return moveFromErrorQueue(deps.pool, batch, 'purged');
  });
}

/** Holds deliveries to an institution (a holiday, a migration): its messages wait without using attempts. */
export async function pauseInstitution(deps: Pick<OperatorDeps, 'pool'>, oin: string): Promise<boolean> {
  return (await deps.pool.query('UPDATE institutions SET paused = true, updated_at = now() WHERE oin = $1', [oin])).rowCount === 1;
}

/**
 * Resumes deliveries to an institution: its waiting messages are due at once (a retry's backoff is not
 * waited out), and every delivery process's next poll takes them. Returns how many, in one statement.
 */
export async function resumeInstitution(deps: OperatorDeps, oin: string): Promise<number> {
  const result = await deps.pool.query<{ n: number }>(
    `WITH resumed AS (UPDATE institutions SET paused = false, updated_at = now() WHERE oin = $1 RETURNING oin),
     due AS (UPDATE outbound_messages SET next_attempt_at = least(next_attempt_at, now())
             WHERE institution_oin = (SELECT oin FROM resumed) AND status = 'pending' RETURNING 1)
     SELECT count(*)::int AS n FROM due`, [oin]);
  return result.rows[0]!.n;
}
