/**
 * A delivered enrolment checked against the pupil's registered date of death. Pure; the same rule that
 * gives schools P0002 with a population-register mutation (src/register/mutation-recipients.ts).
 */
import type { EnrolmentStand, IsoDate } from './enrolment.js';
import { continuesAfterDeath } from './mutation-recipients.js';
import { type Signal, signal } from './signals.js';

/** P0002 when the pupil is registered as deceased and the stand runs on after that day (no out-date, or a later one). */
export function afterDeathSignals(
  stand: Pick<EnrolmentStand, 'inschrijvingvolgnummer' | 'datumUitschrijving'>,
  dateOfDeath: IsoDate | null | undefined,
): Signal[] {
  // Handleiding: a deceased pupil's out-date must be on or before the date of death.
  if (!dateOfDeath || !continuesAfterDeath(stand, dateOfDeath)) return [];
  return [signal('P0002', [{ naam: 'inschrijvingvolgnummer', waarde: stand.inschrijvingvolgnummer }])];
}
