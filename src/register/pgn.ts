/**
 * Personal numbers (PGN): the BSN and the onderwijsnummer share one nine-digit weighted check
 * (9·d1 + 8·d2 + … + 2·d8 − 1·d9); a BSN's sum is 0 modulo 11, an onderwijsnummer's 5.
 */

/** A person's number as delivered: BSN or onderwijsnummer (OWN). */
export interface Pgn {
  readonly kind: 'BSN' | 'OWN';
  readonly value: string;
}

function weightedRemainder(digits: string): number | null {
  if (!/^\d{9}$/.test(digits)) return null;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(digits[i]);
  sum -= Number(digits[8]);
  return ((sum % 11) + 11) % 11; // a negative sum still gives a remainder in 0..10
}

/** The BSN "elfproef": 9·d1 + … + 2·d8 − d9 ≡ 0 (mod 11). */
export function isValidBsn(value: string): boolean {
  return weightedRemainder(value) === 0 && value !== '000000000';
}

/** The onderwijsnummer check: the same weighted sum ≡ 5 (mod 11). */
export function isValidOnderwijsnummer(value: string): boolean {
  return weightedRemainder(value) === 5;
}

export function isValidPgn(pgn: Pgn): boolean {
  return pgn.kind === 'BSN' ? isValidBsn(pgn.value) : isValidOnderwijsnummer(pgn.value);
}

/** A PGN for texts that may be read by others: only the last three digits. */
export function maskedPgn(value: string): string {
  return `******${value.slice(-3)}`;
}

/**
 * The next valid onderwijsnummer at or after `start` (for assigning new ones); eight free digits and a
 * check digit, so at most ten candidates share a prefix.
 */
export function nextOnderwijsnummer(start: number): string {
  for (let candidate = start; candidate < 1_000_000_000; candidate++) {
    const value = String(candidate).padStart(9, '0');
    if (isValidOnderwijsnummer(value)) return value;
  }
  throw new Error('onderwijsnummer range exhausted');
}
