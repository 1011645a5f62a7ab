/** Prior-education subscriptions (docs/prior-education.md). */
import type pg from 'pg';
import type { Subscription, SubscriptionEndReason } from '../register/prior-education/subscription.js';
import { prepared } from '../shared/database.js';

type Db = Pick<pg.PoolClient, 'query'>;

interface SubscriptionRow {
  id: string | number;
  institution_oin: string;
  brin: string;
  pgn: string;
  started_at: Date;
  ends_at: Date;
  ended_at: Date | null;
  end_reason: SubscriptionEndReason | null;
}

const COLUMNS = 'id, institution_oin, brin, pgn, started_at, ends_at, ended_at, end_reason';

const subscriptionOf = (r: SubscriptionRow): Subscription => ({
  id: Number(r.id),
  institutionOin: r.institution_oin,
  brin: r.brin,
  pgn: r.pgn,
  startedAt: r.started_at,
  endsAt: r.ends_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

/**
 * The subscriptions not yet ended on these pupils' numbers, locked for the caller's transaction: the
 * expiry job then waits for a processing transaction that may push on them, and sees what it changed.
 */
export async function lockActiveSubscriptions(tx: Db, pgns: readonly string[]): Promise<Subscription[]> {
  if (pgns.length === 0) return [];
  const result = await tx.query<SubscriptionRow>(
    prepared(
      'processing-load-subscriptions',
      `SELECT ${COLUMNS} FROM prior_education_subscriptions WHERE pgn = ANY($1::text[]) AND ended_at IS NULL ORDER BY id FOR UPDATE`,
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
    startedAt: Date;
    endsAt: Date;
    sourceMessageId: number;
  },
): Promise<Subscription> {
  const inserted = await tx.query<SubscriptionRow>(
    `INSERT INTO prior_education_subscriptions (institution_oin, brin, pgn, started_at, ends_at, source_message_id)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (institution_oin, brin, pgn) WHERE ended_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
    [start.institutionOin, start.brin, start.pgn, start.startedAt, start.endsAt, start.sourceMessageId],
  );
  if (inserted.rows[0]) return subscriptionOf(inserted.rows[0]);
  const running = await tx.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM prior_education_subscriptions
     WHERE institution_oin = $1 AND brin = $2 AND pgn = $3 AND ended_at IS NULL`,
    [start.institutionOin, start.brin, start.pgn],
  );
  return subscriptionOf(running.rows[0]!);
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

/** The end after nine months: every running subscription whose end has passed at `now` ends at its own end. */
export async function expireSubscriptions(db: Db, now: Date): Promise<number> {
  const expired = await db.query(
    `UPDATE prior_education_subscriptions SET ended_at = ends_at, end_reason = 'expired'
     WHERE ended_at IS NULL AND ends_at <= $1`,
    [now],
  );
  return expired.rowCount ?? 0;
}

/**
 * Ends, at `now`, every running subscription whose institution's registration of the pupil the register
 * holds ended before `today`: it holds the pupil's enrolments at that BRIN and all have an out-date before
 * today. Walks every running subscription, so the job runs it once a day.
 */
export async function endSubscriptionsOfEndedRegistrations(db: Db, now: Date, today: string): Promise<number> {
  const ended = await db.query(
    `UPDATE prior_education_subscriptions s SET ended_at = $1, end_reason = 'registration_ended'
     WHERE s.ended_at IS NULL
       AND EXISTS (SELECT 1 FROM enrolments e WHERE e.pgn = s.pgn AND e.brin = s.brin)
       AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.pgn = s.pgn AND e.brin = s.brin
                         AND (e.datum_uitschrijving IS NULL OR e.datum_uitschrijving >= $2::date))`,
    [now, today],
  );
  return ended.rowCount ?? 0;
}

/** Subscriptions for operators, newest first: of one administration (OIN) or BRIN, or all; running only unless `all`. */
export async function listSubscriptions(
  db: Db,
  filter: { institution?: string; all?: boolean; limit?: number },
): Promise<Subscription[]> {
  const result = await db.query<SubscriptionRow>(
    `SELECT ${COLUMNS} FROM prior_education_subscriptions
     WHERE ($1::text IS NULL OR institution_oin = $1 OR brin = $1) AND ($2 OR ended_at IS NULL)
     ORDER BY started_at DESC, id DESC LIMIT $3`,
    [filter.institution ?? null, filter.all ?? false, filter.limit ?? 1000],
  );
  return result.rows.map(subscriptionOf);
}
