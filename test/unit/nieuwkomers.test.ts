import type { EnrolmentStand, PeriodVO } from '../../src/register/enrolment.js';
import { fundingStatus } from '../../src/register/funding.js';
import {
  firstEnrolmentNL,
  inForceFrom,
  nieuwkomersIndication,
  nieuwkomersSignals,
  withinNieuwkomersTerm,
} from '../../src/register/nieuwkomers.js';

const period = (datumBegin: string, overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin,
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
const stand = (kind: 'BSN' | 'OWN', perioden: PeriodVO[], datumUitschrijving?: string): EnrolmentStand => ({
  pgn: { kind, value: kind === 'BSN' ? '123456782' : '700000005' },
  brin: '25BE',
  inschrijvingvolgnummer: '1',
  datumInschrijving: perioden[0]!.datumBegin,
  ...(datumUitschrijving ? { datumUitschrijving } : {}),
  perioden,
  ontwikkelingsperspectieven: [],
  verblijvenAndereInstelling: [],
});

describe('which periods run on or after 1 August 2025', () => {
  test.each([
    ['begins on 1 August 2025', [period('2025-08-01')], undefined, true],
    ['began earlier and still runs', [period('2024-08-20')], undefined, true],
    ['began earlier, out-date on 1 August 2025 (the last day enrolled)', [period('2024-08-20')], '2025-08-01', true],
    ['began earlier, out-date on 31 July 2025', [period('2024-08-20')], '2025-07-31', false],
    [
      'began earlier, the next period begins on 1 August 2025',
      [period('2024-08-20'), period('2025-08-01')],
      undefined,
      false,
    ],
    [
      'began earlier, the next period begins on 2 August 2025',
      [period('2024-08-20'), period('2025-08-02')],
      undefined,
      true,
    ],
  ] as const)('%s → %s', (_name, perioden, out, expected) => {
    expect(inForceFrom(stand('OWN', [...perioden], out), perioden[0]!, '2025-08-01')).toBe(expected);
  });
});

describe('nieuwkomers signals on a delivered stand', () => {
  const codes = (s: EnrolmentStand) => nieuwkomersSignals(s).map((x) => `${x.code}@${x.sleutelgegevens[0]!.waarde}`);
  test.each([
    [
      'OWN, new period from 1 August 2025 without the indication',
      stand('OWN', [period('2025-08-01')]),
      ['I0011@2025-08-01'],
    ],
    [
      'OWN, enrolled before and still running, without it (handleiding: earlier pupils too)',
      stand('OWN', [period('2024-08-20')]),
      ['I0011@2024-08-20'],
    ],
    ['OWN, enrolled before and left on 31 July 2025', stand('OWN', [period('2024-08-20')], '2025-07-31'), []],
    [
      'OWN, old period closed by a new one with the indication',
      stand('OWN', [period('2024-08-20'), period('2025-08-01', { indicatieNieuwkomersbekostiging: 'N' })]),
      [],
    ],
    ['OWN with J', stand('OWN', [period('2025-08-01', { indicatieNieuwkomersbekostiging: 'J' })]), []],
    ['OWN with N', stand('OWN', [period('2025-08-01', { indicatieNieuwkomersbekostiging: 'N' })]), []],
    ['BSN without it: the register derives it', stand('BSN', [period('2025-08-01')]), []],
    ['BSN waiving it with N', stand('BSN', [period('2025-08-01', { indicatieNieuwkomersbekostiging: 'N' })]), []],
    [
      'BSN sending J: ignored, with a warning',
      stand('BSN', [period('2025-08-01', { indicatieNieuwkomersbekostiging: 'J' })]),
      ['I0036@2025-08-01'],
    ],
  ] as const)('%s', (_name, s, expected) => {
    expect(codes(s)).toEqual(expected);
  });

  test('I0011 rejects, I0036 only warns', () => {
    expect(nieuwkomersSignals(stand('OWN', [period('2025-08-01')]))[0]!.ernst).toBe('A');
    expect(
      nieuwkomersSignals(stand('BSN', [period('2025-08-01', { indicatieNieuwkomersbekostiging: 'J' })]))[0]!.ernst,
    ).toBe('W');
  });
});

describe('eight quarters after the quarter of the first enrolment in the Netherlands', () => {
  test.each([
    ['first enrolment the quarter before the peildatum', '2025-07-15', '2025-10-01', true],
    ['first enrolment on the last day of that quarter', '2025-09-30', '2025-10-01', true],
    ['first enrolment on the peildatum itself: its own quarter does not count yet', '2025-10-01', '2025-10-01', false],
    ['first enrolment after the peildatum', '2025-11-01', '2025-10-01', false],
    ['eighth quarter', '2023-10-01', '2025-10-01', true],
    ['seventh quarter', '2023-12-31', '2025-10-01', true],
    ['ninth quarter: the term has passed', '2023-09-30', '2025-10-01', false],
  ] as const)('%s', (_name, first, peildatum, expected) => {
    expect(withinNieuwkomersTerm(first, peildatum)).toBe(expected);
  });
});

describe('the indication on a peildatum', () => {
  test.each([
    [
      "OWN: the school's J",
      'OWN',
      period('2025-08-20', { indicatieNieuwkomersbekostiging: 'J' }),
      '2025-08-20',
      '2025-10-01',
      'J',
    ],
    [
      "OWN: the school's N, even within the term",
      'OWN',
      period('2025-08-20', { indicatieNieuwkomersbekostiging: 'N' }),
      '2025-08-20',
      '2025-10-01',
      'N',
    ],
    [
      'OWN before the arrangement, nothing delivered',
      'OWN',
      period('2024-08-20'),
      '2024-08-20',
      '2024-10-01',
      undefined,
    ],
    ['BSN within the term: derived J', 'BSN', period('2025-08-20'), '2025-08-20', '2025-10-01', 'J'],
    ['BSN after the term: derived N', 'BSN', period('2025-08-20'), '2023-08-20', '2025-10-01', 'N'],
    [
      'BSN within the term, waived with N',
      'BSN',
      period('2025-08-20', { indicatieNieuwkomersbekostiging: 'N' }),
      '2025-08-20',
      '2025-10-01',
      'N',
    ],
    [
      "BSN with J delivered, after the term: still N (J is not the school's to give)",
      'BSN',
      period('2025-08-20', { indicatieNieuwkomersbekostiging: 'J' }),
      '2023-08-20',
      '2025-10-01',
      'N',
    ],
    [
      'BSN before the arrangement (peildatum 1 October 2024)',
      'BSN',
      period('2024-08-20'),
      '2024-08-20',
      '2024-10-01',
      undefined,
    ],
    [
      'BSN, first enrolment unknown: derived N (the broker cannot tell)',
      'BSN',
      period('2025-08-20'),
      undefined,
      '2025-10-01',
      'N',
    ],
  ] as const)('%s', (_name, kind, p, first, peildatum, expected) => {
    expect(nieuwkomersIndication({ kind }, p, first, peildatum)).toBe(expected);
  });

  test('not enrolled on the peildatum: no indication', () => {
    expect(nieuwkomersIndication({ kind: 'BSN' }, undefined, '2025-08-20', '2025-10-01')).toBeUndefined();
  });
});

describe("the first enrolment in the Netherlands: the population register's day, or an earlier enrolment here", () => {
  test.each([
    ['the register knows no day: unknown, whatever is enrolled here', undefined, ['2026-08-20'], undefined],
    [
      "the register's day, years before the VO enrolment here (primary school)",
      '2018-08-20',
      ['2026-08-20'],
      '2018-08-20',
    ],
    [
      "an enrolment here earlier than the register's day is the first",
      '2026-01-05',
      ['2026-08-20', '2025-11-03'],
      '2025-11-03',
    ],
    ["an enrolment here on the register's day itself", '2026-08-20', ['2026-08-20'], '2026-08-20'],
    ['nothing enrolled here', '2026-08-20', [], '2026-08-20'],
  ] as const)('%s', (_name, recorded, here, expected) => {
    expect(firstEnrolmentNL(recorded, [...here])).toBe(expected);
  });
});

describe('the funding status of a BSN pupil on peildatum 1 October 2026', () => {
  const at = (brin: string, s: EnrolmentStand) => ({
    brin,
    inschrijvingvolgnummer: s.inschrijvingvolgnummer,
    stand: { ...s, brin },
  });
  const firstYear = at('25BE', stand('BSN', [period('2026-08-20')]));
  const leftSchool = at('00AH', { ...stand('BSN', [period('2024-03-01')]), datumUitschrijving: '2024-07-31' });
  test.each([
    ['the register knows no first enrolment: N, and no date claimed', [], undefined, undefined, 'N'],
    ['ordinary first-year, at a Dutch primary school since 2018: N', [], '2018-08-20', '2018-08-20', 'N'],
    ['first enrolment in the seventh quarter before (Q1 2025)', [], '2025-03-31', '2025-03-31', 'J'],
    ['first enrolment in the eighth quarter before (Q4 2024)', [], '2024-12-31', '2024-12-31', 'J'],
    ['first enrolment in the ninth quarter before (Q3 2024): the term has passed', [], '2024-09-30', '2024-09-30', 'N'],
    ['newly arrived this summer (Q3 2026), counted from the next quarter', [], '2026-08-20', '2026-08-20', 'J'],
    [
      "an enrolment here before the register's day counts from that enrolment",
      [leftSchool],
      '2026-08-20',
      '2024-03-01',
      'N',
    ],
  ] as const)('%s', (_name, others, recorded, first, indication) => {
    const status = fundingStatus(firstYear, [...others], '2026-11-27', undefined, recorded);
    expect(status.peildatum).toBe('2026-10-01');
    expect(status.datumEersteInschrijvingNL).toBe(first);
    expect(status.indicatieNieuwkomersbekostiging).toBe(indication);
  });

  test("an onderwijsnummer: the school's own indication, dated from its earliest enrolment here", () => {
    const own = at('25BE', stand('OWN', [period('2026-08-20', { indicatieNieuwkomersbekostiging: 'J' })]));
    expect(fundingStatus(own, [], '2026-11-27', undefined, '2018-08-20')).toMatchObject({
      datumEersteInschrijvingNL: '2026-08-20',
      indicatieNieuwkomersbekostiging: 'J',
    });
  });
});
