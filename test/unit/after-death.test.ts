/** A delivered enrolment against the registered date of death (P0002 in the terugkoppeling). */
import { afterDeathSignals } from '../../src/register/after-death.js';
import { isRejected } from '../../src/register/signals.js';

const stand = (datumUitschrijving?: string) => ({
  inschrijvingvolgnummer: 'V-7',
  ...(datumUitschrijving ? { datumUitschrijving } : {}),
});

describe('enrolment running past the registered date of death', () => {
  test.each([
    ['alive (no date of death)', undefined, null, []],
    ['no out-date', undefined, '2026-03-01', ['P0002']],
    ['out-date the day after death', '2026-03-02', '2026-03-01', ['P0002']],
    ['out-date on the date of death', '2026-03-01', '2026-03-01', []],
    ['out-date before the date of death', '2026-02-28', '2026-03-01', []],
  ])('%s → %j', (_name, out, dateOfDeath, codes) => {
    expect(afterDeathSignals(stand(out), dateOfDeath).map((s) => s.code)).toEqual(codes);
  });

  test('a warning naming the volgnummer, never a rejection', () => {
    const signals = afterDeathSignals(stand(), '2026-03-01');
    expect(signals.map((s) => [s.ernst, s.sleutelgegevens])).toEqual([
      ['W', [{ naam: 'inschrijvingvolgnummer', waarde: 'V-7' }]],
    ]);
    expect(isRejected(signals)).toBe(false);
  });
});
