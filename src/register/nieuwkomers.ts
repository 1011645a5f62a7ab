import type { EnrolmentStand, IsoDate, PeriodVO } from './enrolment.js';
import type { Pgn } from './pgn.js';
import { type Signal, signal } from './signals.js';

/** The first day of the nieuwkomers arrangement: the indication exists from here, counted from peildatum 1 October 2025. */
export const NIEUWKOMERS_FROM: IsoDate = '2025-08-01';
/** How many quarters after the quarter of the first enrolment in the Netherlands a pupil counts as a nieuwkomer. */
export const NIEUWKOMERS_QUARTERS = 8;

/**
 * Whether a period is in force on some day from `from` on: no later period has taken over by then and
 * the enrolment has not ended before it (the out-date is the last day enrolled, as DUO defines it).
 */
export function inForceFrom(
  stand: Pick<EnrolmentStand, 'datumUitschrijving' | 'perioden'>,
  period: PeriodVO,
  from: IsoDate,
): boolean {
  const next = stand.perioden
    .map((p) => p.datumBegin)
    .filter((begin) => begin > period.datumBegin)
    .sort()[0];
  if (next !== undefined && next <= from) return false;
  return stand.datumUitschrijving === undefined || stand.datumUitschrijving >= from;
}

/** What the nieuwkomers rules say of a delivered stand. */
export function nieuwkomersSignals(stand: EnrolmentStand): Signal[] {
  return stand.perioden.flatMap((period) => {
    const key = [{ naam: 'datumBegin', waarde: period.datumBegin }];
    // Handleiding: for an onderwijsnummer the school judges it, and an enrolment without it (new or earlier, still running) is rejected.
    if (stand.pgn.kind === 'OWN')
      return period.indicatieNieuwkomersbekostiging === undefined && inForceFrom(stand, period, NIEUWKOMERS_FROM)
        ? [signal('I0011', key)]
        : [];
    // Handleiding: for a BSN the register decides; the school may only waive it with N.
    return period.indicatieNieuwkomersbekostiging === 'J' ? [signal('I0036', key)] : [];
  });
}

const quarterOf = (date: IsoDate): number =>
  Number(date.slice(0, 4)) * 4 + Math.floor((Number(date.slice(5, 7)) - 1) / 3);

/** Whether `peildatum` lies in one of the eight quarters after the quarter of the first enrolment in the Netherlands. */
export function withinNieuwkomersTerm(firstEnrolmentNL: IsoDate, peildatum: IsoDate): boolean {
  const quarters = quarterOf(peildatum) - quarterOf(firstEnrolmentNL);
  return quarters >= 1 && quarters <= NIEUWKOMERS_QUARTERS;
}

/**
 * The pupil's first enrolment at a PO or VO school in the Netherlands, as far as the broker can tell:
 * the day the population register records, or an enrolment held here that began earlier than it.
 * Undefined when the register records no day: the broker holds VO enrolments only, so its own earliest
 * one says nothing of years of primary school before it.
 */
export function firstEnrolmentNL(
  recorded: IsoDate | undefined,
  enrolmentsHere: readonly IsoDate[],
): IsoDate | undefined {
  if (recorded === undefined) return undefined;
  return [recorded, ...enrolmentsHere].sort()[0];
}

/**
 * The indicatie nieuwkomersbekostiging of an enrolment on a peildatum, given its period in force that
 * day: the school's own for an onderwijsnummer; for a BSN the register's, derived from the first
 * enrolment in the Netherlands, unless the school waived it with N. Undefined when it does not apply.
 */
export function nieuwkomersIndication(
  pgn: Pick<Pgn, 'kind'>,
  period: PeriodVO | undefined,
  firstEnrolment: IsoDate | undefined,
  peildatum: IsoDate,
): 'J' | 'N' | undefined {
  if (period === undefined) return undefined;
  if (pgn.kind === 'OWN') return period.indicatieNieuwkomersbekostiging;
  if (peildatum < NIEUWKOMERS_FROM) return undefined;
  if (period.indicatieNieuwkomersbekostiging === 'N') return 'N';
  // Without a known first enrolment the broker cannot tell a nieuwkomer: it claims no extra funding.
  return firstEnrolment !== undefined && withinNieuwkomersTerm(firstEnrolment, peildatum) ? 'J' : 'N';
}
