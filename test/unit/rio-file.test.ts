import { brinSectorsOf, opleidingNiveausOf, rioLinksOf } from '../../src/operator/cli/rio.command.js';

describe('a RIO stand-in file (bron-broker rio load)', () => {
  test('valid records become links; dates are optional', () => {
    expect(
      rioLinksOf([
        { vestiging: '25BE00', onderwijslocatie: '100X300' },
        { vestiging: '25BE01', onderwijslocatie: '100X301', datumBegin: '2024-08-01', datumEinde: '2024-08-01' },
      ]),
    ).toEqual([
      { vestiging: '25BE00', onderwijslocatie: '100X300' },
      { vestiging: '25BE01', onderwijslocatie: '100X301', datumBegin: '2024-08-01', datumEinde: '2024-08-01' },
    ]);
    expect(rioLinksOf([])).toEqual([]);
  });

  test.each([
    ['not an array', { vestiging: '25BE00' }, 'the file must hold a JSON array'],
    [
      'a vestiging in lower case',
      [{ vestiging: '25be00', onderwijslocatie: '100X300' }],
      'record 1: vestiging must be a BRIN and two digits',
    ],
    [
      'a BRIN without vestiging digits',
      [{ vestiging: '25BE', onderwijslocatie: '100X300' }],
      'record 1: vestiging must be a BRIN and two digits',
    ],
    [
      'an onderwijsaanbieder code for a locatie',
      [{ vestiging: '25BE00', onderwijslocatie: '100A300' }],
      'record 1: onderwijslocatie must be three digits, X, three digits',
    ],
    [
      'a date that does not exist',
      [{ vestiging: '25BE00', onderwijslocatie: '100X300', datumBegin: '2024-13-01' }],
      'record 1: datumBegin must be YYYY-MM-DD',
    ],
    [
      'an end before the begin',
      [{ vestiging: '25BE00', onderwijslocatie: '100X300', datumBegin: '2026-08-01', datumEinde: '2026-07-31' }],
      'record 1: datumEinde lies before datumBegin',
    ],
    [
      'the same link twice',
      [
        { vestiging: '25BE00', onderwijslocatie: '100X300' },
        { vestiging: '25BE00', onderwijslocatie: '100X300' },
      ],
      'record 2: 25BE00/100X300 appears twice',
    ],
  ])('refused: %s', (_name, entries, message) => {
    expect(() => rioLinksOf(entries)).toThrow(message);
  });
});

describe('an opleiding-niveau file (bron-broker rio niveaus)', () => {
  test('valid records pass as they are', () => {
    expect(
      opleidingNiveausOf([
        { opleidingcode: '0050', niveau: 'HAVO' },
        { opleidingcode: '0060', niveau: 'VMBO_TL' },
      ]),
    ).toEqual([
      { opleidingcode: '0050', niveau: 'HAVO' },
      { opleidingcode: '0060', niveau: 'VMBO_TL' },
    ]);
  });

  test.each([
    ['not an array', { opleidingcode: '0050' }, 'the file must hold a JSON array'],
    ['a code of three characters', [{ opleidingcode: '050', niveau: 'HAVO' }], 'record 1: opleidingcode must be four'],
    ['an unknown niveau', [{ opleidingcode: '0050', niveau: 'VMBO-TL' }], 'record 1: niveau must be one of'],
    [
      'a code twice',
      [
        { opleidingcode: '0050', niveau: 'HAVO' },
        { opleidingcode: '0050', niveau: 'VWO' },
      ],
      'record 2: opleidingcode 0050 appears twice',
    ],
  ])('refuses %s', (_name, entries, message) => {
    expect(() => opleidingNiveausOf(entries)).toThrow(message);
  });
});

describe('a BRIN-sector file (bron-broker rio sectors)', () => {
  test('valid records pass as they are', () => {
    expect(
      brinSectorsOf([
        { brin: '12VS', sector: 'VSO' },
        { brin: '13VA', sector: 'VAVO' },
        { brin: '25BE', sector: 'VO' },
      ]),
    ).toEqual([
      { brin: '12VS', sector: 'VSO' },
      { brin: '13VA', sector: 'VAVO' },
      { brin: '25BE', sector: 'VO' },
    ]);
  });

  test.each([
    ['not an array', { brin: '12VS' }, 'the file must hold a JSON array'],
    ['a BRIN with its vestiging digits', [{ brin: '12VS00', sector: 'VSO' }], 'record 1: brin must be two digits'],
    [
      'a sector the message does not know',
      [{ brin: '12VS', sector: 'MBO' }],
      'record 1: sector must be one of VO, VSO, VAVO',
    ],
    [
      'a BRIN twice',
      [
        { brin: '12VS', sector: 'VSO' },
        { brin: '12VS', sector: 'VO' },
      ],
      'record 2: brin 12VS appears twice',
    ],
  ])('refuses %s', (_case, entries, reason) => {
    expect(() => brinSectorsOf(entries)).toThrow(reason);
  });
});
