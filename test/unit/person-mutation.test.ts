import { applyMutation, type MutableDetails, sameDetails } from '../../src/register/person-mutation.js';

const anna: MutableDetails & { bsn: string } = {
  bsn: '123456782',
  surname: 'Jansen',
  prefixes: 'van',
  firstNames: 'Anna',
  address: {
    binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '12', postcode: '9712AB', plaatsnaam: 'Groningen' },
  },
  dateOfDeath: null,
};

describe('applying a population-register mutation', () => {
  test('a new name replaces the whole name: prefixes left out are removed', () => {
    expect(applyMutation(anna, { bsn: anna.bsn, name: { achternaam: 'Vries', voornamen: 'Anna Maria' } })).toEqual({
      ...anna,
      surname: 'Vries',
      prefixes: null,
      firstNames: 'Anna Maria',
    });
  });

  test('a puntadres replaces the address; name and other data stay', () => {
    const puntadres = { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } };
    expect(applyMutation(anna, { bsn: anna.bsn, address: puntadres })).toEqual({ ...anna, address: puntadres });
  });

  test('a date of death is added; the rest stays', () => {
    expect(applyMutation(anna, { bsn: anna.bsn, datumOverlijden: '2026-03-01' })).toEqual({
      ...anna,
      dateOfDeath: '2026-03-01',
    });
  });

  test('the recorded first enrolment at a PO or VO school, which no mutation carries, is kept', () => {
    const pupil = { ...anna, firstEnrolmentPoVo: '2017-04-18' };
    expect(
      applyMutation(pupil, { bsn: anna.bsn, name: { achternaam: 'Vries' }, datumOverlijden: '2026-03-01' })
        .firstEnrolmentPoVo,
    ).toBe('2017-04-18');
  });

  test('the same address in another field order changes nothing', () => {
    const reordered = {
      binnenlandsAdres: { plaatsnaam: 'Groningen', postcode: '9712AB', huisnummer: '12', straatnaam: 'Kerkstraat' },
    };
    expect(sameDetails(anna, applyMutation(anna, { bsn: anna.bsn, address: reordered }))).toBe(true);
  });

  test.each([
    [
      'another house number',
      {
        address: {
          binnenlandsAdres: {
            ...(anna.address as { binnenlandsAdres: Record<string, string> }).binnenlandsAdres,
            huisnummer: '14',
          },
        },
      },
    ],
    [
      'an address abroad',
      { address: { buitenlandsAdres: { adresregelBuitenland1: 'Rue de la Loi 16', landcode: '5010' } } },
    ],
    ['the same surname without prefixes', { name: { achternaam: 'Jansen', voornamen: 'Anna' } }],
    ['a date of death', { datumOverlijden: '2026-03-01' }],
  ])('%s is a change', (_name, change) => {
    expect(sameDetails(anna, applyMutation(anna, { bsn: anna.bsn, ...change }))).toBe(false);
  });

  test('the same name, address and date again is no change', () => {
    const dead = { ...anna, dateOfDeath: '2026-03-01' };
    expect(
      sameDetails(
        dead,
        applyMutation(dead, {
          bsn: anna.bsn,
          name: { achternaam: 'Jansen', voorvoegsels: 'van', voornamen: 'Anna' },
          datumOverlijden: '2026-03-01',
        }),
      ),
    ).toBe(true);
  });
});
