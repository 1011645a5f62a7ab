import { dutchDate, schoolYearOf } from './calendar.js';
import type { EnrolmentStand, IsoDate, PeriodVO } from './enrolment.js';
import { pgnSignals } from './enrolment-rules.js';
import type { ExamResultStand, StoredExamResult } from './exam-result.js';
import { type Signal, signal } from './signals.js';

/** What the exam checks need besides the stand itself; gathered by the caller from the register. */
export interface ExamContext {
  /** The processing day. */
  readonly today: IsoDate;
  /** For a BSN: whether the population register knows it (undefined when it was not asked). */
  readonly knownToPopulationRegister?: boolean;
  /** For an onderwijsnummer: whether the broker assigned it (undefined when it was not asked). */
  readonly assignedOnderwijsnummer?: boolean;
  /** Every current enrolment of the pupil, at any BRIN and under any of its numbers. */
  readonly enrolments: readonly EnrolmentStand[];
  /** The examenregimes of the pupil's stored exam results at the same BRIN, this result's stored stand included. */
  readonly examenregimesAtBrin: readonly string[];
  /** The RIO stand-in's niveau per opleidingcode (a code it does not know is not checked). */
  readonly opleidingNiveaus: ReadonlyMap<string, string>;
}

/** The verblijfsoort of a stay at a vavo institution (a "Rutte" pupil placed there by the VO school). */
export const VAVO = 'VAVO';

const runsOn = (enrolment: Pick<EnrolmentStand, 'datumInschrijving' | 'datumUitschrijving'>, day: IsoDate): boolean =>
  enrolment.datumInschrijving <= day &&
  (enrolment.datumUitschrijving === undefined || day <= enrolment.datumUitschrijving);

/**
 * The VO enrolments (at other BRINs) that placed the pupil at the vavo institution with this BRIN on
 * `day`: a stay elsewhere of kind VAVO at that BRIN running that day, in an enrolment running that day.
 * The handleiding has the vavo institution deliver the exam result and pass it on to that VO school.
 */
export function vavoPlacements(
  vavoBrin: string,
  enrolments: readonly EnrolmentStand[],
  day: IsoDate,
): EnrolmentStand[] {
  return enrolments.filter(
    (enrolment) =>
      enrolment.brin !== vavoBrin &&
      runsOn(enrolment, day) &&
      enrolment.verblijvenAndereInstelling.some(
        (stay) =>
          stay.verblijfsoort === VAVO &&
          stay.brin === vavoBrin &&
          stay.datumBegin <= day &&
          (stay.datumEind === undefined || day <= stay.datumEind),
      ),
  );
}

/**
 * One stand per enrolment (BRIN and inschrijvingvolgnummer): an enrolment delivered under both of a
 * pupil's numbers before they were linked is stored twice; the stand under `pgn` (the result's own
 * number) wins, else the first.
 */
export function oneStandPerEnrolment(enrolments: readonly EnrolmentStand[], pgn: string): EnrolmentStand[] {
  const byKey = new Map<string, EnrolmentStand>();
  for (const enrolment of enrolments) {
    const key = `${enrolment.brin}\u0000${enrolment.inschrijvingvolgnummer}`;
    const kept = byKey.get(key);
    if (!kept || (kept.pgn.value !== pgn && enrolment.pgn.value === pgn)) byKey.set(key, enrolment);
  }
  return [...byKey.values()];
}

/** The day the exam checks look at the enrolment: the uitslag's, or (handleiding, no uitslag yet) 1 May of the examenregime. */
export const examDay = (stand: ExamResultStand): IsoDate =>
  stand.uitslag?.datumUitslag ?? `${stand.examenregime}-05-01`;

/** The first 1 August after `day`: from then on the pupil is in the next school year. */
const nextSchoolYearStart = (day: IsoDate): IsoDate => `${String(schoolYearOf(day) + 1).padStart(4, '0')}-08-01`;

const periodOn = (periods: readonly PeriodVO[], day: IsoDate): PeriodVO | undefined =>
  [...periods].filter((p) => p.datumBegin <= day).sort((a, b) => b.datumBegin.localeCompare(a.datumBegin))[0];

function enrolmentSignals(stand: ExamResultStand, context: ExamContext): Signal[] {
  const signals: Signal[] = [];
  const day = examDay(stand);
  const enrolments = oneStandPerEnrolment(context.enrolments, stand.pgn.value);
  const own = enrolments.filter((e) => e.brin === stand.brin);
  const placed = vavoPlacements(stand.brin, enrolments, day);
  if (stand.uitslag) {
    const { datumUitslag, uitslagcode } = stand.uitslag;
    // A vavo institution's pupil is enrolled there through the VO school's stay: that counts as enrolled.
    if (!own.some((e) => runsOn(e, datumUitslag)) && placed.length === 0)
      signals.push(signal('E0010', [{ naam: 'datumUitslag', waarde: datumUitslag }]));
    const nextYear = nextSchoolYearStart(datumUitslag);
    // Handleiding: still an active enrolment in the new school year, so only once that year has begun, and only
    // the enrolment the pupil passed in (one starting later is a new course, not a missed unenrolment).
    if (uitslagcode === 'G' && context.today >= nextYear) {
      const stillEnrolled = own.filter(
        (e) => runsOn(e, datumUitslag) && (e.datumUitschrijving === undefined || e.datumUitschrijving >= nextYear),
      );
      for (const e of stillEnrolled)
        signals.push(signal('E0011', [{ naam: 'inschrijvingvolgnummer', waarde: e.inschrijvingvolgnummer }]));
    }
  }
  // The enrolment the result names, else those running on the exam day (the school's own, or the VO school's that placed the pupil).
  const named = own.filter((e) => e.inschrijvingvolgnummer === stand.inschrijvingvolgnummer);
  const compared = named.length > 0 ? named : [...own.filter((e) => runsOn(e, day)), ...placed];
  for (const enrolment of compared) {
    const period = periodOn(enrolment.perioden, day);
    const niveau = period && context.opleidingNiveaus.get(period.opleidingcode);
    if (niveau !== undefined && niveau !== stand.niveau)
      signals.push(
        signal('E0012', [
          { naam: 'niveau', waarde: stand.niveau },
          { naam: 'niveauOpleiding', waarde: niveau },
          { naam: 'opleidingcode', waarde: period!.opleidingcode },
          { naam: 'brin', waarde: enrolment.brin },
        ]),
      );
  }
  return signals;
}

/** Whether the exceptions of "uitslag verwacht" apply: withdrawn, a continuous learning path, or a first year of a spread or early exam. */
function noUitslagExpected(stand: ExamResultStand, context: ExamContext): boolean {
  const { teruggetrokken, doorlopendeLeerlijn, gespreidExamen, eerderLeerjaar } = stand.indicaties;
  if (teruggetrokken || doorlopendeLeerlijn) return true;
  const previousRegime = String(Number(stand.examenregime) - 1);
  return (gespreidExamen || eerderLeerjaar) && !context.examenregimesAtBrin.includes(previousRegime);
}

/**
 * Handleiding: "uitslag expected" and "resit result missing" concern the past examenregime, checked from
 * 1 August on; before then the exam period (resits included) may still be running.
 */
const examPeriodOver = (stand: ExamResultStand, today: IsoDate): boolean =>
  schoolYearOf(today) >= Number(stand.examenregime);

/** A herkansing needs a CE grade of that vak in that tijdvak. */
function resitSignals(stand: ExamResultStand): Signal[] {
  return stand.herkansingen
    .filter(
      (resit) =>
        !stand.vakken.some(
          (vak) =>
            vak.vakcode === resit.vakcode &&
            vak.tijdvakCentraalExamen === resit.tijdvak &&
            vak.cijferCentraalExamen !== undefined,
        ),
    )
    .map((resit) =>
      signal('E0016', [
        { naam: 'vakcode', waarde: resit.vakcode },
        { naam: 'tijdvak', waarde: resit.tijdvak },
      ]),
    );
}

function completenessSignals(stand: ExamResultStand, context: ExamContext): Signal[] {
  const signals: Signal[] = [];
  const regime = [{ naam: 'examenregime', waarde: stand.examenregime }];
  const withCe = stand.vakken.some((vak) => vak.cijferCentraalExamen !== undefined);
  // A withdrawn exam (indication or uitslag T) has no CE or SE to expect.
  if (stand.uitslag && stand.uitslag.uitslagcode !== 'T' && !stand.indicaties.teruggetrokken) {
    if (!withCe) signals.push(signal('E0013', regime));
    if (!stand.vakken.some((vak) => vak.cijferSchoolexamen !== undefined)) signals.push(signal('E0014', regime));
  }
  if (examPeriodOver(stand, context.today)) {
    if (!stand.uitslag && withCe && !noUitslagExpected(stand, context)) signals.push(signal('E0015', regime));
    signals.push(...resitSignals(stand));
  }
  if (stand.uitslag) {
    for (const vak of stand.vakken) {
      const graded =
        vak.eindcijfer !== undefined || vak.beoordeling !== undefined || vak.redenNietDeelname !== undefined;
      if (!vak.indicatieDiplomavak && !graded)
        signals.push(signal('E0017', [{ naam: 'vakcode', waarde: vak.vakcode }]));
    }
  }
  const werkstuk = stand.werkstuk?.cijfer;
  // Grades travel in tenths: a werkstuk gets a whole grade only, so 70, never 69.
  if (werkstuk !== undefined && Number(werkstuk) % 10 !== 0)
    signals.push(signal('E0018', [{ naam: 'cijfer', waarde: werkstuk }]));
  return signals;
}

/**
 * The rules of one exam result stand (docs/domain.md, section 4; docs/signalen.md, E-codes). Pure:
 * everything from the register comes in `context`. Any `A` rejects the stand; the handleiding's exam
 * checks are warnings in the terugkoppeling.
 */
export function checkExamResultStand(stand: ExamResultStand, context: ExamContext): Signal[] {
  return [
    ...pgnSignals(stand, context),
    // RIO: an exam result must name its onderwijsaanbieder (handleiding); the schema keeps it optional, as for periods.
    ...(stand.onderwijsaanbieder === undefined ? [signal('E0001')] : []),
    ...enrolmentSignals(stand, context),
    ...completenessSignals(stand, context),
  ];
}

/**
 * "Uitslag examen verwijderd": the handleiding signals when on 1 August of the running school year the
 * result with an uitslag was in the register, and a deletion or a new stand without uitslag takes it away.
 */
export function uitslagRemovedSignals(
  stored: Pick<StoredExamResult, 'stand' | 'uitslagStoredAt'> | undefined,
  incoming: ExamResultStand | undefined,
  today: IsoDate,
): Signal[] {
  const removed = stored?.stand.uitslag && !incoming?.uitslag ? stored.stand.uitslag : undefined;
  if (!removed || stored?.uitslagStoredAt === undefined) return [];
  const schoolYearStart = `${String(schoolYearOf(today)).padStart(4, '0')}-08-01`;
  return dutchDate(new Date(stored.uitslagStoredAt)) <= schoolYearStart
    ? [signal('E0019', [{ naam: 'datumUitslag', waarde: removed.datumUitslag }])]
    : [];
}
