import { isValidBsn, isValidOnderwijsnummer, maskedPgn, nextOnderwijsnummer } from '../../src/register/pgn.js';

describe('personal numbers', () => {
  test.each(['123456782', '111222333', '999999990'])('%s passes the elfproef', (bsn) => {
    expect(isValidBsn(bsn)).toBe(true);
  });

  test.each(['123456789', '12345678', '1234567820', '12345678a', '000000000'])('%s fails the elfproef', (bsn) => {
    expect(isValidBsn(bsn)).toBe(false);
  });

  test('the onderwijsnummer check is the same sum ≡ 5 (mod 11), also for sums that go negative', () => {
    expect(isValidOnderwijsnummer('100000004')).toBe(true); // 9·1 − 4 = 5
    expect(isValidOnderwijsnummer('000000006')).toBe(true); // −6 ≡ 5 (mod 11)
    expect(isValidOnderwijsnummer('100000009')).toBe(false); // 9·1 − 9 = 0: that is a BSN
    expect(isValidBsn('100000009')).toBe(true);
  });

  test('onderwijsnummer and BSN checks exclude each other', () => {
    for (let n = 100_000_000; n < 100_000_200; n++) {
      const value = String(n);
      expect(isValidBsn(value) && isValidOnderwijsnummer(value)).toBe(false);
    }
  });

  test('assigned onderwijsnummers pass the check and are increasing', () => {
    const first = nextOnderwijsnummer(100_000_000);
    const second = nextOnderwijsnummer(Number(first) + 1);
    expect(isValidOnderwijsnummer(first)).toBe(true);
    expect(isValidOnderwijsnummer(second)).toBe(true);
    expect(Number(second)).toBeGreaterThan(Number(first));
  });

  test('masking keeps three digits', () => {
    expect(maskedPgn('123456782')).toBe('******782');
  });
});
