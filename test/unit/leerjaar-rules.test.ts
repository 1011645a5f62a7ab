import type { PeriodVO } from '../../src/register/enrolment.js';
import {
  ageFinding,
  ageOn,
  ageSignals,
  firstAugustOf,
  leerjaarStepSignals,
} from '../../src/register/leerjaar-rules.js';

const period = (overrides: Partial<PeriodVO> = {}): PeriodVO => ({
  datumBegin: '2026-08-20',
  opleidingcode: '0050',
  aanvullendeOpleidingen: [],
  vestiging: '25BE00',
  leerjaar: 1,
  indicatieBekostigbaar: true,
  experimenten: [],
  ...overrides,
});

describe('age on 1 August of the school year', () => {
  test.each([
    ['a period in August', '2026-08-20', '2026-08-01'],
    ['a period on 1 August itself', '2026-08-01', '2026-08-01'],
    ['a period on 31 July belongs to the year before', '2027-07-31', '2026-08-01'],
    ['a period in January', '2027-01-15', '2026-08-01'],
  ])('%s counts from %s', (_name, begin, expected) => {
    expect(firstAugustOf(begin)).toBe(expected);
  });

  test.each([
    ['birthday on 1 August: a year older that day', '2010-08-01', 16],
    ['birthday on 31 July: older the day before', '2010-07-31', 16],
    ['birthday on 2 August: not yet', '2010-08-02', 15],
  ])('%s', (_name, birthDate, age) => {
    expect(ageOn(birthDate, '2026-08-01')).toBe(age);
  });
});

describe('age per leerjaar (handleiding: leerjaar 1–3 + 15, 4–6 + 17, not younger than 9, praktijkonderwijs up to 20)', () => {
  test.each([
    // leerjaar 1–3: too old when leerjaar + 15 < age
    [1, 17, '0050', 'te-oud'],
    [1, 16, '0050', null],
    [3, 19, '0050', 'te-oud'],
    [3, 18, '0050', null],
    // leerjaar 4–6: too old when leerjaar + 17 < age
    [4, 22, '0050', 'te-oud'],
    [4, 21, '0050', null],
    [6, 24, '0050', 'te-oud'],
    [6, 23, '0050', null],
    // leerjaar 3 and 4 on either side of the change of limit
    [3, 20, '0050', 'te-oud'],
    [4, 20, '0050', null],
    // younger than 9 whatever the leerjaar; 9 is fine
    [1, 8, '0050', 'te-jong'],
    [1, 9, '0050', null],
    [undefined, 8, '0050', 'te-jong'],
    // no leerjaar, or one outside 1–6: no upper limit
    [undefined, 30, '0050', null],
    [7, 30, '0050', null],
    [0, 30, '0050', null],
    // praktijkonderwijs: out of both checks, but not older than 20
    [1, 20, '0090', null],
    [1, 21, '0090', 'praktijkonderwijs-te-oud'],
    [1, 8, '0090', null],
    [undefined, 21, '0090', 'praktijkonderwijs-te-oud'],
  ] as const)('leerjaar %s, age %s, opleiding %s → %s', (leerjaar, age, opleidingcode, expected) => {
    expect(ageFinding(age, { leerjaar, opleidingcode })).toBe(expected);
  });

  test.each([
    ['17 on 1 August in leerjaar 1 (born on 1 August)', '2009-08-01', period(), ['I0030']],
    ['16 on 1 August in leerjaar 1 (born a day later)', '2009-08-02', period(), []],
    ['17 on 1 August in leerjaar 1 (born on 31 July)', '2009-07-31', period(), ['I0030']],
    ['8 on 1 August (turns 9 the day after)', '2017-08-02', period(), ['I0031']],
    ['9 on 1 August (born on 1 August)', '2017-08-01', period(), []],
    ['praktijkonderwijs, 21 on 1 August', '2005-08-01', period({ opleidingcode: '0090' }), ['I0032']],
    ['praktijkonderwijs, 20 on 1 August', '2005-08-02', period({ opleidingcode: '0090' }), []],
    [
      'a period in June counts on the previous 1 August (16 then, 17 on the next)',
      '2009-08-01',
      period({ datumBegin: '2026-06-01' }),
      [],
    ],
  ] as const)('%s', (_name, birthDate, p, expected) => {
    expect(ageSignals([p], birthDate).map((s) => s.code)).toEqual(expected);
  });

  test('an unknown birth date checks nothing; the signal names the period and leerjaar', () => {
    expect(ageSignals([period()], undefined)).toEqual([]);
    expect(ageSignals([period()], '2000-01-01')[0]!.sleutelgegevens).toEqual([
      { naam: 'datumBegin', waarde: '2026-08-20' },
      { naam: 'leerjaar', waarde: '1' },
    ]);
  });
});

describe('leerjaar against the directly preceding period', () => {
  const two = (a: Partial<PeriodVO>, b: Partial<PeriodVO>) =>
    leerjaarStepSignals([period({ datumBegin: '2027-08-20', ...b }), period(a)]).map((s) => s.code);
  test.each([
    ['up by one', { leerjaar: 1 }, { leerjaar: 2 }, []],
    ['the same', { leerjaar: 2 }, { leerjaar: 2 }, []],
    ['down by one (doubling back)', { leerjaar: 3 }, { leerjaar: 2 }, []],
    ['up by two', { leerjaar: 1 }, { leerjaar: 3 }, ['I0033']],
    ['down by two', { leerjaar: 4 }, { leerjaar: 2 }, ['I0033']],
    ['a leerjaar missing on either side', { leerjaar: undefined }, { leerjaar: 5 }, []],
    ['the later period praktijkonderwijs', { leerjaar: 1 }, { leerjaar: 4, opleidingcode: '0090' }, []],
    ['the earlier period praktijkonderwijs', { leerjaar: 1, opleidingcode: '0090' }, { leerjaar: 4 }, []],
    [
      'the later period in Versneld programma VWO',
      { leerjaar: 1 },
      { leerjaar: 3, experimenten: ['VERSNELD_PROGRAMMA_VWO'] },
      [],
    ],
    [
      'the earlier period in Versneld programma VWO',
      { leerjaar: 1, experimenten: ['VERSNELD_PROGRAMMA_VWO'] },
      { leerjaar: 3 },
      [],
    ],
    ['another experiment does not exempt', { leerjaar: 1, experimenten: ['TECHNASIUM'] }, { leerjaar: 3 }, ['I0033']],
  ] as const)('%s', (_name, a, b, expected) => {
    expect(two(a, b)).toEqual(expected);
  });

  test('only the directly preceding period counts, in date order whatever the delivered order', () => {
    const perioden = [
      period({ datumBegin: '2028-08-20', leerjaar: 3 }),
      period({ leerjaar: 1 }),
      period({ datumBegin: '2027-08-20', leerjaar: 2 }),
    ];
    expect(leerjaarStepSignals(perioden)).toEqual([]);
    const signals = leerjaarStepSignals([
      period({ leerjaar: 1 }),
      period({ datumBegin: '2027-08-20', leerjaar: 2 }),
      period({ datumBegin: '2028-08-20', leerjaar: 5 }),
    ]);
    expect(signals.map((s) => s.sleutelgegevens)).toEqual([
      [
        { naam: 'datumBegin', waarde: '2028-08-20' },
        { naam: 'leerjaar', waarde: '5' },
        { naam: 'leerjaarVorigePeriode', waarde: '2' },
      ],
    ]);
  });
});
