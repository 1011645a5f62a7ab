import type { PeriodVO } from '../../src/register/enrolment.js';
import {
  latestPeriod,
  onderwijslocatieSignals,
  type RioLink,
  rioRequiredSignals,
} from '../../src/register/rio-rules.js';

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

describe('RIO fields are required in every period', () => {
  test.each([
    ['both present', [period()], []],
    ['onderwijsaanbieder missing', [period({ onderwijsaanbieder: undefined })], [['2026-08-20', 'onderwijsaanbieder']]],
    ['onderwijslocatie missing', [period({ onderwijslocatie: undefined })], [['2026-08-20', 'onderwijslocatie']]],
    [
      'both missing: one signal each',
      [period({ onderwijsaanbieder: undefined, onderwijslocatie: undefined })],
      [
        ['2026-08-20', 'onderwijsaanbieder'],
        ['2026-08-20', 'onderwijslocatie'],
      ],
    ],
    [
      'only a later period missing one',
      [period(), period({ datumBegin: '2027-08-20', onderwijslocatie: undefined })],
      [['2027-08-20', 'onderwijslocatie']],
    ],
  ] as const)('%s', (_name, perioden, expected) => {
    const signals = rioRequiredSignals(perioden);
    expect(signals.every((s) => s.code === 'I0034' && s.ernst === 'A')).toBe(true);
    expect(signals.map((s) => s.sleutelgegevens.map((k) => k.waarde))).toEqual(expected);
  });
});

describe("the onderwijslocatie belongs to the vestiging on the latest period's begin date", () => {
  const link = (overrides: Partial<RioLink> = {}): RioLink => ({
    vestiging: '25BE00',
    onderwijslocatie: '100X300',
    ...overrides,
  });
  test.each([
    ['the stand-in has no links at all: not checked', [period({ onderwijslocatie: '999X999' })], [], []],
    [
      'the stand-in has links only for another vestiging: not checked',
      [period({ onderwijslocatie: '999X999' })],
      [link({ vestiging: '25BE01', onderwijslocatie: '999X998' })],
      [],
    ],
    ['linked, open-ended', [period()], [link()], []],
    ["another of the vestiging's locaties", [period({ onderwijslocatie: '100X301' })], [link()], ['I0035']],
    [
      'the locatie belongs to another vestiging',
      [period({ onderwijslocatie: '100X301' })],
      [link(), link({ vestiging: '25BE01', onderwijslocatie: '100X301' })],
      ['I0035'],
    ],
    ['link starts on the begin date', [period()], [link({ datumBegin: '2026-08-20' })], []],
    ['link starts the day after', [period()], [link({ datumBegin: '2026-08-21' })], ['I0035']],
    ['link ends on the begin date (last day included)', [period()], [link({ datumEinde: '2026-08-20' })], []],
    ['link ended the day before', [period()], [link({ datumEinde: '2026-08-19' })], ['I0035']],
    [
      'only the latest period counts: an earlier wrong locatie is not signalled',
      [period({ onderwijslocatie: '999X999' }), period({ datumBegin: '2027-08-20' })],
      [link()],
      [],
    ],
    [
      'the latest by date, not by delivered order',
      [period({ datumBegin: '2027-08-20', onderwijslocatie: '999X999' }), period()],
      [link()],
      ['I0035'],
    ],
    ['the latest period without a locatie: left to I0034', [period({ onderwijslocatie: undefined })], [link()], []],
  ] as const)('%s', (_name, perioden, links, expected) => {
    expect(onderwijslocatieSignals(perioden, links).map((s) => s.code)).toEqual(expected);
  });

  test('the signal names the period, vestiging and onderwijslocatie; a warning', () => {
    const [found] = onderwijslocatieSignals([period({ onderwijslocatie: '100X301' })], [link()]);
    expect(found).toMatchObject({
      code: 'I0035',
      ernst: 'W',
      sleutelgegevens: [
        { naam: 'datumBegin', waarde: '2026-08-20' },
        { naam: 'vestiging', waarde: '25BE00' },
        { naam: 'onderwijslocatie', waarde: '100X301' },
      ],
    });
    expect(latestPeriod([])).toBeUndefined();
  });
});
