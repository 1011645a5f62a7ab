/**
 * Applying a population-register (BRP) mutation to a person's entry: pure, so the rule "a mutation that
 * changes nothing pushes nothing" is decided here and unit-tested.
 */
import type { IsoDate } from './enrolment.js';
import type { Address } from './person.js';

/** The parts of a population-register entry a mutation can change. */
export interface MutableDetails {
  readonly surname: string;
  readonly prefixes: string | null;
  readonly firstNames: string | null;
  readonly address: Address | null;
  readonly dateOfDeath: IsoDate | null;
}

/** One `verwerkenPersoonsmutatie`: what changed for this BSN (at least one part). */
export interface PersonMutation {
  readonly bsn: string;
  /** A new name replaces the whole name: prefixes or first names left out are removed. */
  readonly name?: { readonly achternaam: string; readonly voorvoegsels?: string; readonly voornamen?: string };
  readonly address?: Address;
  readonly datumOverlijden?: IsoDate;
}

/** The entry after the mutation; parts the mutation does not carry stay as they were. */
export function applyMutation<T extends MutableDetails>(record: T, mutation: PersonMutation): T {
  return {
    ...record,
    ...(mutation.name
      ? {
          surname: mutation.name.achternaam,
          prefixes: mutation.name.voorvoegsels ?? null,
          firstNames: mutation.name.voornamen ?? null,
        }
      : {}),
    ...(mutation.address ? { address: mutation.address } : {}),
    ...(mutation.datumOverlijden ? { dateOfDeath: mutation.datumOverlijden } : {}),
  };
}

function addressKey(address: Address | null): string {
  if (!address) return '';
  // Field order differs between a parsed message and a jsonb column; the content is what counts.
  const sorted = (fields: Readonly<Record<string, string>>) =>
    Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.entries(address).map(([kind, fields]) => [kind, sorted(fields)]));
}

/** Whether two entries hold the same name, address and date of death. */
export function sameDetails(a: MutableDetails, b: MutableDetails): boolean {
  return (
    a.surname === b.surname &&
    a.prefixes === b.prefixes &&
    a.firstNames === b.firstNames &&
    a.dateOfDeath === b.dateOfDeath &&
    addressKey(a.address) === addressKey(b.address)
  );
}
