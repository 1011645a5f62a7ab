import type { Pool } from '../infra/database.js';

/** One operator action as the audit log keeps it. */
export interface AuditEntry {
  readonly id: number;
  readonly at: Date;
  /** Who: `cli:<user>` or `api:<role>` with the name the dashboard user gave. */
  readonly actor: string;
  /** What: `errors.replay`, `errors.purge`, `processing.replay`, `institution.pause`, `institution.resume`, `institution.add`, `institution.update`, `institution.ping`, `institution.signing`, `population.load`, `population.mutate`, `rio.load`, `rio.niveaus`, `rio.sectors`, `education.load`, `quality.run`, `keys.rotate`. */
  readonly action: string;
  /** On what: the filter, or the institution; `processing.replay` adds the inbound message ids (`inboundIds`). */
  readonly target: Record<string, unknown>;
  /** How many messages (or institutions) it changed, or would change in a dry run. */
  readonly affected: number;
  readonly dryRun: boolean;
  readonly outboundIds: readonly number[];
}

export type AuditRecord = Omit<AuditEntry, 'id' | 'at'>;

/** The most ids one audit row keeps; `affected` always has the full count. */
const MAX_IDS = 10_000;

/** Writes one audit row in the action's transaction, so the row commits (or not) with what it records. */
export async function insertAuditRow(tx: Pick<Pool, 'query'>, entry: AuditRecord): Promise<void> {
  await tx.query(
    'INSERT INTO operator_audit (actor, action, target, affected, dry_run, outbound_ids) VALUES ($1, $2, $3, $4, $5, $6)',
    [
      entry.actor,
      entry.action,
      JSON.stringify(entry.target),
      entry.affected,
      entry.dryRun,
      entry.outboundIds.slice(0, MAX_IDS),
    ],
  );
}

interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: Record<string, unknown>;
  affected: number;
  dry_run: boolean;
  outbound_ids: (number | string)[];
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  affected: r.affected,
  dryRun: r.dry_run,
  outboundIds: r.outbound_ids.map(Number),
});

/** Which audit entries to list: the newest `limit` (at most 1000), optionally one action's or those that touched any of these outbound messages. */
export interface AuditQuery {
  readonly limit?: number;
  readonly action?: string;
  readonly touchingOutbound?: readonly number[];
}

/** The newest audit entries first. */
export async function listAudit(pool: Pool, query: AuditQuery = {}): Promise<AuditEntry[]> {
  const params: unknown[] = [];
  const clauses: string[] = [];
  if (query.action) clauses.push(`action = $${params.push(query.action)}`);
  if (query.touchingOutbound !== undefined)
    clauses.push(`outbound_ids && $${params.push(query.touchingOutbound)}::bigint[]`);
  const result = await pool.query<AuditRow>(
    `SELECT id, at, actor, action, target, affected, dry_run, outbound_ids FROM operator_audit
     ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.min(Math.max(query.limit ?? 50, 1), 1000)}`,
    params,
  );
  return result.rows.map(toEntry);
}
