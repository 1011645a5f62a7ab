import type { EnrolmentAt } from './bewijs.js';
import { peildatumOf, schoolYearOf } from './calendar.js';
import type { IsoDate, PeriodVO } from './enrolment.js';
import { firstEnrolmentNL, nieuwkomersIndication } from './nieuwkomers.js';
import { type Signal, signal } from './signals.js';

/** The funding status of one enrolment on its peildatum. */
export interface FundingStatus {
  readonly peildatum: IsoDate;
  readonly status: 'BEKOSTIGBAAR' | 'NIET_BEKOSTIGBAAR';
  /** BRINs of other schools where the pupil is also enrolled on the peildatum. */
  readonly doubleWith: readonly string[];
  readonly signals: readonly Signal[];
  readonly datumEersteInschrijvingNL?: IsoDate;
  readonly indicatieNieuwkomersbekostiging?: 'J' | 'N';
}

/** Whether the enrolment runs on `date` (the out-date is its last valid day, DUO's definition). */
export const enrolledOn = (e: EnrolmentAt, date: IsoDate): boolean =>
  e.stand.datumInschrijving <= date && (e.stand.datumUitschrijving === undefined || e.stand.datumUitschrijving >= date);

// ISO dates compare as strings (Math.max would turn them into NaN).
const laterDate = (a: IsoDate, b: IsoDate): IsoDate => (a < b ? b : a);

/**
 * The peildatum that matters for an enrolment: 1 October of the school year of `today`, clamped into
 * the enrolment's own span (an enrolment that starts next school year counts from that year's
 * peildatum; one that has ended counts in its last school year).
 */
export function relevantPeildatum(e: EnrolmentAt, today: IsoDate): IsoDate {
  const lastDay = e.stand.datumUitschrijving;
  let day = today < e.stand.datumInschrijving ? e.stand.datumInschrijving : today;
  if (lastDay !== undefined && day > lastDay) day = laterDate(lastDay, e.stand.datumInschrijving);
  return peildatumOf(schoolYearOf(day));
}

const periodOn = (e: EnrolmentAt, date: IsoDate): PeriodVO | undefined =>
  [...e.stand.perioden]
    .filter((p) => p.datumBegin <= date)
    .sort((a, b) => a.datumBegin.localeCompare(b.datumBegin))
    .at(-1);

/** Other schools where the pupil is enrolled on `peildatum` too. */
export function doubleEnrolmentsOn(e: EnrolmentAt, others: readonly EnrolmentAt[], peildatum: IsoDate): string[] {
  return [...new Set(others.filter((o) => o.brin !== e.brin && enrolledOn(o, peildatum)).map((o) => o.brin))].sort();
}

/**
 * An enrolment's funding status on its peildatum: fundable when it runs on that day and its period
 * of that day says bekostigbaar. A double enrolment with another school on the peildatum is signalled
 * (to both schools) without changing the status: which school is funded is decided by DUO, not here.
 * `peildatum` overrides the enrolment's own one (the other school of a double enrolment is told about
 * the peildatum where the overlap is). `recordedFirstEnrolment` is the population register's day of the
 * pupil's first enrolment at a PO or VO school, for a BSN (undefined when it records none).
 */
export function fundingStatus(
  e: EnrolmentAt,
  others: readonly EnrolmentAt[],
  today: IsoDate,
  peildatum: IsoDate = relevantPeildatum(e, today),
  recordedFirstEnrolment?: IsoDate,
): FundingStatus {
  const period = enrolledOn(e, peildatum) ? periodOn(e, peildatum) : undefined;
  const doubleWith = enrolledOn(e, peildatum) ? doubleEnrolmentsOn(e, others, peildatum) : [];
  const startsHere = [e, ...others].map((o) => o.stand.datumInschrijving);
  // An onderwijsnummer has no population-register entry: the school judges it, the date is only informative.
  const first =
    e.stand.pgn.kind === 'BSN' ? firstEnrolmentNL(recordedFirstEnrolment, startsHere) : [...startsHere].sort()[0];
  const nieuwkomers = nieuwkomersIndication(e.stand.pgn, period, first, peildatum);
  return {
    peildatum,
    status: period?.indicatieBekostigbaar ? 'BEKOSTIGBAAR' : 'NIET_BEKOSTIGBAAR',
    doubleWith,
    signals: doubleWith.map((brin) =>
      signal('I0018', [
        { naam: 'brin', waarde: brin },
        { naam: 'peildatum', waarde: peildatum },
      ]),
    ),
    ...(first ? { datumEersteInschrijvingNL: first } : {}),
    ...(nieuwkomers ? { indicatieNieuwkomersbekostiging: nieuwkomers } : {}),
  };
}
