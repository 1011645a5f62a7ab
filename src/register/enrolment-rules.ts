import type { EnrolmentStand, IsoDate } from './enrolment.js';
import { overlaps } from './enrolment.js';
import { ageSignals, leerjaarStepSignals } from './leerjaar-rules.js';
import { nieuwkomersSignals } from './nieuwkomers.js';
import { isValidBsn, isValidOnderwijsnummer, type Pgn } from './pgn.js';
import { onderwijslocatieSignals, type RioLink, rioRequiredSignals } from './rio-rules.js';
import { type Signal, signal } from './signals.js';

/** What the rules need to know besides the stand itself; gathered by the caller from the register. */
export interface EnrolmentContext {
  /** The processing day. */
  readonly today: IsoDate;
  /** Birth date from the population register (BSN) or an earlier identification, when known. */
  readonly birthDate?: IsoDate;
  /** For a BSN: whether the population register knows it (undefined when it was not asked). */
  readonly knownToPopulationRegister?: boolean;
  /** For an onderwijsnummer: whether the broker assigned it in an identification (undefined when it was not asked). */
  readonly assignedOnderwijsnummer?: boolean;
  /** RIO stand-in links of the vestiging of the stand's latest period (none: not checked). */
  readonly rioLinks?: readonly RioLink[];
  /** This person's enrolments at other BRINs. */
  readonly otherEnrolments: readonly Pick<EnrolmentStand, 'brin' | 'datumInschrijving' | 'datumUitschrijving'>[];
}

const addYears = (date: IsoDate, years: number): IsoDate =>
  `${String(Number(date.slice(0, 4)) + years).padStart(4, '0')}${date.slice(4)}`;

/** The checks of the personal number any delivery carries (enrolments and exam results alike). */
export function pgnSignals(
  stand: { readonly pgn: Pgn },
  context: Pick<EnrolmentContext, 'knownToPopulationRegister' | 'assignedOnderwijsnummer'>,
): Signal[] {
  if (stand.pgn.kind === 'BSN') {
    if (!isValidBsn(stand.pgn.value)) return [signal('I0001')];
    return context.knownToPopulationRegister === false ? [signal('I0012')] : [];
  }
  if (!isValidOnderwijsnummer(stand.pgn.value)) return [signal('I0002')];
  // Only the register hands out onderwijsnummers (identification without PGN): any other one belongs to nobody it knows.
  return context.assignedOnderwijsnummer === false ? [signal('P0001')] : [];
}

function dateSignals(stand: EnrolmentStand): Signal[] {
  const signals: Signal[] = [];
  const out = stand.datumUitschrijving;
  if (out !== undefined && out < stand.datumInschrijving) signals.push(signal('I0006'));
  const begins = new Set<IsoDate>();
  for (const period of stand.perioden) {
    const key = [{ naam: 'datumBegin', waarde: period.datumBegin }];
    if (period.datumBegin < stand.datumInschrijving) signals.push(signal('I0004', key));
    // The out-date is the enrolment's last valid day (DUO): a period may start on it, not after it.
    if (out !== undefined && period.datumBegin > out) signals.push(signal('I0005', key));
    if (begins.has(period.datumBegin)) signals.push(signal('I0007', key));
    begins.add(period.datumBegin);
  }
  for (const span of [...stand.ontwikkelingsperspectieven, ...stand.verblijvenAndereInstelling]) {
    if (span.datumEind !== undefined && span.datumEind < span.datumBegin)
      signals.push(signal('I0017', [{ naam: 'datumBegin', waarde: span.datumBegin }]));
  }
  return signals;
}

function periodSignals(stand: EnrolmentStand, context: EnrolmentContext): Signal[] {
  const signals: Signal[] = [];
  const ordered = [...stand.perioden].sort((a, b) => a.datumBegin.localeCompare(b.datumBegin));
  ordered.forEach((period) => {
    const key = [{ naam: 'datumBegin', waarde: period.datumBegin }];
    if (!period.vestiging.startsWith(stand.brin))
      signals.push(signal('I0003', [...key, { naam: 'vestiging', waarde: period.vestiging }]));
  });
  return [
    ...signals,
    ...ageSignals(stand.perioden, context.birthDate),
    ...leerjaarStepSignals(stand.perioden),
    ...rioRequiredSignals(stand.perioden),
    ...onderwijslocatieSignals(stand.perioden, context.rioLinks ?? []),
    ...nieuwkomersSignals(stand),
  ];
}

/**
 * The business rules of one enrolment stand (docs/domain.md, section 4). Pure: everything it needs from
 * the register comes in `context`. Returns every signal found; any `A` rejects the stand.
 */
export function checkEnrolmentStand(stand: EnrolmentStand, context: EnrolmentContext): Signal[] {
  const signals = [...pgnSignals(stand, context), ...dateSignals(stand), ...periodSignals(stand, context)];
  if (stand.datumInschrijving > addYears(context.today, 1)) signals.push(signal('I0013'));
  // One warning per other school, however many of its enrolments overlap.
  const doubleAt = new Set(
    context.otherEnrolments
      .filter((other) => other.brin !== stand.brin && overlaps(stand, other))
      .map((other) => other.brin),
  );
  for (const brin of [...doubleAt].sort()) signals.push(signal('I0016', [{ naam: 'brin', waarde: brin }]));
  return signals;
}
