import { dutchDate } from '../register/calendar.js';
import type { Pool } from '../shared/database.js';
import type { Logger } from '../shared/log.js';
import { endSubscriptionsOfEndedRegistrations, expireSubscriptions } from '../store/subscriptions.repo.js';

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
        registrationEnded:
          registrationsCheckedOn === today ? 0 : await endSubscriptionsOfEndedRegistrations(deps.pool, now, today),
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
