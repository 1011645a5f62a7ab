import { addMonths, schoolYearOf } from './calendar.js';
import type { EnrolmentStand, IsoDate, PeriodVO } from './enrolment.js';
import { overlaps } from './enrolment.js';
import { ageFinding, ageOn, exemptFromLeerjaarStep, VERSNELD_PROGRAMMA_VWO } from './leerjaar-rules.js';
import type { Pgn } from './pgn.js';
import { type Signal, type SignalCode, type Sleutelgegeven, signal } from './signals.js';

/**
 * The weekly quality checks over the register (docs/signalen.md, "Kwaliteitscontrole"): pure
 * functions of one pupil's enrolments, what the population register knows of them, and the day of
 * the run. The job in src/quality/ gathers the input and records what comes out.
 */

/** One of the pupil's enrolments as stored. */
export interface QualityEnrolment {
  /** The number the enrolment is stored under: with BRIN and volgnummer it names the enrolment. */
  readonly pgn: Pgn;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly stand: EnrolmentStand;
  /** Day the stand was delivered (its datumTijdBedrijfsdocument). */
  readonly deliveredOn: IsoDate;
}

/** A pupil as the checks see them: every enrolment in the register, and the person's dates when known. */
export interface QualityPupil {
  readonly enrolments: readonly QualityEnrolment[];
  /** Full birth date; absent when unknown or partial (`2012-00-00`), which skips the age checks. */
  readonly birthDate?: IsoDate;
  readonly dateOfDeath?: IsoDate;
}

/** A signal about one enrolment of one school (a volgnummer is unique per pupil and BRIN only). */
export interface QualityFinding {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly signal: Signal;
}

/** Experiment name (ours, as LAS vendors deliver it) of the enriched VWO programme; the accelerated one is in leerjaar-rules. */
export const VERRIJKT_VWO = 'VERRIJKT_PROGRAMMA_VWO';
/** The verblijfsoort of a stay at an adult-education (vavo) institution. */
export const VERBLIJFSOORT_VAVO = 'VAVO';

/** The checks also cover the 90 days before the school year starts. */
const LEAD_DAYS = 90;

const addDays = (date: IsoDate, days: number): IsoDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const addYears = (date: IsoDate, years: number): IsoDate => addMonths(date, 12 * years);

/** The school year a run on `today` checks: its first day, last day, and 1 August as the age reference. */
export function controlYear(today: IsoDate): { start: IsoDate; end: IsoDate; from: IsoDate } {
  const year = schoolYearOf(today);
  const start = `${year}-08-01`;
  return { start, end: `${year + 1}-07-31`, from: addDays(start, -LEAD_DAYS) };
}

/** Whether the enrolment runs on any day of [from, end] (an out-date is its last day). */
function runsBetween(stand: EnrolmentStand, from: IsoDate, end: IsoDate): boolean {
  return stand.datumInschrijving <= end && (stand.datumUitschrijving === undefined || stand.datumUitschrijving >= from);
}

/** The period that applies on `day`: the one with the latest start on or before it. */
function periodOn(stand: EnrolmentStand, day: IsoDate): PeriodVO | undefined {
  return [...stand.perioden]
    .filter((p) => p.datumBegin <= day)
    .sort((a, b) => b.datumBegin.localeCompare(a.datumBegin))[0];
}

const key = (naam: string, waarde: string): Sleutelgegeven => ({ naam, waarde });

/** The age signal of each finding the enrolment rules define (the same handleiding limits, as quality signals). */
const QUALITY_AGE_SIGNAL = { 'te-oud': 'Q0004', 'te-jong': 'Q0005', 'praktijkonderwijs-te-oud': 'Q0007' } as const;

/** Age checks for the period on the reference date (handleiding: 1 August of the school year). */
function ageSignals(stand: EnrolmentStand, birthDate: IsoDate | undefined, reference: IsoDate): Signal[] {
  const period =
    periodOn(stand, reference) ?? [...stand.perioden].sort((a, b) => a.datumBegin.localeCompare(b.datumBegin))[0];
  if (!birthDate || !period) return [];
  const finding = ageFinding(ageOn(birthDate, reference), period);
  if (finding === null) return [];
  const keys = [
    key('datumBegin', period.datumBegin),
    ...(finding === 'te-oud' && period.leerjaar !== undefined ? [key('leerjaar', String(period.leerjaar))] : []),
  ];
  return [signal(QUALITY_AGE_SIGNAL[finding], keys)];
}

/** Leerjaar differing more than one from the directly preceding period, either way, for periods in the control year. */
function leerjaarSignals(stand: EnrolmentStand, from: IsoDate): Signal[] {
  const ordered = [...stand.perioden].sort((a, b) => a.datumBegin.localeCompare(b.datumBegin));
  const signals: Signal[] = [];
  ordered.forEach((period, index) => {
    const previous = ordered[index - 1];
    if (!previous || period.datumBegin < from || exemptFromLeerjaarStep(period) || exemptFromLeerjaarStep(previous))
      return;
    if (
      period.leerjaar !== undefined &&
      previous.leerjaar !== undefined &&
      Math.abs(period.leerjaar - previous.leerjaar) > 1
    ) {
      signals.push(signal('Q0006', [key('datumBegin', period.datumBegin), key('leerjaar', String(period.leerjaar))]));
    }
  });
  return signals;
}

/**
 * No period since the school year began, for an enrolment that ran before it and still runs: the
 * leerjaar change is probably missing. Not checked in August, when schools are still delivering it.
 */
function missingPeriodSignal(stand: EnrolmentStand, today: IsoDate, start: IsoDate): Signal[] {
  if (today.slice(5, 7) === '08') return [];
  const latest = [...stand.perioden]
    .map((p) => p.datumBegin)
    .sort()
    .at(-1);
  const runsIntoYear = stand.datumUitschrijving === undefined || stand.datumUitschrijving >= start;
  if (!runsIntoYear || stand.datumInschrijving >= start || latest === undefined || latest >= start) return [];
  return [signal('Q0008', [key('datumBegin', latest)])];
}

/** Dates more than a year ahead: OPP dates from the day the stand was delivered, VAVO stays from today. */
function farAheadSignals(enrolment: QualityEnrolment, today: IsoDate): Signal[] {
  const { stand, deliveredOn } = enrolment;
  const signals: Signal[] = [];
  for (const opp of stand.ontwikkelingsperspectieven) {
    if (opp.datumBegin > addYears(deliveredOn, 1)) signals.push(signal('Q0009', [key('datumBegin', opp.datumBegin)]));
    if (opp.datumEind !== undefined && opp.datumEind > addYears(deliveredOn, 1))
      signals.push(signal('Q0010', [key('datumBegin', opp.datumBegin), key('datumEind', opp.datumEind)]));
  }
  for (const stay of stand.verblijvenAndereInstelling) {
    if (stay.verblijfsoort === VERBLIJFSOORT_VAVO && stay.datumBegin > addYears(today, 1)) {
      signals.push(signal('Q0011', [key('datumBegin', stay.datumBegin), key('brin', stay.brin)]));
    }
  }
  return signals;
}

/** A period may take part in only one of the two VWO programmes. */
function experimentSignals(stand: EnrolmentStand): Signal[] {
  return stand.perioden
    .filter((p) => p.experimenten.includes(VERSNELD_PROGRAMMA_VWO) && p.experimenten.includes(VERRIJKT_VWO))
    .map((p) => signal('Q0012', [key('datumBegin', p.datumBegin)]));
}

/** The pupil's first enrolment in the register lies more than nine months back while they only have an onderwijsnummer. */
function withoutBsnSignal(pupil: QualityPupil, enrolment: QualityEnrolment, today: IsoDate): Signal[] {
  if (enrolment.stand.pgn.kind !== 'OWN') return [];
  const first = pupil.enrolments.map((e) => e.stand.datumInschrijving).sort()[0]!;
  return addMonths(first, 9) < today ? [signal('Q0003', [key('datumEersteInschrijving', first)])] : [];
}

/** Enrolled after death: no out-date, or one after the date of death (one on that day is fine). */
function afterDeathSignal(stand: EnrolmentStand, dateOfDeath: IsoDate | undefined): Signal[] {
  if (dateOfDeath === undefined) return [];
  const out = stand.datumUitschrijving;
  return out === undefined || out > dateOfDeath ? [signal('Q0002', [key('datumOverlijden', dateOfDeath)])] : [];
}

/** One signal per other school whose enrolment of this pupil shares a day of the control year with this one. */
function doubleEnrolmentSignals(
  pupil: QualityPupil,
  enrolment: QualityEnrolment,
  year: { start: IsoDate; end: IsoDate },
): Signal[] {
  // The school year as an enrolment would run it: its out-date is its last day (31 July).
  const window = { datumInschrijving: year.start, datumUitschrijving: year.end };
  if (!overlaps(enrolment.stand, window)) return [];
  const others = pupil.enrolments.filter(
    (o) => o.brin !== enrolment.brin && overlaps(o.stand, window) && overlaps(o.stand, enrolment.stand),
  );
  return [...new Set(others.map((o) => o.brin))].sort().map((brin) => signal('Q0013', [key('brin', brin)]));
}

/** Every quality signal for one pupil's enrolments that run in the control year of `today`. */
export function checkPupilQuality(pupil: QualityPupil, today: IsoDate): QualityFinding[] {
  const year = controlYear(today);
  const findings: QualityFinding[] = [];
  for (const enrolment of pupil.enrolments) {
    const { stand } = enrolment;
    // In scope: runs in the control year, or starts after it (an in-date far ahead is itself a finding).
    if (!runsBetween(stand, year.from, year.end) && stand.datumInschrijving <= year.end) continue;
    const signals: Signal[] = [
      ...(stand.datumInschrijving > addYears(today, 1)
        ? [signal('Q0001', [key('datumInschrijving', stand.datumInschrijving)])]
        : []),
      ...afterDeathSignal(stand, pupil.dateOfDeath),
      ...withoutBsnSignal(pupil, enrolment, today),
      ...ageSignals(stand, pupil.birthDate, year.start),
      ...leerjaarSignals(stand, year.from),
      ...missingPeriodSignal(stand, today, year.start),
      ...farAheadSignals(enrolment, today),
      ...experimentSignals(stand),
      ...doubleEnrolmentSignals(pupil, enrolment, year),
    ];
    for (const s of signals)
      findings.push({
        pgn: enrolment.pgn,
        brin: enrolment.brin,
        inschrijvingvolgnummer: enrolment.inschrijvingvolgnummer,
        signal: s,
      });
  }
  return findings;
}

/**
 * Signals that settle: when the school leaves the data as it is this long, the age was right and the
 * signal is no longer reported (the handleiding's 120 days for the two age checks). Counted from the
 * first run that found it to the latest.
 */
export const SETTLED_AFTER_DAYS: Readonly<Partial<Record<SignalCode, number>>> = { Q0004: 120, Q0005: 120 };

/** The codes the weekly checks can give (documented in docs/signalen.md). */
export const QUALITY_CODES: readonly SignalCode[] = [
  'Q0001',
  'Q0002',
  'Q0003',
  'Q0004',
  'Q0005',
  'Q0006',
  'Q0007',
  'Q0008',
  'Q0009',
  'Q0010',
  'Q0011',
  'Q0012',
  'Q0013',
];
