import { createHmac } from 'node:crypto';

/**
 * The pupil index's key for a PGN (BSN or onderwijsnummer): HMAC-SHA256 with the broker's secret
 * TRACE_KEY. Without the key a stolen index cannot be reversed by hashing all 10^9 numbers, and the
 * PGN itself is never stored in the index.
 */
export function pupilKey(traceKey: string, pgn: string): Buffer {
  return createHmac('sha256', traceKey).update(pgn.trim()).digest();
}

/** A PGN for display: only its last four digits (`*****6782`), wherever an operator sees it. */
export function maskPgn(pgn: string): string {
  const digits = pgn.trim();
  return `*****${digits.slice(-4)}`;
}

/** A PGN is nine digits; anything else cannot be in the index. */
export const isPgnShaped = (value: string): boolean => /^\d{9}$/.test(value.trim());

const PGN_ELEMENT =
  /<(?:[\w.-]+:)?(?:burgerservicenummer|onderwijsnummer)(?:\s[^>]*)?>\s*(?:<!\[CDATA\[\s*)?(\d{9})\s*(?:\]\]>\s*)?</g;

/** Every distinct PGN in XML text (burgerservicenummer / onderwijsnummer elements), in order of appearance. */
export function pgnsIn(...xmlTexts: readonly string[]): string[] {
  const found = new Set<string>();
  for (const xml of xmlTexts) for (const match of xml.matchAll(PGN_ELEMENT)) found.add(match[1]!);
  return [...found];
}
