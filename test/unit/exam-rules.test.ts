import { diplomaOf } from '../../src/register/diploma.js';
import type { EnrolmentStand, PeriodVO } from '../../src/register/enrolment.js';
import {
  type ExamResultStand,
  type Uitslagcode,
  uitslagStoredAt,
  type VakResultaat,
} from '../../src/register/exam-result.js';
import {
  checkExamResultStand,
  type ExamContext,
  oneStandPerEnrolment,
  uitslagRemovedSignals,
  vavoPlacements,
} from '../../src/register/exam-rules.js';
import { isRejected } from '../../src/register/signals.js';
import { decideStand } from '../../src/register/stand-order.js';

const period = (overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin: '2022-08-20',
  onderwijsaanbieder: '100A200',
  onderwijslocatie: '100X300',
  opleidingcode: '0060',
  aanvullendeOpleidingen: [],
  vestiging: '25BE00',
  leerjaar: 5,
  indicatieBekostigbaar: true,
  experimenten: [],
  ...overrides,
});
const enrolment = (overrides: Partial<EnrolmentStand> = {}): EnrolmentStand => ({
  pgn: { kind: 'BSN', value: '123456782' },
  brin: '25BE',
  inschrijvingvolgnummer: '1',
  datumInschrijving: '2022-08-20',
  datumUitschrijving: '2027-07-31',
  perioden: [period()],
  ontwikkelingsperspectieven: [],
  verblijvenAndereInstelling: [],
  ...overrides,
});
const vak = (overrides: Partial<VakResultaat> = {}): VakResultaat => ({
  vakcode: 'NE',
  cijferSchoolexamen: '68',
  cijferCentraalExamen: '61',
  tijdvakCentraalExamen: '1',
  eindcijfer: '6',
  indicatieDiplomavak: true,
  ...overrides,
});
const result = (overrides: Partial<ExamResultStand> = {}): ExamResultStand => ({
  pgn: { kind: 'BSN', value: '123456782' },
  brin: '25BE',
  examenresultaatvolgnummer: 'EX1',
  onderwijsaanbieder: '100A200',
  indicaties: { teruggetrokken: false, eerderLeerjaar: false, gespreidExamen: false, doorlopendeLeerlijn: false },
  examenregime: '2027',
  niveau: 'HAVO',
  uitslag: { datumUitslag: '2027-06-12', uitslagcode: 'G' },
  vakken: [vak()],
  toetsen: [],
  herkansingen: [],
  ...overrides,
});
const context = (overrides: Partial<ExamContext> = {}): ExamContext => ({
  today: '2027-06-15',
  enrolments: [enrolment()],
  examenregimesAtBrin: [],
  opleidingNiveaus: new Map(),
  ...overrides,
});
const codes = (s: ExamResultStand, c: ExamContext = context()): string[] =>
  checkExamResultStand(s, c)
    .map((x) => x.code)
    .sort();
const uitslagOn = (datumUitslag: string, uitslagcode: Uitslagcode = 'A') => ({
  uitslag: { datumUitslag, uitslagcode },
});

describe('exam result rules', () => {
  test('a clean passed result has no signals', () => {
    expect(codes(result())).toEqual([]);
  });

  test('the personal number is checked as for an enrolment', () => {
    expect(codes(result({ pgn: { kind: 'BSN', value: '123456789' } }))).toEqual(['I0001']);
    expect(codes(result(), context({ knownToPopulationRegister: false }))).toEqual(['I0012']);
    expect(
      codes(result({ pgn: { kind: 'OWN', value: '100000004' } }), context({ assignedOnderwijsnummer: false })),
    ).toEqual(['P0001']);
  });

  test('E0001: without onderwijsaanbieder the result is rejected', () => {
    const { onderwijsaanbieder: _, ...without } = result();
    const signals = checkExamResultStand(without, context());
    expect(signals.map((s) => s.code)).toEqual(['E0001']);
    expect(isRejected(signals)).toBe(true);
    expect(isRejected(checkExamResultStand(result(), context()))).toBe(false);
  });

  describe('E0010: no enrolment on the uitslag date', () => {
    const enrolled = context({
      enrolments: [enrolment({ datumInschrijving: '2026-09-01', datumUitschrijving: '2027-06-12' })],
    });
    test.each([
      ['the day before the in-date', '2026-08-31', ['E0010']],
      ['on the in-date', '2026-09-01', []],
      ['on the out-date (the last valid day)', '2027-06-12', []],
      ['the day after the out-date', '2027-06-13', ['E0010']],
    ])('%s', (_name, day, expected) => {
      expect(codes(result(uitslagOn(day)), enrolled)).toEqual(expected);
    });

    test('only enrolments at the same BRIN count, and no uitslag is no check', () => {
      const elsewhere = context({ enrolments: [enrolment({ brin: '00AH', datumUitschrijving: undefined })] });
      expect(codes(result(uitslagOn('2027-06-12')), elsewhere)).toEqual(['E0010']);
      expect(
        codes(result({ uitslag: undefined, vakken: [vak({ cijferCentraalExamen: undefined })] }), elsewhere),
      ).toEqual([]);
    });

    test('a vavo institution: the VO school’s VAVO stay at its BRIN counts, on its first and last day', () => {
      const placed = (begin: string, end: string) =>
        context({
          enrolments: [
            enrolment({
              brin: '00AH',
              datumUitschrijving: undefined,
              verblijvenAndereInstelling: [{ datumBegin: begin, datumEind: end, brin: '25BE', verblijfsoort: 'VAVO' }],
            }),
          ],
        });
      expect(codes(result(uitslagOn('2027-06-12')), placed('2027-06-12', '2027-07-31'))).toEqual([]);
      expect(codes(result(uitslagOn('2027-06-12')), placed('2026-08-01', '2027-06-12'))).toEqual([]);
      expect(codes(result(uitslagOn('2027-06-12')), placed('2027-06-13', '2027-07-31'))).toEqual(['E0010']);
      expect(codes(result(uitslagOn('2027-06-12')), placed('2026-08-01', '2027-06-11'))).toEqual(['E0010']);
    });
  });

  describe('E0011: passed but still enrolled in the next school year', () => {
    const newYear = (enrolments: EnrolmentStand[], today = '2027-08-01') => context({ today, enrolments });
    test.each([
      ['out-date 31 July', '2027-07-31', []],
      ['out-date 1 August', '2027-08-01', ['E0011']],
      ['no out-date', undefined, ['E0011']],
    ])('%s', (_name, out, expected) => {
      expect(codes(result(), newYear([enrolment({ datumUitschrijving: out })]))).toEqual(expected);
    });

    test('only once the new school year has begun: not on 31 July, from 1 August', () => {
      const staying = [enrolment({ datumUitschrijving: undefined })];
      expect(codes(result(), newYear(staying, '2027-07-31'))).toEqual([]);
      expect(codes(result(), newYear(staying, '2027-08-01'))).toEqual(['E0011']);
    });

    test('only the enrolment the pupil passed in: one starting after the uitslag is a new course', () => {
      const later = enrolment({
        inschrijvingvolgnummer: '2',
        datumInschrijving: '2027-06-13',
        datumUitschrijving: undefined,
      });
      expect(codes(result(), newYear([enrolment(), later]))).toEqual([]);
      const fromUitslagDay = { ...later, datumInschrijving: '2027-06-12' };
      expect(codes(result(), newYear([enrolment(), fromUitslagDay]))).toEqual(['E0011']);
    });

    test('a failed or withdrawn pupil may stay; an uitslag in August looks at the year after', () => {
      const staying = newYear([enrolment({ datumUitschrijving: undefined })], '2028-08-01');
      expect(codes(result(uitslagOn('2027-06-12', 'A')), staying)).toEqual([]);
      expect(codes(result(uitslagOn('2027-06-12', 'T')), staying)).toEqual([]);
      const august = newYear([enrolment({ datumUitschrijving: '2028-07-31' })], '2028-08-01');
      expect(codes(result(uitslagOn('2027-08-01', 'G')), august)).toEqual([]);
      const augustOn = newYear([enrolment({ datumUitschrijving: '2028-08-01' })], '2028-08-01');
      expect(codes(result(uitslagOn('2027-08-01', 'G')), augustOn)).toEqual(['E0011']);
      expect(codes(result(uitslagOn('2027-08-01', 'G')), { ...augustOn, today: '2028-07-31' })).toEqual([]);
    });

    test('names the enrolment', () => {
      const [found] = checkExamResultStand(
        result(),
        newYear([enrolment({ inschrijvingvolgnummer: '7', datumUitschrijving: undefined })]),
      );
      expect(found?.sleutelgegevens).toEqual([{ naam: 'inschrijvingvolgnummer', waarde: '7' }]);
    });
  });

  describe('E0012: level differs from the enrolment', () => {
    const niveaus = new Map([
      ['0060', 'HAVO'],
      ['0070', 'VWO'],
    ]);
    test('the period in force on the uitslag date decides, from its first day', () => {
      const twoPeriods = enrolment({
        perioden: [period(), period({ datumBegin: '2027-06-12', opleidingcode: '0070' })],
      });
      const c = context({ enrolments: [twoPeriods], opleidingNiveaus: niveaus });
      expect(codes(result(uitslagOn('2027-06-11')), c)).toEqual([]);
      expect(codes(result(uitslagOn('2027-06-12')), c)).toEqual(['E0012']);
      expect(codes(result({ ...uitslagOn('2027-06-12'), niveau: 'VWO' }), c)).toEqual([]);
    });

    test('without uitslag the period in force on 1 May of the examenregime decides', () => {
      const c = context({
        enrolments: [enrolment({ perioden: [period(), period({ datumBegin: '2027-05-02', opleidingcode: '0070' })] })],
        opleidingNiveaus: niveaus,
      });
      const noUitslag = { uitslag: undefined, vakken: [vak({ cijferCentraalExamen: undefined })] };
      expect(codes(result(noUitslag), c)).toEqual([]);
      expect(codes(result({ ...noUitslag, niveau: 'VWO' }), c)).toEqual(['E0012']);
    });

    test('an opleidingcode the stand-in does not know is not checked', () => {
      expect(codes(result({ niveau: 'VMBO_TL' }), context())).toEqual([]);
      expect(codes(result({ niveau: 'VMBO_TL' }), context({ opleidingNiveaus: niveaus }))).toEqual(['E0012']);
    });

    test('the enrolment the result names, else those running that day; a vavo result is compared with the VO school’s', () => {
      const other = enrolment({ inschrijvingvolgnummer: '2', perioden: [period({ opleidingcode: '0070' })] });
      const c = context({ enrolments: [enrolment(), other], opleidingNiveaus: niveaus });
      expect(codes(result({ inschrijvingvolgnummer: '1' }), c)).toEqual([]);
      expect(codes(result({ inschrijvingvolgnummer: '2' }), c)).toEqual(['E0012']);
      expect(codes(result(), c)).toEqual(['E0012']);
      const vo = enrolment({
        brin: '00AH',
        perioden: [period({ opleidingcode: '0070' })],
        verblijvenAndereInstelling: [{ datumBegin: '2026-08-01', brin: '25BE', verblijfsoort: 'VAVO' }],
      });
      expect(codes(result(), context({ enrolments: [vo], opleidingNiveaus: niveaus }))).toEqual(['E0012']);
    });
  });

  describe('E0013 / E0014: CE and SE expected with an uitslag', () => {
    test('one vak with a CE or SE grade is enough', () => {
      const seOnly = vak({ vakcode: 'MAAT', cijferCentraalExamen: undefined, tijdvakCentraalExamen: undefined });
      const ceOnly = vak({ vakcode: 'WISA', cijferSchoolexamen: undefined });
      expect(codes(result({ vakken: [seOnly, ceOnly] }))).toEqual([]);
      expect(codes(result({ vakken: [seOnly] }))).toEqual(['E0013']);
      expect(codes(result({ vakken: [ceOnly] }))).toEqual(['E0014']);
      expect(codes(result({ vakken: [] }))).toEqual(['E0013', 'E0014']);
    });

    test('not for a withdrawn result (indication or uitslag T), nor without uitslag', () => {
      const withdrawn = { ...result().indicaties, teruggetrokken: true };
      expect(codes(result({ vakken: [], indicaties: withdrawn }))).toEqual([]);
      expect(codes(result({ vakken: [], ...uitslagOn('2027-06-12', 'T') }))).toEqual([]);
      expect(codes(result({ vakken: [], ...uitslagOn('2027-06-12', 'A') }))).toEqual(['E0013', 'E0014']);
      expect(codes(result({ vakken: [], uitslag: undefined }))).toEqual([]);
    });
  });

  /** After the exam period of examenregime 2027: the checks on the past examenregime run. */
  const afterExams = (overrides: Partial<ExamContext> = {}) => context({ today: '2027-08-01', ...overrides });

  describe('E0015: uitslag expected', () => {
    const noUitslag = (indicaties: Partial<ExamResultStand['indicaties']> = {}) =>
      result({ uitslag: undefined, indicaties: { ...result().indicaties, ...indicaties } });
    test('a CE grade without uitslag; none without a CE grade', () => {
      expect(codes(noUitslag(), afterExams())).toEqual(['E0015']);
      expect(
        codes(result({ uitslag: undefined, vakken: [vak({ cijferCentraalExamen: undefined })] }), afterExams()),
      ).toEqual([]);
    });
    test('only once the examenregime is past: not on 31 July, from 1 August', () => {
      expect(codes(noUitslag(), context({ today: '2027-07-31' }))).toEqual([]);
      expect(codes(noUitslag(), context({ today: '2027-08-01' }))).toEqual(['E0015']);
      expect(codes(noUitslag(), context({ today: '2028-03-01' }))).toEqual(['E0015']);
    });
    test('not when withdrawn or in a doorlopende leerlijn', () => {
      expect(codes(noUitslag({ teruggetrokken: true }), afterExams())).toEqual([]);
      expect(codes(noUitslag({ doorlopendeLeerlijn: true }), afterExams())).toEqual([]);
    });
    test.each(['gespreidExamen', 'eerderLeerjaar'] as const)(
      '%s: not in the first year, but once a result of the examenregime before exists',
      (indicatie: 'gespreidExamen' | 'eerderLeerjaar') => {
        expect(codes(noUitslag({ [indicatie]: true }), afterExams())).toEqual([]);
        expect(codes(noUitslag({ [indicatie]: true }), afterExams({ examenregimesAtBrin: ['2026'] }))).toEqual([
          'E0015',
        ]);
        expect(codes(noUitslag({ [indicatie]: true }), afterExams({ examenregimesAtBrin: ['2025'] }))).toEqual([]);
      },
    );
  });

  describe('E0016: a herkansing needs a CE grade of that vak in that tijdvak', () => {
    const resit = { herkansingen: [{ vakcode: 'NE', tijdvak: '2' }] };
    test('checked once the examenregime is past', () => {
      const c = afterExams();
      expect(codes(result({ ...resit, vakken: [vak({ tijdvakCentraalExamen: '2' })] }), c)).toEqual([]);
      expect(codes(result({ ...resit, vakken: [vak({ tijdvakCentraalExamen: '1' })] }), c)).toEqual(['E0016']);
      expect(codes(result({ ...resit, vakken: [vak({ vakcode: 'EN', tijdvakCentraalExamen: '2' })] }), c)).toEqual([
        'E0016',
      ]);
    });
    test('not before 1 August of the exam year: the resit may still come', () => {
      const missing = result({ ...resit, vakken: [vak({ tijdvakCentraalExamen: '1' })] });
      expect(codes(missing, context({ today: '2027-07-31' }))).toEqual([]);
      expect(codes(missing, context({ today: '2027-08-01' }))).toEqual(['E0016']);
    });
    test('names the vak and tijdvak', () => {
      const [found] = checkExamResultStand(result(resit), afterExams());
      expect(found?.sleutelgegevens).toEqual([
        { naam: 'vakcode', waarde: 'NE' },
        { naam: 'tijdvak', waarde: '2' },
      ]);
    });
  });

  test('E0017: a vak on the list outside the diploma needs an eindcijfer or beoordeling', () => {
    const extra = (overrides: Partial<VakResultaat>) =>
      result({ vakken: [vak(), vak({ vakcode: 'FA', indicatieDiplomavak: false, ...overrides })] });
    expect(codes(extra({ eindcijfer: undefined }))).toEqual(['E0017']);
    expect(codes(extra({}))).toEqual([]);
    expect(codes(extra({ eindcijfer: undefined, beoordeling: 'V' }))).toEqual([]);
    expect(codes(extra({ eindcijfer: undefined, redenNietDeelname: 'ONTHEFFING' }))).toEqual([]);
    // A diploma vak without a grade is not this check; nor is a list without uitslag yet.
    expect(codes(result({ vakken: [vak({ eindcijfer: undefined })] }))).toEqual([]);
    expect(codes({ ...extra({ eindcijfer: undefined }), uitslag: undefined }, afterExams())).toEqual(['E0015']);
  });

  test.each([
    ['70', []],
    ['100', []],
    ['69', ['E0018']],
    ['71', ['E0018']],
  ])('E0018: a werkstuk grade of %s', (cijfer, expected) => {
    expect(codes(result({ werkstuk: { cijfer } }))).toEqual(expected);
    expect(codes(result({ werkstuk: { beoordeling: 'G' } }))).toEqual([]);
  });

  describe('E0019: an uitslag that was in the register on 1 August of the running school year removed', () => {
    /** A stored result with an uitslag of June 2027 that came into the register at `storedAt`. */
    const storedAt = (at: string) => ({ stand: result(uitslagOn('2027-06-12', 'G')), uitslagStoredAt: at });
    test.each([
      ['stored 31 July, removed on 1 August', '2027-07-31T10:00:00Z', '2027-08-01', ['E0019']],
      ['stored on 1 August (Dutch day), removed the same school year', '2027-08-01T09:00:00Z', '2028-07-31', ['E0019']],
      ['stored 31 July, removed on 31 July', '2027-07-31T10:00:00Z', '2027-07-31', []],
      ['stored 2 August, removed the same school year', '2027-08-02T10:00:00Z', '2028-07-31', []],
      // The old reading looked at the uitslag's date (June 2027, an earlier school year): not the handleiding's fact.
      ['an uitslag of last school year first stored in September', '2027-09-01T10:00:00Z', '2027-10-01', []],
      [
        'stored 31 July 23:30 Dutch time (21:30 UTC), removed on 1 August',
        '2027-07-31T21:30:00Z',
        '2027-08-01',
        ['E0019'],
      ],
      [
        'stored 1 August 00:30 Dutch time (31 July UTC), removed a year later',
        '2027-07-31T22:30:00Z',
        '2028-08-01',
        ['E0019'],
      ],
    ])('%s', (_name, at, today, expected) => {
      expect(uitslagRemovedSignals(storedAt(at), undefined, today).map((s) => s.code)).toEqual(expected);
      expect(uitslagRemovedSignals(storedAt(at), result({ uitslag: undefined }), today).map((s) => s.code)).toEqual(
        expected,
      );
    });
    test('a new stand keeping an uitslag removes nothing', () => {
      expect(uitslagRemovedSignals(storedAt('2027-06-20T10:00:00Z'), result(), '2028-01-01')).toEqual([]);
      expect(uitslagRemovedSignals(undefined, undefined, '2028-01-01')).toEqual([]);
    });
    test('the moment an uitslag came in is kept while an uitslag stays and reset when it goes', () => {
      const now = new Date('2027-09-01T10:00:00Z');
      const withUitslag = storedAt('2027-06-20T10:00:00Z');
      expect(uitslagStoredAt(withUitslag, result(uitslagOn('2027-06-12', 'A')), now)).toBe('2027-06-20T10:00:00Z');
      expect(uitslagStoredAt(withUitslag, result({ uitslag: undefined }), now)).toBeUndefined();
      expect(uitslagStoredAt({ stand: result({ uitslag: undefined }) }, result(), now)).toBe(now.toISOString());
      expect(uitslagStoredAt(undefined, result(), now)).toBe(now.toISOString());
    });
  });

  test('one enrolment stored under both of the pupil’s numbers is checked once', () => {
    const underBsn = enrolment({ datumUitschrijving: undefined, perioden: [period({ opleidingcode: '0070' })] });
    const underOwn = { ...underBsn, pgn: { kind: 'OWN' as const, value: '100000004' } };
    const c = context({
      today: '2027-08-01',
      enrolments: [underOwn, underBsn],
      opleidingNiveaus: new Map([['0070', 'VWO']]),
    });
    expect(codes(result(), c)).toEqual(['E0011', 'E0012']);
    // Another volgnummer is another enrolment.
    const second = { ...underOwn, inschrijvingvolgnummer: '2' };
    expect(codes(result(), { ...c, enrolments: [underBsn, second] })).toEqual(['E0011', 'E0011', 'E0012', 'E0012']);
  });

  test('oneStandPerEnrolment: the stand under the result’s own number wins, else the first', () => {
    const underBsn = enrolment();
    const underOwn = { ...underBsn, pgn: { kind: 'OWN' as const, value: '100000004' } };
    expect(oneStandPerEnrolment([underOwn, underBsn], '123456782')).toEqual([underBsn]);
    expect(oneStandPerEnrolment([underOwn, underBsn], '100000004')).toEqual([underOwn]);
    expect(oneStandPerEnrolment([underOwn, underBsn], '999999999')).toEqual([underOwn]);
    const elsewhere = { ...underOwn, brin: '00AH' };
    expect(oneStandPerEnrolment([underBsn, elsewhere], '123456782')).toEqual([underBsn, elsewhere]);
  });

  test('vavoPlacements: only a VAVO stay at that BRIN, in an enrolment running that day', () => {
    const stay = { datumBegin: '2026-08-01', brin: '25BE', verblijfsoort: 'VAVO' };
    const vo = enrolment({ brin: '00AH', verblijvenAndereInstelling: [stay] });
    expect(vavoPlacements('25BE', [vo], '2027-06-12')).toEqual([vo]);
    expect(
      vavoPlacements(
        '25BE',
        [enrolment({ brin: '00AH', verblijvenAndereInstelling: [{ ...stay, verblijfsoort: 'OPDC' }] })],
        '2027-06-12',
      ),
    ).toEqual([]);
    expect(vavoPlacements('08PG', [vo], '2027-06-12')).toEqual([]);
    expect(vavoPlacements('25BE', [vo], '2027-08-01')).toEqual([]); // the VO enrolment ended on 31 July
  });
});

describe('diplomas', () => {
  test('a passed result is a diploma with its diploma subjects; a failed or open one is none', () => {
    const stand = result({
      vakken: [
        vak(),
        vak({ vakcode: 'LO', eindcijfer: undefined, beoordeling: 'G' }),
        vak({ vakcode: 'FA', indicatieDiplomavak: false }),
      ],
    });
    expect(diplomaOf(stand)).toEqual({
      brin: '25BE',
      level: 'HAVO',
      diplomaDate: '2027-06-12',
      subjects: [
        { vak: 'NE', eindcijfer: '6' },
        { vak: 'LO', beoordeling: 'G' },
      ],
    });
    expect(diplomaOf(result(uitslagOn('2027-06-12', 'A')))).toBeNull();
    expect(diplomaOf(result(uitslagOn('2027-06-12', 'T')))).toBeNull();
    expect(diplomaOf(result({ uitslag: undefined }))).toBeNull();
  });
});

describe('exam result stands', () => {
  test('newer wins, as for enrolments', () => {
    const stored = { documentTime: '2027-06-12T14:00:00.000Z', stand: result() };
    expect(decideStand({ documentTime: '2027-06-12T14:00:00.000Z', stand: result() }, stored)).toBe('identical');
    expect(decideStand({ documentTime: '2027-06-12T14:00:01.000Z', stand: result({ niveau: 'VWO' }) }, stored)).toBe(
      'replace',
    );
    expect(decideStand({ documentTime: '2027-06-12T14:00:00.000Z', stand: result({ niveau: 'VWO' }) }, stored)).toBe(
      'older',
    );
  });
});
