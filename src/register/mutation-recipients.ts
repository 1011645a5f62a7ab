/**
 * Who is told about a population-register (BRP) mutation, and which of them also get the date-of-death
 * signal. Pure; docs/brp-mutations.md states the same rules for readers.
 */
import type { EnrolmentStand, IsoDate } from './enrolment.js';
import type { Pgn } from './pgn.js';

type Dates = Pick<EnrolmentStand, 'brin' | 'inschrijvingvolgnummer' | 'datumInschrijving' | 'datumUitschrijving'>;

/**
 * Active on `today`: not ended. datumUitschrijving is the last day the enrolment is valid (DUO), so an
 * enrolment without one, or with one on or after today, is active; one that ended yesterday is not. An
 * enrolment that starts in the future is active too: that school will teach the pupil and needs the new data.
 */
export function isActiveEnrolment(enrolment: Pick<EnrolmentStand, 'datumUitschrijving'>, today: IsoDate): boolean {
  return enrolment.datumUitschrijving === undefined || enrolment.datumUitschrijving >= today;
}

/**
 * The enrolment runs on after the pupil died: no out-date, or an out-date after the date of death. An
 * out-date on the date of death itself is correct and signals nothing.
 */
export function continuesAfterDeath(
  enrolment: Pick<EnrolmentStand, 'datumUitschrijving'>,
  dateOfDeath: IsoDate,
): boolean {
  return enrolment.datumUitschrijving === undefined || enrolment.datumUitschrijving > dateOfDeath;
}

/**
 * An enrolment as the mutation rules see it: its dates, the administration that receives its pushes and
 * the PGN it is stored under (a linked onderwijsnummer or the BSN).
 */
export type MutationEnrolment = Dates & { readonly administrationOin: string | null; readonly pgn: Pgn };

/** One administration of one school (BRIN) to tell, with its enrolments that run on after the date of death (each gets a signal). */
export interface MutationRecipient {
  readonly brin: string;
  /** Null when no registered institution serves the BRIN: nobody can be told. */
  readonly administrationOin: string | null;
  readonly volgnummersAfterDeath: readonly string[];
  /** The number the school knows the pupil by: the BSN when one of its enrolments has it, else the lowest onderwijsnummer. */
  readonly pgn: Pgn;
}

// A school told under a number it never delivered could not match the message to its pupil.
const knownPgn = (a: Pgn, b: Pgn): Pgn => (a.kind !== b.kind ? (a.kind === 'BSN' ? a : b) : a.value <= b.value ? a : b);

/**
 * Every BRIN with an active enrolment of the person, once per BRIN and administration (an administration
 * hears only of enrolments it delivered), ordered by BRIN, then administration. With a date of death,
 * also a BRIN whose enrolment has ended but ran on after that date: that school has to correct its
 * out-date, so it is told as well.
 */
export function mutationRecipients(
  enrolments: readonly MutationEnrolment[],
  today: IsoDate,
  dateOfDeath: IsoDate | null,
): MutationRecipient[] {
  const byRecipient = new Map<
    string,
    { brin: string; administrationOin: string | null; volgnummers: string[]; pgn: Pgn }
  >();
  for (const enrolment of enrolments) {
    const afterDeath = dateOfDeath !== null && continuesAfterDeath(enrolment, dateOfDeath);
    if (!afterDeath && !isActiveEnrolment(enrolment, today)) continue;
    // U+001F cannot occur in a BRIN or an OIN: the key cannot be ambiguous.
    const key = `${enrolment.brin}\u001f${enrolment.administrationOin ?? ''}`;
    const recipient = byRecipient.get(key) ?? {
      brin: enrolment.brin,
      administrationOin: enrolment.administrationOin,
      volgnummers: [],
      pgn: enrolment.pgn,
    };
    recipient.pgn = knownPgn(recipient.pgn, enrolment.pgn);
    if (afterDeath) recipient.volgnummers.push(enrolment.inschrijvingvolgnummer);
    byRecipient.set(key, recipient);
  }
  return [...byRecipient.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({
      brin: r.brin,
      administrationOin: r.administrationOin,
      volgnummersAfterDeath: r.volgnummers.sort(),
      pgn: r.pgn,
    }));
}
