import { inTransaction, type Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { dutchDate } from '../register/calendar.js';
import { registrationEnded } from '../register/prior-education/prior-education-rules.js';
import { runsAt, startDay } from '../register/prior-education/subscription.js';
import { expireSubscriptions, registrationEndCandidates } from '../store/subscriptions.repo.js';
import { RegisterSession } from './register-session.js';

/** How often each pipeline process ends the subscriptions that are due; one ends within this long of its end. */
const TICK_MS = 60_000;

export interface SubscriptionExpiryDeps {
  readonly pool: Pool;
  readonly log: Logger;
  /** The clock (tests drive it; the nine months are counted on it). */
  readonly now?: () => Date;
  readonly tickMs?: number;
}

export interface SubscriptionExpiry {
  /** Ends what is due now (what each tick does). */
  tick(): Promise<{ expired: number; registrationEnded: number }>;
  close(): Promise<void>;
}

/**
 * Ends the subscriptions whose institution's registration of the pupil has ended: the SQL only picks
 * candidates; each is judged and ended in a transaction of its own that takes the pupil's register locks
 * (as processing does) and applies the same pure rule over the enrolments under every linked number, so
 * the job and processing never disagree, and a stand being processed is waited for, not raced.
 */
async function endEndedRegistrations(pool: Pool, now: Date, today: string): Promise<number> {
  let ended = 0;
  for (const candidate of await registrationEndCandidates(pool, today)) {
    ended += await inTransaction(pool, async (tx) => {
      const register = await RegisterSession.open(tx, [{ pgns: [candidate.pgn] }]);
      const subscription = register.subscriptionsOf(candidate.pgn).find((s) => s.id === candidate.id);
      if (!subscription || !runsAt(subscription, now)) return 0; // ended meanwhile, or the expiry's to end
      const enrolments = register.enrolmentsOf(candidate.pgn);
      const mbo = (await register.mboHoEducationOf(candidate.pgn))?.mbo.participations;
      if (!registrationEnded(enrolments, { brin: subscription.brin, startDay: startDay(subscription) }, today, mbo))
        return 0;
      await register.endSubscription(subscription, now, 'registration_ended');
      return 1;
    });
  }
  return ended;
}

/**
 * Ends prior-education subscriptions on time (docs/prior-education.md): at nine months (each tick, at
 * their own end instant however late the tick), and when the institution's registration of the pupil
 * the register holds has ended (the first tick of each Dutch day: out-dates pass at midnight, and that
 * check walks every running subscription). Every pipeline process runs one; the updates are idempotent,
 * so two at once are harmless. Processing does not wait for it: a change after the end pushes nothing,
 * ended or not.
 */
export function startSubscriptionExpiry(deps: SubscriptionExpiryDeps): SubscriptionExpiry {
  const clock = deps.now ?? (() => new Date());
  let running: Promise<{ expired: number; registrationEnded: number }> | undefined;
  let registrationsCheckedOn: string | undefined;
  const tick = () => {
    running ??= (async () => {
      const now = clock();
      const today = dutchDate(now);
      const ended = {
        expired: await expireSubscriptions(deps.pool, now),
        registrationEnded: registrationsCheckedOn === today ? 0 : await endEndedRegistrations(deps.pool, now, today),
      };
      registrationsCheckedOn = today;
      if (ended.expired + ended.registrationEnded > 0) deps.log.info('prior-education subscriptions ended', ended);
      return ended;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    tick().catch((error: unknown) =>
      deps.log.error('ending prior-education subscriptions failed', { error: (error as Error).message }),
    );
  }, deps.tickMs ?? TICK_MS);
  timer.unref();
  return {
    tick,
    async close() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
