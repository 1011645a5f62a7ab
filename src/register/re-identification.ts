/**
 * Whether an identification may make an onderwijsnummer and a BSN one pupil. Pure; the identification
 * handler looks the facts up and writes the link. docs/signalen.md states the same rules for readers.
 */
import type { IsoDate } from './enrolment.js';
import type { SignalCode } from './signals.js';

/** What the register recorded when it assigned the onderwijsnummer, or null when it never did. */
export interface AssignedFacts {
  readonly birthDate: string;
  readonly gender: string;
}
/** The BSN's population-register entry. */
export interface PopulationFacts {
  readonly bsn: string;
  readonly birthDate: IsoDate;
  readonly gender: string;
}

export type LinkDecision = { readonly link: true } | { readonly link: false; readonly signal: SignalCode | null };

// Geslacht 3 means unknown or other: it confirms nothing, so it is not compared.
const recordedGender = (gender: string): boolean => gender === '1' || gender === '2';

/** Dates compared part by part; a part 00 (an incomplete date, allowed without a PGN) is unknown and matches. */
export function sameBirthDate(a: string, b: string): boolean {
  const [pa, pb] = [a.split('-'), b.split('-')];
  if (pa.length !== 3 || pb.length !== 3) return false;
  return pa.every((part, i) => part === pb[i] || (i > 0 && (part === '00' || pb[i] === '00')));
}

/**
 * Link only an onderwijsnummer the register assigned, recorded with the BSN's birth date (and gender,
 * where both record one), and not already linked to another BSN. Already linked to this BSN: nothing
 * to do and nothing to say.
 */
export function linkDecision(
  assigned: AssignedFacts | null,
  person: PopulationFacts,
  linkedBsn: string | null,
): LinkDecision {
  if (linkedBsn === person.bsn) return { link: false, signal: null };
  // One onderwijsnummer is one pupil: a second BSN would merge two pupils' enrolments.
  if (linkedBsn !== null) return { link: false, signal: 'P0005' };
  // Handleiding: onderwijsnummers are handed out by the register alone; another number names nobody it knows.
  if (assigned === null) return { link: false, signal: 'P0003' };
  // The same pupil has the same birth date and gender under both numbers; a difference means another child.
  const genderDiffers =
    recordedGender(assigned.gender) && recordedGender(person.gender) && assigned.gender !== person.gender;
  if (!sameBirthDate(assigned.birthDate, person.birthDate) || genderDiffers) return { link: false, signal: 'P0004' };
  return { link: true };
}
