/** Who gets which bewijs, the half-year window, the peildatum and double enrolment: the pure rules at their edges. */
import { bewijzenFor, type EnrolmentAt, withinBewijsWindow } from '../../src/register/bewijs.js';
import { addMonths, dutchDate, schoolYearOf } from '../../src/register/calendar.js';
import type { EnrolmentStand, PeriodVO } from '../../src/register/enrolment.js';
import { fundingStatus, relevantPeildatum } from '../../src/register/funding.js';

const period = (brin: string, datumBegin: string, overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin,
  opleidingcode: '0050',
  aanvullendeOpleidingen: [],
  vestiging: `${brin}00`,
  leerjaar: 1,
  indicatieBekostigbaar: true,
  experimenten: [],
  onderwijsaanbieder: `${brin}-aanbieder`,
  onderwijslocatie: `${brin}-locatie`,
  ...overrides,
});
const at = (
  brin: string,
  datumInschrijving: string,
  datumUitschrijving?: string,
  overrides: Partial<EnrolmentStand> = {},
): EnrolmentAt => ({
  brin,
  inschrijvingvolgnummer: `${brin}-1`,
  stand: {
    pgn: { kind: 'BSN', value: '123456782' },
    brin,
    inschrijvingvolgnummer: `${brin}-1`,
    datumInschrijving,
    ...(datumUitschrijving ? { datumUitschrijving } : {}),
    perioden: [period(brin, datumInschrijving)],
    ontwikkelingsperspectieven: [],
    verblijvenAndereInstelling: [],
    ...overrides,
  },
});
const TODAY = '2026-11-27';
/** The bewijzen of one change processed on `today`. */
const bewijzen = (
  before: EnrolmentAt | undefined,
  after: EnrolmentAt | undefined,
  others: readonly EnrolmentAt[],
  today = TODAY,
) => bewijzenFor(before, after, others, today);
const summary = (list: ReturnType<typeof bewijzenFor>): string[] =>
  list.map((b) => `${b.receiver.brin}:${b.soort}:${b.about.brin}:${b.about.datum ?? '-'}`).sort();

describe('calendar', () => {
  // The processing day is the Dutch one: just after midnight in Amsterdam it is still yesterday in UTC.
  test.each([
    ['2026-06-30T21:59:59Z', '2026-06-30'],
    ['2026-06-30T22:00:00Z', '2026-07-01'], // summer time, UTC+2
    ['2026-12-31T22:59:59Z', '2026-12-31'],
    ['2026-12-31T23:00:00Z', '2027-01-01'], // winter time, UTC+1
    ['2026-09-30T23:30:00Z', '2026-10-01'], // the peildatum starts before 00:00 UTC
  ])('%s is %s in the Netherlands', (instant, day) => {
    expect(dutchDate(new Date(instant))).toBe(day);
  });

  test('months are calendar months, clamped to the month end', () => {
    expect(addMonths('2026-08-31', -6)).toBe('2026-02-28');
    expect(addMonths('2028-08-31', -6)).toBe('2028-02-29');
    expect(addMonths('2026-03-15', -6)).toBe('2025-09-15');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
  });
  test('the school year turns between 31 July and 1 August', () => {
    expect(schoolYearOf('2026-07-31')).toBe(2025);
    expect(schoolYearOf('2026-08-01')).toBe(2026);
  });
});

describe('digital in- and uitschrijfbewijs', () => {
  test('transfer A → B: when B enrols, A gets an Inschrijfbewijs with B’s data', () => {
    const a = at('25BE', '2024-08-20');
    const b = at('00AH', '2026-09-01');
    const result = bewijzen(undefined, b, [a]);
    expect(summary(result)).toEqual(['25BE:Inschrijfbewijs:00AH:2026-09-01']);
    expect(result[0]!.about).toMatchObject({ onderwijsaanbieder: '00AH-aanbieder', onderwijslocatie: '00AH-locatie' });
    expect(result[0]!.receiver.inschrijvingvolgnummer).toBe('25BE-1');
  });

  test('transfer A → B: when A delivers its out-date, B gets an Uitschrijfbewijs with A’s data', () => {
    const before = at('25BE', '2024-08-20');
    const after = at('25BE', '2024-08-20', '2026-09-01');
    expect(summary(bewijzen(before, after, [at('00AH', '2026-09-01')]))).toEqual([
      '00AH:Uitschrijfbewijs:25BE:2026-09-01',
    ]);
  });

  test('a new school learns of an out-date its old school already delivered', () => {
    expect(summary(bewijzen(undefined, at('00AH', '2026-09-01'), [at('25BE', '2024-08-20', '2026-09-01')]))).toEqual([
      '00AH:Uitschrijfbewijs:25BE:2026-09-01',
      '25BE:Inschrijfbewijs:00AH:2026-09-01',
    ]);
  });

  test('changed and removed dates send a new bewijs; an unchanged date sends none', () => {
    const a = at('25BE', '2024-08-20');
    expect(summary(bewijzen(at('00AH', '2026-09-01'), at('00AH', '2026-09-08'), [a]))).toEqual([
      '25BE:Inschrijfbewijs:00AH:2026-09-08',
    ]);
    expect(summary(bewijzen(at('00AH', '2026-09-01'), undefined, [a]))).toEqual(['25BE:Inschrijfbewijs:00AH:-']);
    const b = at('00AH', '2026-09-01');
    expect(summary(bewijzen(at('25BE', '2024-08-20', '2026-09-01'), at('25BE', '2024-08-20'), [b]))).toEqual([
      '00AH:Uitschrijfbewijs:25BE:-',
    ]);
    expect(
      bewijzen(
        at('00AH', '2026-09-01'),
        at('00AH', '2026-09-01', undefined, { perioden: [period('00AH', '2026-09-01', { leerjaar: 2 })] }),
        [a],
      ),
    ).toEqual([]);
  });

  // The handleiding counts "more than half a year ago" from the day the change is processed.
  test.each([
    ['left exactly six months before today: told', '2026-05-27', true],
    ['left six months and a day before today: not told', '2026-05-26', false],
    ['left yesterday: told', '2026-11-26', true],
    ['still enrolled: told', undefined, true],
  ])('half-year window from the processing day (%s)', (_name, out, told) => {
    expect(withinBewijsWindow(out, TODAY)).toBe(told);
    const result = summary(bewijzen(undefined, at('00AH', '2026-12-01'), [at('25BE', '2020-08-20', out)]));
    expect(result.includes('25BE:Inschrijfbewijs:00AH:2026-12-01')).toBe(told);
  });

  test('half-year window: month ends clamp (processed 31 August: back to 28 February)', () => {
    expect(withinBewijsWindow('2026-02-28', '2026-08-31')).toBe(true);
    expect(withinBewijsWindow('2026-02-27', '2026-08-31')).toBe(false);
  });

  test('the window runs from the processing day, not from the new in-date, and only for the old school', () => {
    // Left nine months before the new in-date, but only three before today: the old school is told; the
    // new school, which started nine months after the pupil left, is not an old school's successor.
    expect(summary(bewijzen(undefined, at('00AH', '2027-06-01'), [at('25BE', '2020-08-20', '2026-09-01')]))).toEqual([
      '25BE:Inschrijfbewijs:00AH:2027-06-01',
    ]);
    // Left three months before the new in-date, delivered eight months after leaving: the old school is
    // not told, but the new school still learns its old school's out-date (the window is the old school's).
    expect(summary(bewijzen(undefined, at('00AH', '2026-06-01'), [at('25BE', '2020-08-20', '2026-03-01')]))).toEqual([
      '00AH:Uitschrijfbewijs:25BE:2026-03-01',
    ]);
    // The same delivery processed in time (June) is told.
    expect(
      summary(bewijzen(undefined, at('00AH', '2026-06-01'), [at('25BE', '2020-08-20', '2026-03-01')], '2026-06-01')),
    ).toEqual(['00AH:Uitschrijfbewijs:25BE:2026-03-01', '25BE:Inschrijfbewijs:00AH:2026-06-01']);
  });

  test('two old schools are both told; a later school is not an old school', () => {
    const result = bewijzen(undefined, at('08PG', '2026-09-01'), [
      at('25BE', '2023-08-20'),
      at('00AH', '2024-08-20'),
      at('21AA', '2027-01-01'),
    ]);
    // 21AA starts later: it is not told, but 08PG (delivered after it) is its old school and learns of it.
    expect(summary(result)).toEqual([
      '00AH:Inschrijfbewijs:08PG:2026-09-01',
      '08PG:Inschrijfbewijs:21AA:2027-01-01',
      '25BE:Inschrijfbewijs:08PG:2026-09-01',
    ]);
  });

  test('a school passed through and left before the out-date is not a new school', () => {
    const before = at('25BE', '2020-08-20');
    const after = at('25BE', '2020-08-20', '2025-08-01');
    expect(
      summary(bewijzen(before, after, [at('00AH', '2021-08-20', '2022-07-01'), at('08PG', '2025-08-01')])),
    ).toEqual(['08PG:Uitschrijfbewijs:25BE:2025-08-01']);
  });

  test('an explicit peildatum: the other school of a double enrolment hears about the overlap’s peildatum', () => {
    const a = at('25BE', '2024-08-20');
    const b = at('00AH', '2026-09-01');
    expect(fundingStatus(a, [b], '2026-07-15').doubleWith).toEqual([]); // its own peildatum: 1 October 2025
    expect(fundingStatus(a, [b], '2026-07-15', '2026-10-01')).toMatchObject({
      peildatum: '2026-10-01',
      doubleWith: ['00AH'],
    });
  });

  test('other enrolments at the same school are not told', () => {
    expect(
      bewijzen(undefined, at('25BE', '2026-09-01'), [{ ...at('25BE', '2024-08-20'), inschrijvingvolgnummer: 'other' }]),
    ).toEqual([]);
  });
});

describe('bekostigingsstatus', () => {
  test('peildatum: 1 October of today’s school year, clamped into the enrolment', () => {
    expect(relevantPeildatum(at('25BE', '2024-08-20'), '2026-07-31')).toBe('2025-10-01');
    expect(relevantPeildatum(at('25BE', '2024-08-20'), '2026-08-01')).toBe('2026-10-01');
    expect(relevantPeildatum(at('25BE', '2027-08-20'), '2026-11-27')).toBe('2027-10-01');
    expect(relevantPeildatum(at('25BE', '2020-08-20', '2025-03-01'), '2026-11-27')).toBe('2024-10-01');
  });

  // datumUitschrijving is the enrolment's last valid day (DUO): an out-date is a day it still runs.
  test.each([
    ['last day 31 July: the school year before', '2025-07-31', '2024-10-01'],
    ['last day 1 August: the new school year', '2025-08-01', '2025-10-01'],
    ['last day 1 October: that school year', '2025-10-01', '2025-10-01'],
  ])('peildatum of an ended enrolment, %s', (_name, out, peildatum) => {
    expect(relevantPeildatum(at('25BE', '2020-08-20', out), '2026-11-27')).toBe(peildatum);
  });

  test.each([
    ['leaving on 1 October: still enrolled, and funded, that day', '2026-10-01', 'BEKOSTIGBAAR'],
    ['leaving on 30 September: not enrolled on 1 October', '2026-09-30', 'NIET_BEKOSTIGBAAR'],
    ['leaving on 2 October', '2026-10-02', 'BEKOSTIGBAAR'],
  ])('out-date against the peildatum: %s', (_name, out, status) => {
    expect(fundingStatus(at('25BE', '2024-08-20', out), [], '2026-11-27', '2026-10-01').status).toBe(status);
  });

  test('fundable when enrolled on the peildatum with a bekostigbaar period', () => {
    expect(fundingStatus(at('25BE', '2026-08-20'), [], '2026-11-27')).toMatchObject({
      peildatum: '2026-10-01',
      status: 'BEKOSTIGBAAR',
      doubleWith: [],
      signals: [],
    });
    expect(fundingStatus(at('25BE', '2026-10-02'), [], '2026-11-27')).toMatchObject({ status: 'NIET_BEKOSTIGBAAR' }); // starts the day after
    expect(fundingStatus(at('25BE', '2026-10-01'), [], '2026-11-27')).toMatchObject({ status: 'BEKOSTIGBAAR' }); // on 1 October itself
    const notFundable = at('25BE', '2026-08-20', undefined, {
      perioden: [period('25BE', '2026-08-20', { indicatieBekostigbaar: false })],
    });
    expect(fundingStatus(notFundable, [], '2026-11-27').status).toBe('NIET_BEKOSTIGBAAR');
  });

  test('double enrolment on the peildatum is signalled with the other BRIN', () => {
    const a = at('25BE', '2024-08-20');
    const b = at('00AH', '2026-09-01');
    const status = fundingStatus(b, [a], '2026-11-27', undefined, '2025-01-06'); // the register's day is later than A's in-date
    expect(status.doubleWith).toEqual(['25BE']);
    expect(status.signals.map((s) => [s.code, s.sleutelgegevens])).toEqual([
      [
        'I0018',
        [
          { naam: 'brin', waarde: '25BE' },
          { naam: 'peildatum', waarde: '2026-10-01' },
        ],
      ],
    ]);
    expect(status.datumEersteInschrijvingNL).toBe('2024-08-20');
  });

  test.each([
    ['A leaves on 1 October, B enrols that day: both enrolled on 1 October', '2026-10-01', '2026-10-01', ['25BE']],
    ['A leaves on 30 September, B enrols on 1 October: a clean transfer', '2026-09-30', '2026-10-01', []],
    ['A leaves on 1 October, B enrols on 2 October: B not enrolled on the peildatum', '2026-10-01', '2026-10-02', []],
  ])('double enrolment on the peildatum: %s', (_name, outA, inB, doubles) => {
    const a = at('25BE', '2024-08-20', outA);
    const b = at('00AH', inB);
    expect(fundingStatus(b, [a], '2026-11-27', '2026-10-01').doubleWith).toEqual(doubles);
    expect(fundingStatus(a, [b], '2026-11-27', '2026-10-01').doubleWith).toEqual(doubles.length > 0 ? ['00AH'] : []);
  });

  test('A leaving on 1 October stays fundable on that peildatum, with the double enrolment signalled', () => {
    const status = fundingStatus(at('25BE', '2024-08-20', '2026-10-01'), [at('00AH', '2026-10-01')], '2026-11-27');
    expect(status).toMatchObject({ peildatum: '2026-10-01', status: 'BEKOSTIGBAAR', doubleWith: ['00AH'] });
  });
});
