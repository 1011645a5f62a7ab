import { addMonths } from './calendar.js';
import type { EnrolmentStand, IsoDate, PeriodVO } from './enrolment.js';

/** An enrolment as the bewijs rules see it: whose it is and its stand. */
export interface EnrolmentAt {
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly stand: EnrolmentStand;
}

/** One digital in- or uitschrijfbewijs to send: to whom, and about which school's enrolment. */
export interface Bewijs<E extends EnrolmentAt = EnrolmentAt> {
  readonly receiver: E;
  readonly soort: 'Inschrijfbewijs' | 'Uitschrijfbewijs';
  readonly about: {
    readonly brin: string;
    readonly onderwijsaanbieder?: string;
    readonly onderwijslocatie?: string;
    /** datumInschrijving of an Inschrijfbewijs, datumUitschrijving of an Uitschrijfbewijs; absent when removed. */
    readonly datum?: IsoDate;
  };
}

/** A school the pupil left more than half a year ago is no longer told. */
export const BEWIJS_WINDOW_MONTHS = 6;

/**
 * Whether a school the pupil left on `outDate` is still told of a change processed on `today`: the
 * handleiding counts the half year back from now, not from the other school's in-date.
 */
export function withinBewijsWindow(outDate: IsoDate | undefined, today: IsoDate): boolean {
  return outDate === undefined || outDate >= addMonths(today, -BEWIJS_WINDOW_MONTHS);
}

/** Whether a school starting on `inDate` is where the pupil went after leaving another on `outDate`. */
const startsWithinHalfYearOf = (outDate: IsoDate | undefined, inDate: IsoDate): boolean =>
  outDate === undefined || outDate >= addMonths(inDate, -BEWIJS_WINDOW_MONTHS);

const byStart = (a: PeriodVO, b: PeriodVO): number => a.datumBegin.localeCompare(b.datumBegin);
const firstPeriod = (stand: EnrolmentStand): PeriodVO | undefined => [...stand.perioden].sort(byStart)[0];
const lastPeriod = (stand: EnrolmentStand): PeriodVO | undefined => [...stand.perioden].sort(byStart).at(-1);

function place(period: PeriodVO | undefined): { onderwijsaanbieder?: string; onderwijslocatie?: string } {
  return {
    ...(period?.onderwijsaanbieder ? { onderwijsaanbieder: period.onderwijsaanbieder } : {}),
    ...(period?.onderwijslocatie ? { onderwijslocatie: period.onderwijslocatie } : {}),
  };
}

/** Schools the pupil comes from, relative to `changed` (started earlier elsewhere, left at most half a year before `today`). */
function oldSchools<E extends EnrolmentAt>(changed: EnrolmentAt, others: readonly E[], today: IsoDate): E[] {
  return others.filter(
    (o) =>
      o.stand.datumInschrijving < changed.stand.datumInschrijving &&
      withinBewijsWindow(o.stand.datumUitschrijving, today),
  );
}

/**
 * Schools the pupil goes to, relative to `changed`: they start later elsewhere, within half a year of
 * leaving `changed`, and still run after its last day, the out-date (a school the pupil passed through
 * in between, and left by then, is not involved).
 */
function newSchools<E extends EnrolmentAt>(
  changed: EnrolmentAt,
  outDate: IsoDate | undefined,
  others: readonly E[],
): E[] {
  return others.filter(
    (n) =>
      n.stand.datumInschrijving > changed.stand.datumInschrijving &&
      startsWithinHalfYearOf(outDate, n.stand.datumInschrijving) &&
      (outDate === undefined || n.stand.datumUitschrijving === undefined || n.stand.datumUitschrijving > outDate),
  );
}

/**
 * The bewijzen one change of an enrolment causes. `before`/`after` are the enrolment's stand before and
 * after (absent: new, or deleted); `others` are the pupil's enrolments at other schools.
 * - A new, changed or removed in-date: each old school gets an Inschrijfbewijs with this school's data.
 * - A new, changed or removed out-date: each new school gets an Uitschrijfbewijs with this school's data.
 * - A new enrolment also gets an Inschrijfbewijs for each new school already known, and an
 *   Uitschrijfbewijs for each old school whose out-date is already known.
 * Only schools directly involved are told; an old school the pupil left more than half a year before
 * `today` (the processing day) is not. Pure: dates are compared as ISO strings.
 */
export function bewijzenFor<E extends EnrolmentAt>(
  before: E | undefined,
  after: E | undefined,
  others: readonly E[],
  today: IsoDate,
): Bewijs<E>[] {
  const current = after ?? before;
  if (!current) return [];
  const elsewhere = others.filter((o) => o.brin !== current.brin);
  const bewijzen: Bewijs<E>[] = [];
  const inDateChanged = before?.stand.datumInschrijving !== after?.stand.datumInschrijving;
  if (inDateChanged) {
    // Old schools as seen from the new in-date, and from the old one when it moved or went away.
    const receivers = new Map<string, E>();
    for (const view of [before, after])
      if (view)
        for (const o of oldSchools(view, elsewhere, today)) receivers.set(`${o.brin}/${o.inschrijvingvolgnummer}`, o);
    for (const receiver of receivers.values()) {
      bewijzen.push({
        receiver,
        soort: 'Inschrijfbewijs',
        about: {
          brin: current.brin,
          ...place(firstPeriod(current.stand)),
          ...(after ? { datum: after.stand.datumInschrijving } : {}),
        },
      });
    }
  }
  const outDateChanged = before?.stand.datumUitschrijving !== after?.stand.datumUitschrijving;
  const outDate = after?.stand.datumUitschrijving;
  if (outDateChanged && (before?.stand.datumUitschrijving !== undefined || outDate !== undefined)) {
    const receivers = new Map<string, E>();
    for (const [view, date] of [
      [before, before?.stand.datumUitschrijving],
      [after, outDate],
    ] as const) {
      if (view && date !== undefined)
        for (const n of newSchools(view, date, elsewhere)) receivers.set(`${n.brin}/${n.inschrijvingvolgnummer}`, n);
    }
    for (const receiver of receivers.values()) {
      bewijzen.push({
        receiver,
        soort: 'Uitschrijfbewijs',
        about: {
          brin: current.brin,
          ...place(lastPeriod(current.stand)),
          ...(outDate !== undefined ? { datum: outDate } : {}),
        },
      });
    }
  }
  // Delivered late, an enrolment learns at once what the other schools already delivered: as an old
  // school, the in-dates of the schools the pupil went to; as a new school, its old schools' out-dates.
  if (!before && after) {
    for (const next of newSchools(after, after.stand.datumUitschrijving, elsewhere)) {
      bewijzen.push({
        receiver: after,
        soort: 'Inschrijfbewijs',
        about: { brin: next.brin, ...place(firstPeriod(next.stand)), datum: next.stand.datumInschrijving },
      });
    }
    // The half year before today limits only what an old school is told; the new school learns its old schools' out-dates by the dates alone.
    for (const old of elsewhere) {
      if (old.stand.datumUitschrijving === undefined || old.stand.datumInschrijving >= after.stand.datumInschrijving)
        continue;
      if (!startsWithinHalfYearOf(old.stand.datumUitschrijving, after.stand.datumInschrijving)) continue;
      bewijzen.push({
        receiver: after,
        soort: 'Uitschrijfbewijs',
        about: { brin: old.brin, ...place(lastPeriod(old.stand)), datum: old.stand.datumUitschrijving },
      });
    }
  }
  return bewijzen;
}
