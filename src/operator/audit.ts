import os from 'node:os';
import type { Pool } from '../shared/database.js';

/** One operator action as the audit log keeps it. */
export interface AuditEntry {
  readonly id: number;
  readonly at: Date;
  /** Who: `cli:<user>` or `api:<role>` with the name the dashboard user gave. */
  readonly actor: string;
  /** What: `errors.replay`, `errors.purge`, `processing.replay`, `institution.pause`, `institution.resume`, `institution.add`, `population.load`, `population.mutate`, `quality.run`. */
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

/** Writes one audit row; pass the action's transaction so the row commits (or not) with it. */
export async function recordAudit(db: Pick<Pool, 'query'>, entry: AuditRecord): Promise<void> {
  await db.query(
    'INSERT INTO operator_audit (actor, action, target, affected, dry_run, outbound_ids) VALUES ($1, $2, $3, $4, $5, $6)',
    [entry.actor, entry.action, JSON.stringify(entry.target), entry.affected, entry.dryRun, entry.outboundIds.slice(0, MAX_IDS)],
  );
}

interface AuditRow { id: number; at: Date; actor: string; action: string; target: Record<string, unknown>; affected: number; dry_run: boolean; outbound_ids: (number | string)[] }

const toEntry = (r: AuditRow): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, affected: r.affected, dryRun: r.dry_run, outboundIds: r.outbound_ids.map(Number),
});

/** The newest audit entries first, optionally only one action's or those that touched one outbound message. */
export async function listAudit(pool: Pool, options: { limit?: number; action?: string; outboundId?: number } = {}): Promise<AuditEntry[]> {
  const params: unknown[] = [];
  const clauses: string[] = [];
  if (options.action) clauses.push(`action = $${params.push(options.action)}`);
  if (options.outboundId !== undefined) clauses.push(`$${params.push(options.outboundId)}::bigint = ANY(outbound_ids)`);
  const result = await pool.query<AuditRow>(
    `SELECT id, at, actor, action, target, affected, dry_run, outbound_ids FROM operator_audit
     ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.min(Math.max(options.limit ?? 50, 1), 1000)}`,
    params,
  );
  return result.rows.map(toEntry);
}

/** The audit name of the person at the command line. */
export function cliActor(): string {
  let user = process.env.SUDO_USER || process.env.USER;
  try {
    user ||= os.userInfo().username;
  } catch {
    user ||= 'unknown';
  }
  return `cli:${user}`;
}
