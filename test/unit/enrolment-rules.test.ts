import type { EnrolmentStand, PeriodVO } from '../../src/register/enrolment.js';
import { overlaps } from '../../src/register/enrolment.js';
import { checkEnrolmentStand, type EnrolmentContext } from '../../src/register/enrolment-rules.js';
import { isRejected } from '../../src/register/signals.js';
import { decideStand } from '../../src/register/stand-order.js';

const period = (overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin: '2026-08-20',
  onderwijsaanbieder: '100A200',
  onderwijslocatie: '100X300',
  opleidingcode: '0050',
  aanvullendeOpleidingen: [],
  vestiging: '25BE00',
  leerjaar: 1,
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
const context = (overrides: Partial<EnrolmentContext> = {}): EnrolmentContext => ({
  today: '2026-09-01',
  otherEnrolments: [],
  ...overrides,
});
const codes = (s: EnrolmentStand, c: EnrolmentContext = context()): string[] =>
  checkEnrolmentStand(s, c)
    .map((x) => x.code)
    .sort();

describe('enrolment rules', () => {
  test('a clean stand has no signals', () => {
    expect(codes(stand())).toEqual([]);
  });

  test.each([
    ['BSN failing the elfproef', stand({ pgn: { kind: 'BSN', value: '123456789' } }), 'I0001'],
    [
      'onderwijsnummer failing its check',
      stand({ pgn: { kind: 'OWN', value: '100000009' }, perioden: [period({ indicatieNieuwkomersbekostiging: 'N' })] }),
      'I0002',
    ],
    ['vestiging of another BRIN', stand({ perioden: [period({ vestiging: '00AH00' })] }), 'I0003'],
    ['period before the in-date', stand({ perioden: [period({ datumBegin: '2026-08-19' })] }), 'I0004'],
    [
      'period starting after the out-date',
      stand({ datumUitschrijving: '2026-09-01', perioden: [period(), period({ datumBegin: '2026-09-02' })] }),
      'I0005',
    ],
    ['out-date before in-date', stand({ datumUitschrijving: '2026-08-19', perioden: [] }), 'I0006'],
    ['two periods on one day', stand({ perioden: [period(), period()] }), 'I0007'],
    [
      'OWN pupil on 2025-08-01 without nieuwkomers indication',
      stand({
        pgn: { kind: 'OWN', value: '100000004' },
        datumInschrijving: '2025-08-01',
        perioden: [period({ datumBegin: '2025-08-01' })],
      }),
      'I0011',
    ],
    [
      'OPP ending before it starts',
      stand({ ontwikkelingsperspectieven: [{ datumBegin: '2026-09-01', datumEind: '2026-08-31' }] }),
      'I0017',
    ],
  ])('%s is rejected with %s', (_name, s, code) => {
    const signals = checkEnrolmentStand(s, context());
    expect(signals.map((x) => x.code)).toContain(code);
    expect(isRejected(signals)).toBe(true);
  });

  test('the nieuwkomers rule covers periods running on or after 2025-08-01: one ending on 2025-07-31 does not need it, one still running does', () => {
    const own = (datumUitschrijving?: string) =>
      stand({
        pgn: { kind: 'OWN', value: '100000004' },
        datumInschrijving: '2025-07-01',
        ...(datumUitschrijving ? { datumUitschrijving } : {}),
        perioden: [period({ datumBegin: '2025-07-01' })],
      });
    expect(codes(own('2025-07-31'))).toEqual([]);
    expect(codes(own())).toEqual(['I0011']);
  });

  // The out-date is the enrolment's last valid day (DUO): a period may start on it, not after it.
  test.each([
    ['a period the day before the out-date', '2026-08-31', []],
    ['a period on the out-date', '2026-09-01', []],
    ['a period the day after the out-date', '2026-09-02', ['I0005']],
  ])('out-date 2026-09-01, %s', (_name, begin, expected) => {
    expect(
      codes(stand({ datumUitschrijving: '2026-09-01', perioden: [period(), period({ datumBegin: begin })] })),
    ).toEqual(expected);
  });

  test('an out-date equal to the in-date is allowed, with its period starting that day', () => {
    expect(codes(stand({ datumUitschrijving: '2026-08-20' }))).toEqual([]);
  });

  test('RIO: a period without onderwijslocatie is rejected; a locatie the stand-in does not link to the vestiging warns', () => {
    expect(codes(stand({ perioden: [period({ onderwijslocatie: undefined })] }))).toEqual(['I0034']);
    expect(
      isRejected(checkEnrolmentStand(stand({ perioden: [period({ onderwijsaanbieder: undefined })] }), context())),
    ).toBe(true);
    expect(codes(stand(), context({ rioLinks: [{ vestiging: '25BE00', onderwijslocatie: '100X301' }] }))).toEqual([
      'I0035',
    ]);
    expect(codes(stand(), context({ rioLinks: [{ vestiging: '25BE00', onderwijslocatie: '100X300' }] }))).toEqual([]);
  });

  test.each([
    ['assigned by the register', '100000004', true, []],
    ['never assigned', '100000004', false, ['P0001']],
    ['not asked (no register at hand)', '100000004', undefined, []],
    ['failing the check: only that is said', '100000009', false, ['I0002']],
  ] as const)('an onderwijsnummer %s', (_name, value, assigned, expected) => {
    const own = stand({ pgn: { kind: 'OWN', value }, perioden: [period({ indicatieNieuwkomersbekostiging: 'N' })] });
    const signals = checkEnrolmentStand(
      own,
      context(assigned === undefined ? {} : { assignedOnderwijsnummer: assigned }),
    );
    expect(signals.map((s) => s.code)).toEqual(expected);
    expect(isRejected(signals)).toBe(expected.length > 0);
  });

  test('context: unknown BSN', () => {
    expect(codes(stand(), context({ knownToPopulationRegister: false }))).toEqual(['I0012']);
  });

  test.each([
    ['in-date exactly a year ahead is fine', '2027-09-01', []],
    ['in-date a year and a day ahead warns', '2027-09-02', ['I0013']],
  ])('%s', (_name, date, expected) => {
    expect(codes(stand({ datumInschrijving: date, perioden: [period({ datumBegin: date })] }))).toEqual(expected);
  });

  test('leerjaar jumping by two between periods warns, either way; by one does not', () => {
    const jump = stand({ perioden: [period({ leerjaar: 1 }), period({ datumBegin: '2027-08-20', leerjaar: 3 })] });
    const drop = stand({ perioden: [period({ leerjaar: 4 }), period({ datumBegin: '2027-08-20', leerjaar: 2 })] });
    const step = stand({ perioden: [period({ leerjaar: 1 }), period({ datumBegin: '2027-08-20', leerjaar: 2 })] });
    expect(codes(jump)).toEqual(['I0033']);
    expect(codes(drop)).toEqual(['I0033']);
    expect(codes(step)).toEqual([]);
    expect(isRejected(checkEnrolmentStand(jump, context()))).toBe(false);
  });

  test('an age that does not fit the leerjaar warns, taken on 1 August of the school year', () => {
    expect(codes(stand(), context({ birthDate: '2020-01-01' }))).toEqual(['I0031']);
    expect(codes(stand(), context({ birthDate: '2009-08-01' }))).toEqual(['I0030']);
    expect(codes(stand(), context({ birthDate: '2009-08-02' }))).toEqual([]);
  });

  // The out-date is the other school's last valid day: leaving on the day this school enrols is a day in both.
  test.each([
    ['still enrolled elsewhere', undefined, ['I0016']],
    ['left the other school the day this one starts', '2026-08-20', ['I0016']],
    ['left the other school the day before', '2026-08-19', []],
  ])('double enrolment at another school: %s', (_name, out, expected) => {
    const other = { brin: '00AH', datumInschrijving: '2025-08-20', ...(out ? { datumUitschrijving: out } : {}) };
    expect(codes(stand(), context({ otherEnrolments: [other] }))).toEqual(expected);
  });

  test.each([
    [
      'A ends the day B starts',
      { datumInschrijving: '2025-01-01', datumUitschrijving: '2026-08-20' },
      { datumInschrijving: '2026-08-20' },
      true,
    ],
    [
      'A ends the day before B starts',
      { datumInschrijving: '2025-01-01', datumUitschrijving: '2026-08-19' },
      { datumInschrijving: '2026-08-20' },
      false,
    ],
    [
      'B ends the day A starts',
      { datumInschrijving: '2026-08-20' },
      { datumInschrijving: '2025-01-01', datumUitschrijving: '2026-08-20' },
      true,
    ],
    [
      'one-day enrolments on the same day',
      { datumInschrijving: '2026-08-20', datumUitschrijving: '2026-08-20' },
      { datumInschrijving: '2026-08-20', datumUitschrijving: '2026-08-20' },
      true,
    ],
  ])('overlaps: %s', (_name, a, b, expected) => {
    expect(overlaps(a, b)).toBe(expected);
  });

  test('double enrolment: one warning per other school', () => {
    const twiceAtOneSchool = [
      { brin: '00AH', datumInschrijving: '2025-08-20' },
      { brin: '00AH', datumInschrijving: '2024-08-20' },
      { brin: '08PG', datumInschrijving: '2026-01-01' },
    ];
    expect(codes(stand(), context({ otherEnrolments: twiceAtOneSchool }))).toEqual(['I0016', 'I0016']); // one per other school
  });

  test('signals name what they are about, at most five key values, never a full PGN', () => {
    const signals = checkEnrolmentStand(
      stand({ pgn: { kind: 'BSN', value: '123456789' }, perioden: [period({ vestiging: '00AH00' })] }),
      context(),
    );
    for (const s of signals) {
      expect(s.sleutelgegevens.length).toBeLessThanOrEqual(5);
      expect(JSON.stringify(s)).not.toContain('123456789');
      expect(s.omschrijving.length).toBeLessThanOrEqual(200);
    }
  });
});

describe('stand order: the newest datumTijdBedrijfsdocument wins', () => {
  const at = (time: string, s = stand()) => ({ documentTime: time, stand: s });
  test.each([
    ['first stand', at('2026-09-01T08:00:00.000Z'), undefined, 'new'],
    [
      'newer stand',
      at('2026-09-02T08:00:00.000Z', stand({ inschrijvingvolgnummer: '1', datumUitschrijving: '2027-07-31' })),
      at('2026-09-01T08:00:00.000Z'),
      'replace',
    ],
    [
      'older stand arriving late',
      at('2026-08-31T08:00:00.000Z', stand({ datumUitschrijving: '2027-07-31' })),
      at('2026-09-01T08:00:00.000Z'),
      'older',
    ],
    [
      'same time, other content',
      at('2026-09-01T08:00:00.000Z', stand({ datumUitschrijving: '2027-07-31' })),
      at('2026-09-01T08:00:00.000Z'),
      'older',
    ],
    ['identical stand, even if newer', at('2026-09-03T08:00:00.000Z'), at('2026-09-01T08:00:00.000Z'), 'identical'],
  ] as const)('%s → %s', (_name, incoming, stored, expected) => {
    expect(decideStand(incoming, stored)).toBe(expected);
  });
});
