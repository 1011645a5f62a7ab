import { type RefusalKind, SignatureRefusedError } from './wss-refusal.js';

/** How fresh a signed message's wsu:Timestamp must be. */
export interface TimestampRules {
  /** How long after its Created a message is accepted. */
  readonly ttlMs: number;
  /** Clock difference tolerated between signer and broker, either way. */
  readonly skewMs: number;
  /** Whether wsu:Expires must be present. */
  readonly expiresRequired: boolean;
}

/** Requests (WS-Security profile): 300 s after Created, 60 s of skew; Expires optional. */
export const REQUEST_TIMESTAMP: TimestampRules = { ttlMs: 300_000, skewMs: 60_000, expiresRequired: false };

/** Schools' receipts: 300 s after Created, five minutes of skew either way (their clocks vary); Expires required. */
export const RECEIPT_TIMESTAMP: TimestampRules = { ttlMs: 300_000, skewMs: 300_000, expiresRequired: true };

/**
 * How long a signed request can pass the timestamp check after the broker first saw it: one created
 * a skew ahead of the broker's clock is good for TTL plus skew after that. Replay records live this long.
 */
export const REPLAY_WINDOW_MS = REQUEST_TIMESTAMP.ttlMs + 2 * REQUEST_TIMESTAMP.skewMs;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

const timestampFault = (reason: string, kind: RefusalKind = 'timestamp'): SignatureRefusedError =>
  new SignatureRefusedError(kind, reason, 'Timestamp');

function instant(name: string, value: string): number {
  const time = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw timestampFault(`wsu:${name} '${value.slice(0, 40)}' is not an xsd:dateTime with a zone`);
  return time;
}

/**
 * Checks a signed wsu:Timestamp: Created at most a skew in the future and at most TTL plus skew old;
 * Expires (when given, or required) after Created and not passed by more than the skew.
 */
export function checkTimestamp(
  created: string | undefined,
  expires: string | undefined,
  now: Date,
  rules: TimestampRules = REQUEST_TIMESTAMP,
): void {
  const { ttlMs, skewMs } = rules;
  if (created === undefined) throw timestampFault('wsu:Timestamp has no wsu:Created');
  const createdAt = instant('Created', created);
  const at = now.getTime();
  if (createdAt > at + skewMs) {
    throw timestampFault(`wsu:Created ${created} lies more than ${skewMs / 1000} s in the future`, 'timestamp-future');
  }
  if (createdAt < at - ttlMs - skewMs) {
    throw timestampFault(
      `wsu:Created ${created} is older than ${ttlMs / 1000} s (plus ${skewMs / 1000} s skew): stale`,
      'timestamp-expired',
    );
  }
  if (expires === undefined) {
    if (rules.expiresRequired) throw timestampFault('wsu:Timestamp has no wsu:Expires');
    return;
  }
  const expiresAt = instant('Expires', expires);
  if (expiresAt <= createdAt) throw timestampFault(`wsu:Expires ${expires} is not after wsu:Created ${created}`);
  if (expiresAt < at - skewMs) throw timestampFault(`wsu:Expires ${expires} has passed`, 'timestamp-expired');
}
