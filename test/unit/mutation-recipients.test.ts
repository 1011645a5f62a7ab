import { continuesAfterDeath, isActiveEnrolment, mutationRecipients } from '../../src/register/mutation-recipients.js';
import type { Pgn } from '../../src/register/pgn.js';

const ADMIN = '00000003123456780000';
const OTHER_ADMIN = '00000003999999990000';
const BSN: Pgn = { kind: 'BSN', value: '123456782' };
const enrolment = (
  brin: string,
  volgnummer: string,
  datumInschrijving: string,
  datumUitschrijving?: string,
  administrationOin: string | null = ADMIN,
  pgn: Pgn = BSN,
) => ({
  brin,
  inschrijvingvolgnummer: volgnummer,
  datumInschrijving,
  ...(datumUitschrijving !== undefined ? { datumUitschrijving } : {}),
  administrationOin,
  pgn,
});
const TODAY = '2026-11-27';

describe('active enrolment (datumUitschrijving is the last day the enrolment is valid)', () => {
  test.each([
    ['no out-date', undefined, true],
    ['out-date tomorrow', '2026-11-28', true],
    ['out-date today: its last day', TODAY, true],
    ['out-date yesterday', '2026-11-26', false],
  ])('%s → %s', (_name, out, active) => {
    expect(isActiveEnrolment(out === undefined ? {} : { datumUitschrijving: out }, TODAY)).toBe(active);
  });

  test('an enrolment starting in the future is active', () => {
    expect(mutationRecipients([enrolment('31AA', '1', '2027-08-20')], TODAY, null)).toEqual([
      { brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: [] },
    ]);
  });
});

describe('enrolment continuing after the date of death', () => {
  test.each([
    ['no out-date', undefined, true],
    ['out-date the day after death', '2026-03-02', true],
    ['out-date on the date of death', '2026-03-01', false],
    ['out-date the day before death', '2026-02-28', false],
  ])('%s → %s', (_name, out, continues) => {
    expect(continuesAfterDeath(out === undefined ? {} : { datumUitschrijving: out }, '2026-03-01')).toBe(continues);
  });
});

describe('who receives a mutation', () => {
  test('every BRIN with an active enrolment, once, ordered; ended enrolments are left out', () => {
    const recipients = mutationRecipients(
      [
        enrolment('32AA', 'b', '2024-08-20'),
        enrolment('31AA', 'a', '2023-08-20', '2099-07-31'),
        enrolment('33AA', 'c', '2019-08-20', '2023-07-31'),
        enrolment('32AA', 'b2', '2025-08-20', TODAY),
      ],
      TODAY,
      null,
    );
    expect(recipients).toEqual([
      { brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: [] },
      { brin: '32AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: [] },
    ]);
  });

  test('nobody when every enrolment has ended (the last one yesterday)', () => {
    expect(mutationRecipients([enrolment('33AA', 'c', '2019-08-20', '2026-11-26')], TODAY, null)).toEqual([]);
  });

  test('a date of death: a signal for each enrolment running on after it, none for one ending on it', () => {
    const recipients = mutationRecipients(
      [
        enrolment('31AA', 'a', '2024-08-20'),
        enrolment('31AA', 'a2', '2024-08-20', '2026-03-01'),
        enrolment('33AA', 'c', '2019-08-20', '2026-03-01'),
      ],
      TODAY,
      '2026-03-01',
    );
    expect(recipients).toEqual([{ brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: ['a'] }]);
  });

  test('an ended enrolment that ran on after the death is told too, so the school can correct it', () => {
    const recipients = mutationRecipients([enrolment('34AA', 'd', '2024-08-20', '2026-04-01')], TODAY, '2026-03-01');
    expect(recipients).toEqual([{ brin: '34AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: ['d'] }]);
  });

  test('an active enrolment that ends on a (future) date of death is told without a signal', () => {
    const recipients = mutationRecipients([enrolment('31AA', 'a', '2024-08-20', '2027-01-15')], TODAY, '2027-01-15');
    expect(recipients).toEqual([{ brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: [] }]);
  });

  test('an enrolment starting after the date of death runs on after it', () => {
    expect(mutationRecipients([enrolment('31AA', 'a', '2026-08-20', '2027-07-31')], TODAY, '2026-03-01')).toEqual([
      { brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: ['a'] },
    ]);
  });

  test.each([
    [
      'one administration, two enrolments: one recipient',
      [ADMIN, ADMIN],
      [{ brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: ['a', 'b'] }],
    ],
    [
      'two administrations of one BRIN: each is told of its own enrolment only',
      [ADMIN, OTHER_ADMIN],
      [
        { brin: '31AA', administrationOin: ADMIN, pgn: BSN, volgnummersAfterDeath: ['a'] },
        { brin: '31AA', administrationOin: OTHER_ADMIN, pgn: BSN, volgnummersAfterDeath: ['b'] },
      ],
    ],
    [
      'no institution serves the BRIN: a recipient without an administration',
      [null, null],
      [{ brin: '31AA', administrationOin: null, pgn: BSN, volgnummersAfterDeath: ['a', 'b'] }],
    ],
  ])('%s', (_name, administrations, expected) => {
    const recipients = mutationRecipients(
      [
        enrolment('31AA', 'b', '2024-08-20', undefined, administrations[1] ?? null),
        enrolment('31AA', 'a', '2024-08-20', undefined, administrations[0] ?? null),
      ],
      TODAY,
      '2026-03-01',
    );
    expect(recipients).toEqual(expected);
  });

  test.each<[string, Pgn[], Pgn]>([
    [
      'every enrolment under the linked onderwijsnummer: that number',
      [{ kind: 'OWN', value: '100000004' }],
      { kind: 'OWN', value: '100000004' },
    ],
    ['one under the BSN, one under the onderwijsnummer: the BSN', [{ kind: 'OWN', value: '100000004' }, BSN], BSN],
    [
      'two linked onderwijsnummers: the lowest',
      [
        { kind: 'OWN', value: '100000016' },
        { kind: 'OWN', value: '100000004' },
      ],
      { kind: 'OWN', value: '100000004' },
    ],
  ])('the number the school is told under: %s', (_name, pgns, expected) => {
    const recipients = mutationRecipients(
      pgns.map((pgn, i) => enrolment('31AA', `v${i}`, '2024-08-20', undefined, ADMIN, pgn)),
      TODAY,
      null,
    );
    expect(recipients.map((r) => r.pgn)).toEqual([expected]);
  });
});
