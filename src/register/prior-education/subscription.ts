/** An MBO institution's subscription on one pupil's prior education (docs/prior-education.md). */

/** Why a subscription ended: the institution stopped it, its registration of the pupil ended, or nine months passed. */
export type SubscriptionEndReason = 'stopped' | 'registration_ended' | 'expired';

export interface Subscription {
  readonly id: number;
  /** The administration that asked: pushes go to it. */
  readonly institutionOin: string;
  readonly brin: string;
  /** The pupil's number as the request named it. */
  readonly pgn: string;
  readonly startedAt: Date;
  /** startedAt + nine months, computed once at the start. */
  readonly endsAt: Date;
  readonly endedAt: Date | null;
  readonly endReason: SubscriptionEndReason | null;
}

/** How long a subscription runs (DUO: nine months from its start). */
export const SUBSCRIPTION_MONTHS = 9;

/**
 * The instant a subscription started at `start` ends: the same time of day nine calendar months later
 * (UTC); a day past that month's end becomes its last day (31 May → 28/29 February).
 */
export function subscriptionEnd(start: Date, months = SUBSCRIPTION_MONTHS): Date {
  const index = start.getUTCFullYear() * 12 + start.getUTCMonth() + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const end = new Date(start.getTime());
  end.setUTCFullYear(year, month, Math.min(start.getUTCDate(), lastDay));
  return end;
}

/** Whether a subscription still runs at `now`: not ended, and its nine months not over (the end itself is over). */
export const runsAt = (subscription: Subscription, now: Date): boolean =>
  subscription.endedAt === null && now.getTime() < subscription.endsAt.getTime();
