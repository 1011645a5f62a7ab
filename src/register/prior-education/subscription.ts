/** An MBO institution's subscription on one pupil's prior education (docs/prior-education.md). */
import { addMonths, dutchDate, dutchWallClock, fromDutchWallClock } from '../calendar.js';
import type { IsoDate } from '../enrolment.js';

/**
 * Why a subscription ended: the institution stopped it, its registration of the pupil ended, nine months
 * passed, or the administration that asked no longer serves the BRIN (an operator moved the BRIN).
 */
export type SubscriptionEndReason = 'stopped' | 'registration_ended' | 'expired' | 'administration_changed';

/** Whether the administration that asked can still receive pushes for the BRIN, as the institutions table says now. */
export type AdministrationState = 'serves' | 'disabled' | 'changed';

export interface Subscription {
  readonly id: number;
  /** The administration that asked: pushes go to it. */
  readonly institutionOin: string;
  readonly brin: string;
  /** The pupil's number as the request named it, and which kind the request said it was. */
  readonly pgn: string;
  readonly pgnKind: 'BSN' | 'OWN';
  readonly startedAt: Date;
  /** startedAt + nine months, computed once at the start. */
  readonly endsAt: Date;
  readonly endedAt: Date | null;
  readonly endReason: SubscriptionEndReason | null;
  /** A digest of the picture last sent on this subscription (none sent yet: absent). */
  readonly pushedDigest?: string;
  /** Read with the subscription when processing locks it; absent where nobody asked. */
  readonly administration?: AdministrationState;
}

/** How long a subscription runs (DUO: nine months from its start). */
export const SUBSCRIPTION_MONTHS = 9;

/**
 * The instant a subscription started at `start` ends: the same Dutch wall-clock time nine calendar months
 * later (a day past that month's end becomes its last day: 31 May → 28/29 February). Counted on the Dutch
 * clock, not UTC: a start at 00:30 on 1 March in Amsterdam is still 28 February in UTC, and nine UTC months
 * from there would end on the wrong Dutch day.
 */
export function subscriptionEnd(start: Date, months = SUBSCRIPTION_MONTHS): Date {
  const wall = dutchWallClock(start);
  return fromDutchWallClock({ ...wall, date: addMonths(wall.date, months) });
}

/** The Dutch calendar day a subscription started on: what its institution's registration is compared with. */
export const startDay = (subscription: Pick<Subscription, 'startedAt'>): IsoDate => dutchDate(subscription.startedAt);

/** Whether a subscription still runs at `now`: not ended, and its nine months not over (the end itself is over). */
export const runsAt = (subscription: Subscription, now: Date): boolean =>
  subscription.endedAt === null && now.getTime() < subscription.endsAt.getTime();
