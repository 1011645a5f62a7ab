import { mutationFromOptions } from '../../src/operator/cli/population-mutate.command.js';

describe('population mutate options', () => {
  test("an address, in the schema's field order, with the postcode normalised", () => {
    expect(
      mutationFromOptions({
        bsn: '123456782',
        city: 'Groningen',
        postcode: '9711 kt',
        street: 'Vismarkt',
        houseNumber: '7',
      }),
    ).toEqual({
      bsn: '123456782',
      address: {
        binnenlandsAdres: { straatnaam: 'Vismarkt', huisnummer: '7', postcode: '9711KT', plaatsnaam: 'Groningen' },
      },
    });
    expect(
      Object.keys(
        (
          mutationFromOptions({ bsn: '123456782', city: 'X', houseNumber: '7', street: 'S' }).address as {
            binnenlandsAdres: object;
          }
        ).binnenlandsAdres,
      ),
    ).toEqual(['straatnaam', 'huisnummer', 'plaatsnaam']);
  });

  test('a puntadres, a name and a date of death together', () => {
    expect(
      mutationFromOptions({
        bsn: '123456782',
        puntadres: true,
        city: 'Groningen',
        surname: 'Vries',
        prefixes: 'de',
        dateOfDeath: '2026-03-01',
      }),
    ).toEqual({
      bsn: '123456782',
      name: { achternaam: 'Vries', voorvoegsels: 'de' },
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
      datumOverlijden: '2026-03-01',
    });
  });

  test.each([
    ['a BSN failing the elfproef', { bsn: '123456789', dateOfDeath: '2026-03-01' }, 'elfproef'],
    ['nothing to change', { bsn: '123456782' }, 'nothing to change'],
    ['prefixes without a surname', { bsn: '123456782', prefixes: 'de' }, '--surname'],
    [
      'a puntadres with a street',
      { bsn: '123456782', puntadres: true, street: 'Vismarkt', city: 'Groningen' },
      '--puntadres',
    ],
    ['a puntadres without a city', { bsn: '123456782', puntadres: true }, '--city'],
    ['an address without a city', { bsn: '123456782', street: 'Vismarkt' }, '--city'],
    ['a date that does not exist', { bsn: '123456782', dateOfDeath: '2026-02-30' }, 'YYYY-MM-DD'],
    [
      'a month that does not exist (no RangeError from the date check)',
      { bsn: '123456782', dateOfDeath: '2026-13-01' },
      'YYYY-MM-DD',
    ],
  ])('refuses %s', (_name, options, message) => {
    expect(() => mutationFromOptions(options)).toThrow(message);
  });
});
