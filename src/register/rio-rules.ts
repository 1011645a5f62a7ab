import type { IsoDate, PeriodVO } from './enrolment.js';
import { type Signal, signal } from './signals.js';

/** One link of the RIO stand-in: an onderwijslocatie belongs to a vestiging, between two dates (both inclusive, either open). */
export interface RioLink {
  readonly vestiging: string;
  readonly onderwijslocatie: string;
  readonly datumBegin?: IsoDate;
  readonly datumEinde?: IsoDate;
}

/** The period the onderwijslocatie check looks at: the one that begins last. */
export const latestPeriod = (perioden: readonly PeriodVO[]): PeriodVO | undefined =>
  [...perioden].sort((a, b) => a.datumBegin.localeCompare(b.datumBegin)).at(-1);

/** Every period without its onderwijsaanbieder or onderwijslocatie, naming what is missing. */
export function rioRequiredSignals(perioden: readonly PeriodVO[]): Signal[] {
  // Handleiding (RIO): both fields are compulsory in every exchange; leaving them out rejects the message.
  return perioden.flatMap((period) =>
    (['onderwijsaanbieder', 'onderwijslocatie'] as const)
      .filter((field) => period[field] === undefined)
      .map((field) =>
        signal('I0034', [
          { naam: 'datumBegin', waarde: period.datumBegin },
          { naam: 'ontbreekt', waarde: field },
        ]),
      ),
  );
}

const linkedOn = (link: RioLink, day: IsoDate): boolean =>
  (link.datumBegin === undefined || link.datumBegin <= day) &&
  (link.datumEinde === undefined || link.datumEinde >= day);

/**
 * Whether the latest period's onderwijslocatie belongs to its vestiging on that period's begin date.
 * `links` are the stand-in's links of that vestiging; none at all means RIO is not known here, and
 * nothing is signalled (valid school data is never refused for an empty stand-in).
 */
export function onderwijslocatieSignals(perioden: readonly PeriodVO[], links: readonly RioLink[]): Signal[] {
  const period = latestPeriod(perioden);
  if (period?.onderwijslocatie === undefined) return [];
  const ofVestiging = links.filter((link) => link.vestiging === period.vestiging);
  if (ofVestiging.length === 0) return [];
  // Handleiding: the onderwijslocatie needs a valid link to the vestiging on the begin date of the most recent period.
  if (
    ofVestiging.some((link) => link.onderwijslocatie === period.onderwijslocatie && linkedOn(link, period.datumBegin))
  )
    return [];
  return [
    signal('I0035', [
      { naam: 'datumBegin', waarde: period.datumBegin },
      { naam: 'vestiging', waarde: period.vestiging },
      { naam: 'onderwijslocatie', waarde: period.onderwijslocatie },
    ]),
  ];
}
