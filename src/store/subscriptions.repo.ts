/** Prior-education subscriptions (docs/prior-education.md). */
import type pg from 'pg';
import { prepared } from '../infra/database.js';
import type {
  AdministrationState,
  Subscription,
  SubscriptionEndReason,
} from '../register/prior-education/subscription.js';

type Db = Pick<pg.PoolClient, 'query'>;

interface SubscriptionRow {
  id: string | number;
  institution_oin: string;
  brin: string;
  pgn: string;
  pgn_kind: 'BSN' | 'OWN';
  started_at: Date;
  ends_at: Date;
  ended_at: Date | null;
  end_reason: SubscriptionEndReason | null;
  pushed_digest: string | null;
  administration?: AdministrationState;
}

const COLUMNS = 'id, institution_oin, brin, pgn, pgn_kind, started_at, ends_at, ended_at, end_reason, pushed_digest';

const subscriptionOf = (r: SubscriptionRow): Subscription => ({
  id: Number(r.id),
  institutionOin: r.institution_oin,
  brin: r.brin,
  pgn: r.pgn,
  pgnKind: r.pgn_kind,
  startedAt: r.started_at,
  endsAt: r.ends_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
  ...(r.pushed_digest ? { pushedDigest: r.pushed_digest } : {}),
  ...(r.administration ? { administration: r.administration } : {}),
});

/**
 * The subscriptions not yet ended on these pupils' numbers, locked for the caller's transaction: the
 * expiry job then waits for a transaction that may push on them, and sees what it changed. Each comes
 * with whether its administration still serves its BRIN, as the institutions table says now (pushes
 * about enrolments resolve their administration the same way).
 */
export async function lockActiveSubscriptions(tx: Db, pgns: readonly string[]): Promise<Subscription[]> {
  if (pgns.length === 0) return [];
  const result = await tx.query<SubscriptionRow>(
    prepared(
      'processing-load-subscriptions',
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `s.${c}`)
        .join(', ')},
         CASE WHEN i.oin IS NULL OR NOT s.brin = ANY (i.brins) THEN 'changed' WHEN NOT i.enabled THEN 'disabled' ELSE 'serves' END AS administration
       FROM prior_education_subscriptions s LEFT JOIN institutions i ON i.oin = s.institution_oin
       WHERE s.pgn = ANY($1::text[]) AND s.ended_at IS NULL ORDER BY s.id FOR UPDATE OF s`,
      [pgns],
    ),
  );
  return result.rows.map(subscriptionOf);
}

/**
 * Starts a subscription unless one runs already for this administration, BRIN and pupil (then that one
 * stays, with its own start and end). Returns the running one.
 */
export async function startSubscription(
  tx: Db,
  start: {
    institutionOin: string;
    brin: string;
    pgn: string;
    pgnKind: 'BSN' | 'OWN';
    startedAt: Date;
    endsAt: Date;
    sourceMessageId: number;
  },
): Promise<Subscription> {
  const inserted = await tx.query<SubscriptionRow>(
    `INSERT INTO prior_education_subscriptions (institution_oin, brin, pgn, pgn_kind, started_at, ends_at, source_message_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (institution_oin, brin, pgn) WHERE ended_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
    [start.institutionOin, start.brin, start.pgn, start.pgnKind, start.startedAt, start.endsAt, start.sourceMessageId],
  );
  if (inserted.rows[0]) return subscriptionOf(inserted.rows[0]);
  const running = await tx.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM prior_education_subscriptions
     WHERE institution_oin = $1 AND brin = $2 AND pgn = $3 AND ended_at IS NULL`,
    [start.institutionOin, start.brin, start.pgn],
  );
  return subscriptionOf(running.rows[0]!);
}

/** Records the digest of the picture just sent on a subscription, in the sending transaction. */
export async function recordPushedDigest(tx: Db, id: number, digest: string): Promise<void> {
  await tx.query(
    prepared(
      'processing-subscription-digest',
      'UPDATE prior_education_subscriptions SET pushed_digest = $2 WHERE id = $1',
      [id, digest],
    ),
  );
}

/** Ends these subscriptions (those still running) at `at`, for `reason`. */
export async function endSubscriptions(
  tx: Db,
  ids: readonly number[],
  at: Date,
  reason: SubscriptionEndReason,
): Promise<void> {
  if (ids.length === 0) return;
  // "Still running" as end_reason IS NULL (the CHECK makes it the same): ended_at IS NULL would have the
  // planner walk the partial index of every running subscription instead of the primary key.
  await tx.query(
    'UPDATE prior_education_subscriptions SET ended_at = $2, end_reason = $3 WHERE id = ANY($1::bigint[]) AND end_reason IS NULL',
    [ids, at, reason],
  );
}

/**
 * The end after nine months: every running subscription whose end has passed at `now` ends at its own end.
 * Rows are locked in id order, skipping those a processing transaction holds (it ends them itself, or the
 * next tick does): two jobs, or a job and processing, never wait on each other in opposite orders.
 */
export async function expireSubscriptions(db: Db, now: Date): Promise<number> {
  const expired = await db.query(
    `UPDATE prior_education_subscriptions SET ended_at = ends_at, end_reason = 'expired'
     WHERE id IN (SELECT id FROM prior_education_subscriptions WHERE ended_at IS NULL AND ends_at <= $1
                  ORDER BY id FOR UPDATE SKIP LOCKED)`,
    [now],
  );
  return expired.rowCount ?? 0;
}

/**
 * Running subscriptions whose institution's registration of the pupil may have ended: the register holds
 * an enrolment at that BRIN, under the subscription's number or one linked to it, whose out-date is before
 * `today`. Candidates only: whether the registration ended is the pure rule's to decide, under the pupil's
 * locks (src/processing/subscription-expiry.ts). Walks every running subscription, so the job runs it once a day.
 */
export async function registrationEndCandidates(db: Db, today: string): Promise<{ id: number; pgn: string }[]> {
  const result = await db.query<{ id: string; pgn: string }>(
    `SELECT s.id, s.pgn FROM prior_education_subscriptions s
     WHERE s.ended_at IS NULL AND (EXISTS (
       SELECT 1 FROM enrolments e
       WHERE e.brin = s.brin AND e.datum_uitschrijving < $1::date
         AND e.pgn IN (SELECT s.pgn
                       UNION ALL SELECT l.bsn FROM pupil_links l WHERE l.onderwijsnummer = s.pgn
                       UNION ALL SELECT o.onderwijsnummer FROM pupil_links o
                         WHERE o.bsn = s.pgn OR o.bsn = (SELECT l.bsn FROM pupil_links l WHERE l.onderwijsnummer = s.pgn)))
       -- The MBO stand-in's participations are registrations at an MBO BRIN too.
       OR EXISTS (
       SELECT 1 FROM mbo_participations m
       WHERE m.brin = s.brin AND m.datum_uitschrijving < $1::date
         AND m.pgn IN (SELECT s.pgn
                       UNION ALL SELECT l.bsn FROM pupil_links l WHERE l.onderwijsnummer = s.pgn
                       UNION ALL SELECT o.onderwijsnummer FROM pupil_links o
                         WHERE o.bsn = s.pgn OR o.bsn = (SELECT l.bsn FROM pupil_links l WHERE l.onderwijsnummer = s.pgn))))
     ORDER BY s.id`,
    [today],
  );
  return result.rows.map((r) => ({ id: Number(r.id), pgn: r.pgn }));
}

/** Which subscriptions operators list: one administration's (OIN), one BRIN's, or all. */
export type SubscriptionOwner = { readonly institutionOin: string } | { readonly brin: string } | Record<string, never>;

/**
 * Subscriptions for operators, newest first: of one administration (OIN) or BRIN, or all; running only
 * unless `all`. One statement per kind of filter, each on its own index (an OR of both columns would read
 * the whole table).
 */
export async function listSubscriptions(
  db: Db,
  filter: { owner?: SubscriptionOwner; all?: boolean; limit?: number },
): Promise<Subscription[]> {
  const owner = filter.owner ?? {};
  const [where, value] =
    'institutionOin' in owner
      ? ['institution_oin = $3', owner.institutionOin]
      : 'brin' in owner
        ? ['brin = $3', owner.brin]
        : ['$3::text IS NULL', null];
  const result = await db.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM prior_education_subscriptions
     WHERE ${where} AND ($1 OR ended_at IS NULL)
     ORDER BY started_at DESC, id DESC LIMIT $2`,
    [filter.all ?? false, filter.limit ?? 1000, value],
  );
  return result.rows.map(subscriptionOf);
}
