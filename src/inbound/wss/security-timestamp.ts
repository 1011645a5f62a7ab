import { BrokerFault } from '../../shared/errors.js';

/** How long after its Created a signed request is accepted (WS-Security profile: 300 s). */
export const TIMESTAMP_TTL_MS = 300_000;
/** Clock difference tolerated between a sender and the broker, either way. */
export const CLOCK_SKEW_MS = 60_000;
/**
 * How long a signed request can pass the timestamp check after the broker first saw it: one created
 * a skew ahead of the broker's clock is good for TTL plus skew after that. Replay records live this long.
 */
export const REPLAY_WINDOW_MS = TIMESTAMP_TTL_MS + 2 * CLOCK_SKEW_MS;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

const timestampFault = (reason: string): BrokerFault => new BrokerFault('EK0031', reason, 'Timestamp');

function instant(name: string, value: string): number {
  const time = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw timestampFault(`wsu:${name} '${value.slice(0, 40)}' is not an xsd:dateTime with a zone`);
  return time;
}

/**
 * Checks a signed wsu:Timestamp: Created at most a skew in the future and at most TTL plus skew old;
 * Expires, when given, after Created and not passed by more than the skew.
 */
export function checkTimestamp(created: string | undefined, expires: string | undefined, now: Date): void {
  if (created === undefined) throw timestampFault('wsu:Timestamp has no wsu:Created');
  const createdAt = instant('Created', created);
  const at = now.getTime();
  if (createdAt > at + CLOCK_SKEW_MS) {
    throw timestampFault(`wsu:Created ${created} lies more than ${CLOCK_SKEW_MS / 1000} s in the future`);
  }
  if (createdAt < at - TIMESTAMP_TTL_MS - CLOCK_SKEW_MS) {
    throw timestampFault(
      `wsu:Created ${created} is older than ${TIMESTAMP_TTL_MS / 1000} s (plus ${CLOCK_SKEW_MS / 1000} s skew): stale`,
    );
  }
  if (expires === undefined) return;
  const expiresAt = instant('Expires', expires);
  if (expiresAt <= createdAt) throw timestampFault(`wsu:Expires ${expires} is not after wsu:Created ${created}`);
  if (expiresAt < at - CLOCK_SKEW_MS) throw timestampFault(`wsu:Expires ${expires} has passed`);
}
