/** What to do with a delivered stand (an enrolment's or an exam result's) given the stored one. */
export type StandDecision = 'new' | 'replace' | 'identical' | 'older';

/** Canonical text of a stand: key order fixed, so equal stands compare equal however they were built. */
export function canonicalStand(stand: unknown): string {
  return JSON.stringify(stand, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
}

/**
 * Per stand, the newest datumTijdBedrijfsdocument wins: an identical stand changes nothing (and
 * triggers no pushes), one that is not strictly newer than the stored stand never overwrites it.
 * Times are ISO instants in UTC, so they order as strings.
 */
export function decideStand<Stand>(
  incoming: { documentTime: string; stand: Stand },
  stored?: { documentTime: string; stand: Stand },
): StandDecision {
  if (!stored) return 'new';
  if (canonicalStand(incoming.stand) === canonicalStand(stored.stand)) return 'identical';
  return incoming.documentTime > stored.documentTime ? 'replace' : 'older';
}
