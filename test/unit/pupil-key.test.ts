import { isPgnShaped, maskPgn, pgnsIn, pupilKey } from '../../src/infra/pupil-key.js';

describe('pupil key (keyed hash of a PGN)', () => {
  test('the same PGN and key give the same key; another key or PGN another; the PGN is not in it', () => {
    const key = pupilKey('k'.repeat(32), '123456782');
    expect(pupilKey('k'.repeat(32), ' 123456782 ')).toEqual(key);
    expect(pupilKey('l'.repeat(32), '123456782')).not.toEqual(key);
    expect(pupilKey('k'.repeat(32), '111222333')).not.toEqual(key);
    expect(key).toHaveLength(32);
    expect(key.toString('hex')).not.toContain('123456782');
  });

  test('masked to the last four digits', () => {
    expect(maskPgn('123456782')).toBe('*****6782');
    expect(isPgnShaped('123456782')).toBe(true);
    expect(isPgnShaped('12345678')).toBe(false);
    expect(isPgnShaped('12345678a')).toBe(false);
  });

  test('finds BSNs and onderwijsnummers under any prefix, in CDATA, once each, and nothing else', () => {
    const xml =
      '<a:burgerservicenummer>123456782</a:burgerservicenummer><onderwijsnummer><![CDATA[ 100000004 ]]></onderwijsnummer>' +
      '<b:burgerservicenummer>123456782</b:burgerservicenummer><b:postcode>123456789</b:postcode><c:burgerservicenummerX>111222333</c:burgerservicenummerX>';
    expect(pgnsIn(xml, '<t:onderwijsnummer>700000005</t:onderwijsnummer>')).toEqual([
      '123456782',
      '100000004',
      '700000005',
    ]);
    expect(pgnsIn('<x/>')).toEqual([]);
  });
});
