import type { EnrolmentStand, PeriodVO } from '../../src/register/enrolment.js';
import {
  checkPupilQuality,
  controlYear,
  type QualityEnrolment,
  type QualityPupil,
} from '../../src/register/quality-checks.js';

const TODAY = '2026-09-15'; // school year 2026/27: control year from 2026-05-03 (90 days before 1 August)

const period = (overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin: '2026-08-20',
  opleidingcode: '0050',
  aanvullendeOpleidingen: [],
  vestiging: '25BE00',
  leerjaar: 2,
  indicatieBekostigbaar: true,
  experimenten: [],
  ...overrides,
});
const stand = (overrides: Partial<EnrolmentStand> = {}): EnrolmentStand => ({
  pgn: { kind: 'BSN', value: '123456782' },
  brin: '25BE',
  inschrijvingvolgnummer: '1',
  datumInschrijving: '2026-08-20',
  perioden: [period()],
  ontwikkelingsperspectieven: [],
  verblijvenAndereInstelling: [],
  ...overrides,
});
const enrolment = (overrides: Partial<EnrolmentStand> = {}, deliveredOn = '2026-08-20'): QualityEnrolment => {
  const s = stand(overrides);
  return { pgn: s.pgn, brin: s.brin, inschrijvingvolgnummer: s.inschrijvingvolgnummer, stand: s, deliveredOn };
};
/** A pupil aged 13 on 1 August 2026 (fits leerjaar 2), with one enrolment unless given others. */
const pupil = (enrolments: QualityEnrolment[] = [enrolment()], person: Partial<QualityPupil> = {}): QualityPupil => ({
  enrolments,
  birthDate: '2013-04-17',
  ...person,
});
const codes = (p: QualityPupil, today = TODAY): string[] =>
  checkPupilQuality(p, today)
    .map((f) => f.signal.code)
    .sort();

describe('weekly quality checks', () => {
  test('a clean enrolment has no signals', () => {
    expect(codes(pupil())).toEqual([]);
  });

  test('the control year starts 90 days before 1 August; in July it is still last school year', () => {
    expect(controlYear('2026-09-15')).toEqual({ start: '2026-08-01', end: '2027-07-31', from: '2026-05-03' });
    expect(controlYear('2026-07-31')).toEqual({ start: '2025-08-01', end: '2026-07-31', from: '2025-05-03' });
  });

  test('an enrolment that ended before the control year is not checked', () => {
    // Its last day, 2 May, lies before the control year's first day (90 days before 1 August: 3 May).
    const ended = enrolment({
      datumInschrijving: '2020-08-20',
      datumUitschrijving: '2026-05-02',
      perioden: [period({ datumBegin: '2020-08-20', leerjaar: 1 })],
    });
    expect(codes(pupil([ended], { dateOfDeath: '2021-01-01' }))).toEqual([]);
    const endsInside = enrolment({
      datumInschrijving: '2020-08-20',
      datumUitschrijving: '2026-05-04',
      perioden: [period({ datumBegin: '2020-08-20', leerjaar: 1 })],
    });
    expect(codes(pupil([endsInside], { dateOfDeath: '2021-01-01' }))).toEqual(['Q0002']);
  });

  test.each([
    ['in-date exactly a year ahead', '2027-09-15', []],
    ['in-date a year and a day ahead', '2027-09-16', ['Q0001']],
  ])('Q0001: %s', (_name, date, expected) => {
    expect(codes(pupil([enrolment({ datumInschrijving: date, perioden: [period({ datumBegin: date })] })]))).toEqual(
      expected,
    );
  });

  test.each([
    ['died, no out-date', undefined, '2026-09-01', ['Q0002']],
    ['out-date the day after death', '2026-09-02', '2026-09-01', ['Q0002']],
    ['out-date on the day of death', '2026-09-01', '2026-09-01', []],
    ['out-date before death', '2026-08-31', '2026-09-01', []],
    ['alive, no out-date', undefined, undefined, []],
  ])('Q0002: %s', (_name, out, death, expected) => {
    const e = enrolment(out ? { datumUitschrijving: out } : {});
    expect(codes(pupil([e], death ? { dateOfDeath: death } : {}))).toEqual(expected);
  });

  test('Q0002 names the date of death; the finding names the enrolment by PGN, BRIN and volgnummer, the signal never by PGN', () => {
    const [finding] = checkPupilQuality(pupil([enrolment()], { dateOfDeath: '2026-09-01' }), TODAY);
    expect(finding).toMatchObject({
      pgn: { kind: 'BSN', value: '123456782' },
      brin: '25BE',
      inschrijvingvolgnummer: '1',
      signal: { sleutelgegevens: [{ naam: 'datumOverlijden', waarde: '2026-09-01' }] },
    });
    expect(JSON.stringify(finding!.signal)).not.toContain('123456782');
  });

  test('two pupils with one volgnummer at one school: each finding names its own pupil', () => {
    const own = { kind: 'OWN', value: '100000004' } as const;
    const findings = [
      pupil([enrolment()], { dateOfDeath: '2026-09-01' }),
      pupil([enrolment({ pgn: own })], { dateOfDeath: '2026-09-02' }),
    ].flatMap((p) => checkPupilQuality(p, TODAY));
    expect(findings.map((f) => [f.pgn, f.brin, f.inschrijvingvolgnummer, f.signal.code])).toEqual([
      [{ kind: 'BSN', value: '123456782' }, '25BE', '1', 'Q0002'],
      [own, '25BE', '1', 'Q0002'],
    ]);
  });

  const own = { pgn: { kind: 'OWN' as const, value: '100000004' } };
  test.each([
    ['onderwijsnummer, first enrolled exactly nine months ago', own, '2025-12-15', []],
    ['onderwijsnummer, first enrolled nine months and a day ago', own, '2025-12-14', ['Q0003']],
    ['BSN, first enrolled years ago', {}, '2020-08-20', []],
  ])('Q0003: %s', (_name, pgn, first, expected) => {
    expect(
      codes(pupil([enrolment({ ...pgn, datumInschrijving: first, perioden: [period({ datumBegin: '2026-08-20' })] })])),
    ).toEqual(expected);
  });

  test('Q0003 counts the first enrolment at any school, also one that ended long ago', () => {
    const old = enrolment({
      ...own,
      brin: '30XY',
      inschrijvingvolgnummer: 'old',
      datumInschrijving: '2019-08-20',
      datumUitschrijving: '2020-07-31',
      perioden: [period({ datumBegin: '2019-08-20', vestiging: '30XY00' })],
    });
    const current = enrolment({ ...own, datumInschrijving: '2026-08-20' });
    expect(
      checkPupilQuality(pupil([old, current]), TODAY).map((f) => [
        f.brin,
        f.signal.code,
        f.signal.sleutelgegevens[0]?.waarde,
      ]),
    ).toEqual([['25BE', 'Q0003', '2019-08-20']]);
  });

  // Age on 1 August 2026: born 2007-08-02 → 18, born 2007-08-01 → 19.
  test.each([
    ['leerjaar 3 at 18', 3, '2007-08-02', '0050', []],
    ['leerjaar 3 at 19', 3, '2007-08-01', '0050', ['Q0004']],
    ['leerjaar 4 at 21', 4, '2005-08-02', '0050', []],
    ['leerjaar 4 at 22', 4, '2004-08-01', '0050', ['Q0004']],
    ['leerjaar 1 at 17 in praktijkonderwijs', 1, '2009-01-01', '0090', []],
    ['leerjaar 1 at 9', 1, '2017-08-01', '0050', []],
    ['leerjaar 1 at 8', 1, '2017-08-02', '0050', ['Q0005']],
    ['8 years old in praktijkonderwijs', 1, '2017-08-02', '0090', []],
    ['praktijkonderwijs at 20', 3, '2005-08-02', '0090', []],
    ['praktijkonderwijs at 21', 3, '2005-08-01', '0090', ['Q0007']],
  ])('age on 1 August: %s', (_name, leerjaar, birthDate, opleidingcode, expected) => {
    expect(codes(pupil([enrolment({ perioden: [period({ leerjaar, opleidingcode })] })], { birthDate }))).toEqual(
      expected,
    );
  });

  test('without a (full) birth date the age checks are skipped', () => {
    expect(codes({ enrolments: [enrolment({ perioden: [period({ leerjaar: 1 })] })] })).toEqual([]);
  });

  test.each([
    ['leerjaar 1 then 3', [1, 3], {}, ['Q0006']],
    ['leerjaar 3 then 1 (either way)', [3, 1], {}, ['Q0006']],
    ['leerjaar 1 then 2', [1, 2], {}, []],
    ['praktijkonderwijs', [1, 3], { opleidingcode: '0090' }, []],
    ['versneld programma vwo', [1, 3], { experimenten: ['VERSNELD_PROGRAMMA_VWO'] }, []],
  ])('Q0006: %s', (_name, [first, second], extra, expected) => {
    const perioden = [
      period({ datumBegin: '2026-08-20', leerjaar: first! }),
      period({ datumBegin: '2026-09-01', leerjaar: second!, ...extra }),
    ];
    expect(codes(pupil([enrolment({ perioden })], { birthDate: '2012-01-01' }))).toEqual(expected);
  });

  test('Q0006 looks only at periods starting in the control year', () => {
    const perioden = [
      period({ datumBegin: '2024-08-20', leerjaar: 1 }),
      period({ datumBegin: '2025-08-20', leerjaar: 4 }),
      period({ datumBegin: '2026-08-20', leerjaar: 5 }),
    ];
    expect(
      codes(pupil([enrolment({ datumInschrijving: '2024-08-20', perioden })], { birthDate: '2010-01-01' })),
    ).toEqual([]);
  });

  const carriedOver = {
    datumInschrijving: '2025-08-20',
    perioden: [period({ datumBegin: '2025-08-20', leerjaar: 1 })],
  };
  test.each([
    ['ran last year, no period since 1 August', carriedOver, TODAY, ['Q0008']],
    [
      'a period from 1 August',
      { ...carriedOver, perioden: [...carriedOver.perioden, period({ datumBegin: '2026-08-01' })] },
      TODAY,
      [],
    ],
    ['in August schools are still delivering', carriedOver, '2026-08-31', []],
    [
      'enrolled on 1 August itself',
      { ...carriedOver, datumInschrijving: '2026-08-01', perioden: [period({ datumBegin: '2026-08-01' })] },
      TODAY,
      [],
    ],
    ['out-date on 1 August still counts', { ...carriedOver, datumUitschrijving: '2026-08-01' }, TODAY, ['Q0008']],
    ['out-date 31 July: ended with the school year', { ...carriedOver, datumUitschrijving: '2026-07-31' }, TODAY, []],
  ])('Q0008: %s', (_name, overrides, today, expected) => {
    expect(codes(pupil([enrolment(overrides)], { birthDate: '2013-04-17' }), today)).toEqual(expected);
  });

  test.each([
    ['OPP starting a year after delivery', [{ datumBegin: '2027-08-20' }], []],
    ['OPP starting a year and a day after delivery', [{ datumBegin: '2027-08-21' }], ['Q0009']],
    ['OPP ending a year and a day after delivery', [{ datumBegin: '2026-09-01', datumEind: '2027-08-21' }], ['Q0010']],
  ])('Q0009/Q0010: %s', (_name, ontwikkelingsperspectieven, expected) => {
    expect(codes(pupil([enrolment({ ontwikkelingsperspectieven }, '2026-08-20')]))).toEqual(expected);
  });

  test.each([
    ['vavo a year and a day ahead', 'VAVO', '2027-09-16', ['Q0011']],
    ['vavo a year ahead', 'VAVO', '2027-09-15', []],
    ['another kind of stay far ahead', 'OPDC', '2028-01-01', []],
  ])('Q0011: %s', (_name, verblijfsoort, datumBegin, expected) => {
    expect(
      codes(pupil([enrolment({ verblijvenAndereInstelling: [{ brin: '99ZZ', verblijfsoort, datumBegin }] })])),
    ).toEqual(expected);
  });

  test.each([
    ['both vwo programmes', ['VERSNELD_PROGRAMMA_VWO', 'VERRIJKT_PROGRAMMA_VWO'], ['Q0012']],
    ['one of them', ['VERRIJKT_PROGRAMMA_VWO'], []],
  ])('Q0012: %s', (_name, experimenten, expected) => {
    expect(codes(pupil([enrolment({ perioden: [period({ experimenten })] })]))).toEqual(expected);
  });

  const other = (overrides: Partial<EnrolmentStand>) =>
    enrolment({ brin: '30XY', inschrijvingvolgnummer: '9', perioden: [period({ vestiging: '30XY00' })], ...overrides });
  test.each([
    [
      'both enrolled this school year',
      '2026-08-20',
      other({ datumInschrijving: '2026-09-01' }),
      [
        ['25BE', '30XY'],
        ['30XY', '25BE'],
      ],
    ],
    // The out-date is the enrolment's last valid day: leaving on the day the other school starts is one day at both.
    [
      'out-date on the other in-date: both enrolled that day',
      '2026-08-20',
      other({ datumInschrijving: '2026-08-01', datumUitschrijving: '2026-08-20' }),
      [
        ['25BE', '30XY'],
        ['30XY', '25BE'],
      ],
    ],
    [
      'a transfer: one leaves the day before the other starts',
      '2026-08-20',
      other({ datumInschrijving: '2026-08-01', datumUitschrijving: '2026-08-19' }),
      [],
    ],
    [
      'overlap only last school year (out on 31 July)',
      '2026-07-01',
      other({ datumInschrijving: '2026-06-01', datumUitschrijving: '2026-07-31' }),
      [],
    ],
    [
      'out on 1 August: one day of this school year at both',
      '2026-07-01',
      other({ datumInschrijving: '2026-06-01', datumUitschrijving: '2026-08-01' }),
      [
        ['25BE', '30XY'],
        ['30XY', '25BE'],
      ],
    ],
  ])('Q0013: %s', (_name, firstIn, second, expected) => {
    const first = enrolment({ datumInschrijving: firstIn, perioden: [period({ datumBegin: '2026-08-20' })] });
    const found = checkPupilQuality(pupil([first, second]), TODAY).filter((f) => f.signal.code === 'Q0013');
    expect(found.map((f) => [f.brin, f.signal.sleutelgegevens[0]!.waarde])).toEqual(expected);
  });
});
