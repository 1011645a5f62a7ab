import type pg from 'pg';
import type { Pool } from '../infra/database.js';
import type { EnrolmentStand } from '../register/enrolment.js';
import type { Pgn } from '../register/pgn.js';
import { type QualityFinding, type QualityPupil, SETTLED_AFTER_DAYS } from '../register/quality-checks.js';
import type { Sleutelgegeven } from '../register/signals.js';
import { PUSH_FALLBACK_PREFERENCE } from './institutions.repo.js';

type Db = Pick<pg.PoolClient, 'query'>;

/** Key of the advisory lock one quality run holds for its transaction, across every broker process. */
const RUN_LOCK = 'quality-run';

/** Takes the run lock if nobody holds it; held until the transaction ends. */
export async function tryLockQualityRun(tx: Db): Promise<boolean> {
  return (
    await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [
      RUN_LOCK,
    ])
  ).rows[0]!.locked;
}

export interface RunStart {
  readonly runKey: string;
  /** The schedule's slot this run is for (null: an operator's run). */
  readonly slot: Date | null;
  readonly trigger: 'schedule' | 'operator';
  readonly actor: string | null;
  readonly checkDate: string;
  readonly startedAt: Date;
}

/**
 * Records a run in the caller's transaction; null when a run with this key is already recorded. A
 * scheduled slot from before `catchUpAfter` (the scheduler's start) only runs when an earlier slot
 * ran: a fresh database does not start with a run for last week.
 */
export async function insertQualityRun(tx: Db, run: RunStart, catchUpAfter?: Date): Promise<number | null> {
  const result = await tx.query<{ id: number }>(
    `INSERT INTO quality_runs (run_key, trigger, actor, check_date, started_at, finished_at, pupils, signals, notified)
     SELECT $1, $2, $3, $4, $5, $5, 0, 0, 0
     WHERE $6::timestamptz IS NULL OR $7::timestamptz IS NULL OR $6 >= $7 OR EXISTS (SELECT 1 FROM quality_runs WHERE trigger = 'schedule')
     ON CONFLICT (run_key) DO NOTHING RETURNING id`,
    [run.runKey, run.trigger, run.actor, run.checkDate, run.startedAt, run.slot, catchUpAfter ?? null],
  );
  return result.rows[0]?.id ?? null;
}

export async function finishQualityRun(
  tx: Db,
  runId: number,
  totals: { finishedAt: Date; pupils: number; signals: number; notified: number },
): Promise<void> {
  await tx.query('UPDATE quality_runs SET finished_at = $2, pupils = $3, signals = $4, notified = $5 WHERE id = $1', [
    runId,
    totals.finishedAt,
    totals.pupils,
    totals.signals,
    totals.notified,
  ]);
}

/** Pupils (by PGN, ascending) with an enrolment that has not ended before `from`, after `afterPgn`. */
export async function nextQualityPupils(tx: Db, afterPgn: string, from: string, limit: number): Promise<string[]> {
  const result = await tx.query<{ pgn: string }>(
    `SELECT DISTINCT pgn FROM enrolments WHERE pgn > $1 AND (datum_uitschrijving IS NULL OR datum_uitschrijving > $2::date)
     ORDER BY pgn LIMIT $3`,
    [afterPgn, from, limit],
  );
  return result.rows.map((r) => r.pgn);
}

const fullDate = (value: string | null): string | undefined =>
  value !== null && /^\d{4}-(?!00)\d{2}-(?!00)\d{2}$/.test(value) ? value : undefined;

/** These pupils with all their enrolments and the dates the population register (or an identification) knows. */
export async function loadQualityPupils(tx: Db, pgns: readonly string[]): Promise<QualityPupil[]> {
  const result = await tx.query<{
    pgn: string;
    brin: string;
    inschrijvingvolgnummer: string;
    stand: EnrolmentStand;
    delivered_on: string;
    birth_date: string | null;
    date_of_death: string | null;
  }>(
    `SELECT e.pgn, e.brin, e.inschrijvingvolgnummer, e.stand, to_char(e.document_time AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS delivered_on,
       coalesce(p.birth_date, a.birth_date) AS birth_date, to_char(p.date_of_death, 'YYYY-MM-DD') AS date_of_death
     FROM enrolments e
     LEFT JOIN population_register p ON p.bsn = e.pgn AND e.stand->'pgn'->>'kind' = 'BSN'
     LEFT JOIN assigned_persons a ON a.onderwijsnummer = e.pgn AND e.stand->'pgn'->>'kind' = 'OWN'
     WHERE e.pgn = ANY($1::text[]) ORDER BY e.pgn, e.brin, e.inschrijvingvolgnummer`,
    [pgns],
  );
  const pupils = new Map<
    string,
    { enrolments: QualityPupil['enrolments'][number][]; birthDate?: string; dateOfDeath?: string }
  >();
  for (const row of result.rows) {
    let pupil = pupils.get(row.pgn);
    if (!pupil) {
      const birthDate = fullDate(row.birth_date);
      pupil = {
        enrolments: [],
        ...(birthDate ? { birthDate } : {}),
        ...(row.date_of_death ? { dateOfDeath: row.date_of_death } : {}),
      };
      pupils.set(row.pgn, pupil);
    }
    // The register's own column names the enrolment; the stand says which kind of number it is.
    pupil.enrolments.push({
      pgn: { kind: row.stand.pgn.kind, value: row.pgn },
      brin: row.brin,
      inschrijvingvolgnummer: row.inschrijvingvolgnummer,
      stand: row.stand,
      deliveredOn: row.delivered_on,
    });
  }
  return [...pupils.values()];
}

/** Signals still reported: settled ones stay recorded (their first day must survive) but are no longer shown or sent. */
/** The condition for a reported (not settled) signal, on a quality_signals row named `row` (or unnamed). */
const reported = (row = ''): string =>
  `NOT (${
    Object.entries(SETTLED_AFTER_DAYS)
      .map(
        ([code, days]) => `(${row}code = '${code}' AND ${row}last_seen > ${row}first_seen + interval '${days} days')`,
      )
      .join(' OR ') || 'false'
  })`;
const REPORTED = reported();

const detailOf = (keys: readonly Sleutelgegeven[]): string => keys.map((k) => `${k.naam}=${k.waarde}`).join(';');

/** Records what a run found: new signals get `at` as first seen, known ones keep theirs. */
export async function upsertQualitySignals(
  tx: Db,
  runId: number,
  at: Date,
  findings: readonly QualityFinding[],
): Promise<void> {
  // One row per key: ON CONFLICT may touch a row only once per statement.
  const unique = new Map(
    findings.map((f) => [
      [f.brin, f.inschrijvingvolgnummer, f.pgn.value, f.signal.code, detailOf(f.signal.sleutelgegevens)].join('\u0000'),
      f,
    ]),
  );
  if (unique.size === 0) return;
  const rows = [...unique.values()];
  await tx.query(
    `INSERT INTO quality_signals (brin, inschrijvingvolgnummer, pgn, pgn_kind, code, detail, sleutelgegevens, first_seen, last_seen, last_run_id)
     SELECT b, v, p, k, c, d, s, $8, $8, $9 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) AS f(b, v, p, k, c, d, s)
     ON CONFLICT (brin, inschrijvingvolgnummer, pgn, code, detail) DO UPDATE SET pgn_kind = EXCLUDED.pgn_kind, sleutelgegevens = EXCLUDED.sleutelgegevens,
       last_seen = EXCLUDED.last_seen, last_run_id = EXCLUDED.last_run_id`,
    [
      rows.map((f) => f.brin),
      rows.map((f) => f.inschrijvingvolgnummer),
      rows.map((f) => f.pgn.value),
      rows.map((f) => f.pgn.kind),
      rows.map((f) => f.signal.code),
      rows.map((f) => detailOf(f.signal.sleutelgegevens)),
      rows.map((f) => JSON.stringify(f.signal.sleutelgegevens)),
      at,
      runId,
    ],
  );
}

/** Deletes the signals this run did not find again; returns how many are reported. */
export async function dropStaleQualitySignals(tx: Db, runId: number): Promise<number> {
  await tx.query('DELETE FROM quality_signals WHERE last_run_id <> $1', [runId]);
  return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM quality_signals WHERE ${REPORTED}`)).rows[0]!.n;
}

/**
 * A recorded quality signal about one enrolment (pupil, BRIN, volgnummer). Carries the pupil's number
 * in full for the school's report: operators' surfaces show it masked (src/operator/quality.ts).
 */
export interface QualitySignalRow {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly code: string;
  readonly sleutelgegevens: readonly Sleutelgegeven[];
  readonly firstSeen: Date;
  readonly lastSeen: Date;
}

export interface QualitySignalFilter {
  readonly brins?: readonly string[];
  readonly code?: string;
  readonly limit?: number;
}

type SignalRow = {
  brin: string;
  inschrijvingvolgnummer: string;
  pgn: string;
  pgn_kind: Pgn['kind'];
  code: string;
  sleutelgegevens: Sleutelgegeven[];
  first_seen: Date;
  last_seen: Date;
};
const toSignalRow = (r: SignalRow): QualitySignalRow => ({
  pgn: { kind: r.pgn_kind, value: r.pgn },
  brin: r.brin,
  inschrijvingvolgnummer: r.inschrijvingvolgnummer,
  code: r.code,
  sleutelgegevens: r.sleutelgegevens,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
});

/** Reported signals by school, enrolment and code. */
export async function listQualitySignals(db: Db, filter: QualitySignalFilter = {}): Promise<QualitySignalRow[]> {
  const params: unknown[] = [];
  const clauses: string[] = [REPORTED];
  if (filter.brins) clauses.push(`brin = ANY($${params.push(filter.brins)}::text[])`);
  if (filter.code) clauses.push(`code = $${params.push(filter.code)}`);
  const limit = filter.limit === undefined ? '' : `LIMIT ${Math.min(Math.max(Math.floor(filter.limit), 1), 100_000)}`;
  const result = await db.query<SignalRow>(
    `SELECT brin, inschrijvingvolgnummer, pgn, pgn_kind, code, sleutelgegevens, first_seen, last_seen FROM quality_signals
     WHERE ${clauses.join(' AND ')} ORDER BY brin, inschrijvingvolgnummer, pgn, code, detail ${limit}`,
    params,
  );
  return result.rows.map(toSignalRow);
}

/** Signals per school and code: the dashboard's counts. */
export async function countQualitySignals(db: Db): Promise<{ brin: string; code: string; count: number }[]> {
  return (
    await db.query<{ brin: string; code: string; count: number }>(
      `SELECT brin, code, count(*)::int AS count FROM quality_signals WHERE ${REPORTED} GROUP BY brin, code ORDER BY brin, code`,
    )
  ).rows;
}

/**
 * Reported signals, each with the administration that receives pushes about its enrolment: the one that
 * delivered it while it still lists the BRIN, else the BRIN's fallback institution (null: none).
 */
export async function qualityReportRows(
  db: Db,
): Promise<(QualitySignalRow & { readonly recipientOin: string | null })[]> {
  const result = await db.query<SignalRow & { recipient_oin: string | null }>(
    `SELECT s.brin, s.inschrijvingvolgnummer, s.pgn, s.pgn_kind, s.code, s.sleutelgegevens, s.first_seen, s.last_seen,
       coalesce(a.oin, (SELECT i.oin FROM institutions i WHERE s.brin = ANY (i.brins) ORDER BY ${PUSH_FALLBACK_PREFERENCE} LIMIT 1)) AS recipient_oin
     FROM quality_signals s
     LEFT JOIN enrolments e ON e.pgn = s.pgn AND e.brin = s.brin AND e.inschrijvingvolgnummer = s.inschrijvingvolgnummer
     LEFT JOIN institutions a ON a.oin = e.administration_oin AND s.brin = ANY (a.brins)
     WHERE ${reported('s.')}
     ORDER BY s.brin, s.inschrijvingvolgnummer, s.pgn, s.code, s.detail`,
  );
  return result.rows.map((r) => ({ ...toSignalRow(r), recipientOin: r.recipient_oin }));
}

export interface QualityRun {
  readonly id: number;
  readonly trigger: 'schedule' | 'operator';
  readonly actor: string | null;
  readonly slot: string | null;
  readonly checkDate: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly pupils: number;
  readonly signals: number;
  readonly notified: number;
}

/** The newest runs first. */
export async function listQualityRuns(db: Pool | Db, limit = 20): Promise<QualityRun[]> {
  const result = await db.query<{
    id: number;
    trigger: 'schedule' | 'operator';
    actor: string | null;
    run_key: string;
    check_date: string;
    started_at: Date;
    finished_at: Date;
    pupils: number;
    signals: number;
    notified: number;
  }>(
    `SELECT id, trigger, actor, run_key, to_char(check_date, 'YYYY-MM-DD') AS check_date, started_at, finished_at, pupils, signals, notified
     FROM quality_runs ORDER BY id DESC LIMIT $1`,
    [Math.min(Math.max(Math.floor(limit), 1), 1000)],
  );
  return result.rows.map((r) => ({
    id: r.id,
    trigger: r.trigger,
    actor: r.actor,
    slot: r.run_key.startsWith('schedule:') ? r.run_key.slice('schedule:'.length) : null,
    checkDate: r.check_date,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    pupils: r.pupils,
    signals: r.signals,
    notified: r.notified,
  }));
}
