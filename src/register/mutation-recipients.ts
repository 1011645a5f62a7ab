/**
 * Who is told about a population-register (BRP) mutation, and which of them also get the date-of-death
 * signal. Pure; docs/brp-mutations.md states the same rules for readers.
 */
import type { EnrolmentStand, IsoDate } from './enrolment.js';

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
export function continuesAfterDeath(enrolment: Pick<EnrolmentStand, 'datumUitschrijving'>, dateOfDeath: IsoDate): boolean {
  return enrolment.datumUitschrijving === undefined || enrolment.datumUitschrijving > dateOfDeath;
}

/** One school (BRIN) to tell, with its enrolments that run on after the date of death (each gets a signal). */
export interface MutationRecipient {
  readonly brin: string;
  readonly volgnummersAfterDeath: readonly string[];
}

/**
 * Every BRIN with an active enrolment of the person, once per BRIN, ordered by BRIN. With a date of
 * death, also a BRIN whose enrolment has ended but ran on after that date: that school has to correct
 * its out-date, so it is told as well.
 */
export function mutationRecipients(enrolments: readonly Dates[], today: IsoDate, dateOfDeath: IsoDate | null): MutationRecipient[] {
  const byBrin = new Map<string, string[]>();
  for (const enrolment of enrolments) {
    const afterDeath = dateOfDeath !== null && continuesAfterDeath(enrolment, dateOfDeath);
    if (!afterDeath && !isActiveEnrolment(enrolment, today)) continue;
    const volgnummers = byBrin.get(enrolment.brin) ?? [];
    if (afterDeath) volgnummers.push(enrolment.inschrijvingvolgnummer);
    byBrin.set(enrolment.brin, volgnummers);
  }
  return [...byBrin.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([brin, volgnummers]) => ({ brin, volgnummersAfterDeath: volgnummers.sort() }));
}
