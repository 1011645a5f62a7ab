import type { Pool } from '../infra/database.js';

/** A party that delivers messages (by OIN) for its BRINs and receives pushes at its endpoint. */
export interface Institution {
  readonly oin: string;
  readonly name: string;
  readonly brins: readonly string[];
  readonly endpointUrl: string | null;
  readonly enabled: boolean;
  /** Whether its requests must be signed (WS-Security); null or absent: the broker's WSS_REQUIRED. */
  readonly wssRequired?: boolean | null;
  /**
   * Whether its receipts must carry a valid WS-Security signature with its OIN (docs/security.md).
   * Always read; when writing, absent keeps what is stored (false for a new institution).
   */
  readonly verifyReceiptSignature?: boolean;
}

interface InstitutionRow {
  oin: string;
  name: string;
  brins: string[];
  endpoint_url: string | null;
  enabled: boolean;
  wss_required?: boolean | null;
  verify_receipt_signature: boolean;
}

/** The columns an InstitutionRow reads. */
const INSTITUTION_COLUMNS = 'oin, name, brins, endpoint_url, enabled, verify_receipt_signature';
/** The columns an insert writes (the signature setting is written on its own: absent keeps it). */
const WRITTEN_COLUMNS = 'oin, name, brins, endpoint_url, enabled';

const toInstitution = (row: InstitutionRow): Institution => ({
  oin: row.oin,
  name: row.name,
  brins: row.brins,
  endpointUrl: row.endpoint_url,
  enabled: row.enabled,
  ...(row.wss_required === undefined ? {} : { wssRequired: row.wss_required }),
  verifyReceiptSignature: row.verify_receipt_signature,
});

/** Inserts or replaces an institution by OIN; its receipt-signature setting only when given. */
export async function upsertInstitution(pool: Pick<Pool, 'query'>, institution: Institution): Promise<void> {
  await pool.query(
    `INSERT INTO institutions (${WRITTEN_COLUMNS}, verify_receipt_signature) VALUES ($1, $2, $3, $4, $5, coalesce($6, false))
     ON CONFLICT (oin) DO UPDATE SET name = EXCLUDED.name, brins = EXCLUDED.brins,
       endpoint_url = EXCLUDED.endpoint_url, enabled = EXCLUDED.enabled,
       verify_receipt_signature = coalesce($6, institutions.verify_receipt_signature), updated_at = now()`,
    [
      institution.oin,
      institution.name,
      [...institution.brins],
      institution.endpointUrl,
      institution.enabled,
      institution.verifyReceiptSignature ?? null,
    ],
  );
}

/** Turns the check of an institution's receipt signatures on or off; false when there is no such institution. */
export async function setReceiptSignatureCheck(
  db: Pick<Pool, 'query'>,
  oin: string,
  verify: boolean,
): Promise<boolean> {
  return (
    (
      await db.query('UPDATE institutions SET verify_receipt_signature = $2, updated_at = now() WHERE oin = $1', [
        oin,
        verify,
      ])
    ).rowCount === 1
  );
}

/** Inserts an institution only when its OIN is not registered yet (idempotent demo seed). */
export async function insertInstitutionIfAbsent(pool: Pool, institution: Institution): Promise<boolean> {
  const result = await pool.query(
    `INSERT INTO institutions (${WRITTEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (oin) DO NOTHING`,
    [institution.oin, institution.name, [...institution.brins], institution.endpointUrl, institution.enabled],
  );
  return result.rowCount === 1;
}

/** All institutions, by OIN. */
export async function listInstitutions(pool: Pool): Promise<Institution[]> {
  const result = await pool.query<InstitutionRow>(
    `SELECT ${INSTITUTION_COLUMNS}, wss_required FROM institutions ORDER BY oin`,
  );
  return result.rows.map(toInstitution);
}

/** One institution by OIN, or null. */
export async function findInstitution(pool: Pool, oin: string): Promise<Institution | null> {
  const result = await pool.query<InstitutionRow>(`SELECT ${INSTITUTION_COLUMNS} FROM institutions WHERE oin = $1`, [
    oin,
  ]);
  return result.rows[0] ? toInstitution(result.rows[0]) : null;
}

/**
 * Where pushes about an enrolment go when the administration that delivered it no longer serves its BRIN
 * (an operator moved the BRIN to another institution, or the enrolment predates the record): among the
 * institutions now holding the BRIN, an enabled one with an endpoint, then the lowest OIN, so the choice
 * is stable. An ORDER BY over `i`.
 */
export const PUSH_FALLBACK_PREFERENCE = 'i.enabled DESC, (i.endpoint_url IS NOT NULL) DESC, i.oin';

/** The institutions other than `oin` that hold any of these BRINs, by OIN. */
export async function otherInstitutionsServing(
  db: Pick<Pool, 'query'>,
  oin: string,
  brins: readonly string[],
): Promise<Institution[]> {
  const result = await db.query<InstitutionRow>(
    `SELECT ${INSTITUTION_COLUMNS} FROM institutions WHERE oin <> $1 AND brins && $2::text[] ORDER BY oin`,
    [oin, [...brins]],
  );
  return result.rows.map(toInstitution);
}

/** Holds (`paused` true) or resumes deliveries to an institution; false when there is no such institution. */
export async function setInstitutionPaused(db: Pick<Pool, 'query'>, oin: string, paused: boolean): Promise<boolean> {
  return (
    (await db.query('UPDATE institutions SET paused = $2, updated_at = now() WHERE oin = $1', [oin, paused]))
      .rowCount === 1
  );
}

/** Sets whether an institution must sign its requests (null: the broker's WSS_REQUIRED); false when there is no such institution. */
export async function setInstitutionWssRequired(
  db: Pick<Pool, 'query'>,
  oin: string,
  required: boolean | null,
): Promise<boolean> {
  return (
    (await db.query('UPDATE institutions SET wss_required = $2, updated_at = now() WHERE oin = $1', [oin, required]))
      .rowCount === 1
  );
}

// One add at a time, so two operators cannot both find a BRIN free and both take it.
const ADD_LOCK_KEY = 4_242_017;

/** Serialises adding institutions until the caller's transaction ends. */
export async function lockInstitutionAdds(tx: Pick<Pool, 'query'>): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [ADD_LOCK_KEY]);
}

/** Per institution: whether its deliveries are paused and how many of its messages are in the error queue. */
export interface InstitutionQueueState {
  readonly oin: string;
  readonly paused: boolean;
  readonly errorQueued: number;
}

/** Every institution's pause flag and error-queue size (0 included), by OIN: the stats and the metrics gauges both read these. */
export async function listInstitutionQueueStates(db: Pick<Pool, 'query'>): Promise<InstitutionQueueState[]> {
  const rows = (
    await db.query<{ oin: string; paused: boolean; n: number }>(
      `SELECT i.oin, i.paused, coalesce(e.n, 0)::int AS n FROM institutions i
     LEFT JOIN (SELECT institution_oin, count(*) AS n FROM outbound_messages WHERE status = 'error' GROUP BY institution_oin) e ON e.institution_oin = i.oin
     ORDER BY i.oin`,
    )
  ).rows;
  return rows.map((r) => ({ oin: r.oin, paused: r.paused, errorQueued: r.n }));
}

/** An institution with its queues and how its endpoint answered lately (the last 15 minutes of attempts); errors unmasked. */
export interface InstitutionActivity extends Institution {
  readonly paused: boolean;
  /** Pending, not attempted yet. */
  readonly queued: number;
  /** Pending after one or more attempts: being retried. */
  readonly inDelivery: number;
  readonly deliveredLastHour: number;
  readonly errorQueued: number;
  readonly lastAttemptAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
  readonly recentAttempts: number;
  readonly recentFailedAttempts: number;
}

const HEALTH_WINDOW = "interval '15 minutes'";

interface ActivityRow extends InstitutionRow {
  paused: boolean;
  queued: number;
  in_delivery: number;
  delivered_last_hour: number;
  error_queued: number;
  last_at: Date | null;
  last_outcome: string | null;
  last_error: string | null;
  attempts: number;
  failed: number;
}

/**
 * Per institution (or the one with `oin`): what waits, what is being retried, what was delivered in the
 * last hour, what is in the error queue, and the endpoint's recent attempts. Each part reads only open
 * messages or a recent time span (BRIN indexes), so the cost does not grow with the archive.
 */
export async function listInstitutionActivity(db: Pick<Pool, 'query'>, oin?: string): Promise<InstitutionActivity[]> {
  const result = await db.query<ActivityRow>(
    `WITH open AS (
       SELECT institution_oin,
         count(*) FILTER (WHERE status = 'pending' AND attempts = 0)::int AS queued,
         count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int AS in_delivery,
         count(*) FILTER (WHERE status = 'error')::int AS error_queued
       FROM outbound_messages WHERE status IN ('pending', 'error') GROUP BY institution_oin),
     delivered AS (
       SELECT institution_oin, count(*)::int AS n FROM outbound_messages
       WHERE delivered_at > now() - interval '1 hour' AND status = 'delivered' GROUP BY institution_oin),
     recent AS (
       SELECT o.institution_oin, a.started_at, a.outcome, a.error
       FROM delivery_attempts a JOIN outbound_messages o ON o.id = a.outbound_id
       WHERE a.started_at > now() - ${HEALTH_WINDOW}),
     last AS (SELECT DISTINCT ON (institution_oin) * FROM recent ORDER BY institution_oin, started_at DESC),
     tally AS (SELECT institution_oin, count(*)::int AS attempts, count(*) FILTER (WHERE outcome <> 'delivered')::int AS failed FROM recent GROUP BY institution_oin)
     SELECT i.oin, i.name, i.brins, i.endpoint_url, i.enabled, i.verify_receipt_signature, i.paused,
       coalesce(open.queued, 0) AS queued, coalesce(open.in_delivery, 0) AS in_delivery,
       coalesce(delivered.n, 0) AS delivered_last_hour, coalesce(open.error_queued, 0) AS error_queued,
       last.started_at AS last_at, last.outcome AS last_outcome, last.error AS last_error,
       coalesce(tally.attempts, 0) AS attempts, coalesce(tally.failed, 0) AS failed
     FROM institutions i
     LEFT JOIN open ON open.institution_oin = i.oin
     LEFT JOIN delivered ON delivered.institution_oin = i.oin
     LEFT JOIN last ON last.institution_oin = i.oin
     LEFT JOIN tally ON tally.institution_oin = i.oin
     ${oin ? 'WHERE i.oin = $1' : ''}
     ORDER BY i.oin`,
    oin ? [oin] : [],
  );
  return result.rows.map((r) => ({
    ...toInstitution(r),
    paused: r.paused,
    queued: r.queued,
    inDelivery: r.in_delivery,
    deliveredLastHour: r.delivered_last_hour,
    errorQueued: r.error_queued,
    lastAttemptAt: r.last_at,
    lastOutcome: r.last_outcome,
    lastError: r.last_error,
    recentAttempts: r.attempts,
    recentFailedAttempts: r.failed,
  }));
}
