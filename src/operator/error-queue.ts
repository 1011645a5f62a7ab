import type { Queue } from 'bullmq';
import type { Pool } from '../store/database.js';
import { type DeliveryJobData, deliveryJobId } from '../queue/delivery-queue.js';
import type { JobsFor } from '../queue/enqueuer.js';

/**
 * The operator API for undeliverable messages (the error queue) and for pausing deliveries to an
 * institution. The CLI (and later the admin API and dashboard) are thin shells over these functions.
 * The state lives in PostgreSQL; BullMQ's failed set mirrors it and is kept in step here.
 */

/** Which error-queue messages an operation applies to. */
export interface ErrorFilter {
  readonly ids?: readonly number[];
  readonly institutionOin?: string;
  readonly operation?: string;
  /** Only messages created at least this long ago. */
  readonly olderThanMs?: number;
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
  readonly deliveryQueue: Queue<DeliveryJobData>;
  readonly deliveryJobs: JobsFor<DeliveryJobData>;
}

function where(filter: ErrorFilter, status: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [status];
  const clauses = ['status = $1'];
  if (filter.ids) clauses.push(`id = ANY($${params.push(filter.ids)}::bigint[])`);
  if (filter.institutionOin) clauses.push(`institution_oin = $${params.push(filter.institutionOin)}`);
  if (filter.operation) clauses.push(`operation = $${params.push(filter.operation)}`);
  if (filter.olderThanMs !== undefined) clauses.push(`created_at <= now() - make_interval(secs => $${params.push(filter.olderThanMs)}::double precision / 1000)`);
  return { sql: clauses.join(' AND '), params };
}

/** Error-queue messages matching the filter, oldest first. */
export async function listErrors(deps: Pick<OperatorDeps, 'pool'>, filter: ErrorFilter = {}): Promise<ErrorQueueEntry[]> {
  const { sql, params } = where(filter, 'error');
  const result = await deps.pool.query<{ id: number; institution_oin: string; brin: string | null; operation: string; attempts: number; last_error: string | null; created_at: Date }>(
    `SELECT id, institution_oin, brin, operation, attempts, last_error, created_at FROM outbound_messages WHERE ${sql} ORDER BY id LIMIT ${Math.min(filter.limit ?? 1000, 100_000)}`,
    params,
  );
  return result.rows.map((r) => ({ id: r.id, institutionOin: r.institution_oin, brin: r.brin, operation: r.operation, attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at }));
}

/** One outbound message with its attempt timeline. */
export async function showOutbound(deps: Pick<OperatorDeps, 'pool'>, id: number): Promise<{ message: Record<string, unknown>; attempts: DeliveryAttempt[] } | null> {
  const message = (await deps.pool.query(
    'SELECT id, institution_oin, brin, operation, wsa_message_id, status, attempts, last_error, created_at, delivered_at, cause_message_id FROM outbound_messages WHERE id = $1', [id])).rows[0];
  if (!message) return null;
  const attempts = (await deps.pool.query<{ attempt: number; started_at: Date; endpoint: string; http_status: number | null; fault_code: string | null; latency_ms: number; outcome: string; error: string | null }>(
    'SELECT attempt, started_at, endpoint, http_status, fault_code, latency_ms, outcome, error FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt', [id])).rows;
  return {
    message,
    attempts: attempts.map((a) => ({ attempt: a.attempt, startedAt: a.started_at, endpoint: a.endpoint, httpStatus: a.http_status, faultCode: a.fault_code, latencyMs: a.latency_ms, outcome: a.outcome, error: a.error })),
  };
}

async function removeJobs(queue: Queue<DeliveryJobData>, ids: readonly number[]): Promise<void> {
  await Promise.all(ids.map(async (id) => (await queue.getJob(deliveryJobId(id)))?.remove()));
}

/**
 * Puts error-queue messages back in delivery with their original wsa:MessageID and a fresh set of
 * attempts. Only messages still in the error queue move, so replaying twice delivers once.
 * With `dryRun` nothing changes; the count says how many would.
 */
export async function replayErrors(deps: OperatorDeps, filter: ErrorFilter, options: { dryRun?: boolean } = {}): Promise<number[]> {
  if (options.dryRun) return (await listErrors(deps, filter)).map((e) => e.id);
  const { sql, params } = where(filter, 'error');
  const ids = (await deps.pool.query<{ id: number }>(`UPDATE outbound_messages SET status = 'pending' WHERE ${sql} RETURNING id`, params)).rows.map((r) => r.id);
  await removeJobs(deps.deliveryQueue, ids);
  if (ids.length > 0) await deps.deliveryQueue.addBulk(deps.deliveryJobs(ids) as Parameters<Queue<DeliveryJobData>['addBulk']>[0]);
  return ids;
}

/** Removes error-queue messages from delivery for good (status `purged`; the row stays for audit). */
export async function purgeErrors(deps: OperatorDeps, filter: ErrorFilter, options: { dryRun?: boolean } = {}): Promise<number[]> {
  if (options.dryRun) return (await listErrors(deps, filter)).map((e) => e.id);
  const { sql, params } = where(filter, 'error');
  const ids = (await deps.pool.query<{ id: number }>(`UPDATE outbound_messages SET status = 'purged' WHERE ${sql} RETURNING id`, params)).rows.map((r) => r.id);
  await removeJobs(deps.deliveryQueue, ids);
  return ids;
}

/** Holds deliveries to an institution (a holiday, a migration): its messages wait without using attempts. */
export async function pauseInstitution(deps: Pick<OperatorDeps, 'pool'>, oin: string): Promise<boolean> {
  return (await deps.pool.query('UPDATE institutions SET paused = true, updated_at = now() WHERE oin = $1', [oin])).rowCount === 1;
}

/** Resumes deliveries to an institution and puts its waiting messages back in the queue. Returns how many. */
export async function resumeInstitution(deps: OperatorDeps, oin: string): Promise<number> {
  await deps.pool.query('UPDATE institutions SET paused = false, updated_at = now() WHERE oin = $1', [oin]);
  const ids = (await deps.pool.query<{ id: number }>("SELECT id FROM outbound_messages WHERE institution_oin = $1 AND status = 'pending' ORDER BY id", [oin])).rows.map((r) => r.id);
  if (ids.length > 0) await deps.deliveryQueue.addBulk(deps.deliveryJobs(ids) as Parameters<Queue<DeliveryJobData>['addBulk']>[0]);
  return ids.length;
}
