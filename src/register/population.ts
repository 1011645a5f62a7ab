/** The population register (BRP stand-in) as the register rules read it, and the links that make two numbers one pupil. */
import type { IsoDate } from './enrolment.js';
import type { Address } from './person.js';

/** One person's population-register entry, by BSN. */
export interface PopulationRecord {
  readonly bsn: string;
  readonly birthDate: IsoDate;
  readonly gender: string;
  readonly surname: string;
  readonly prefixes: string | null;
  readonly firstNames: string | null;
  readonly address: Address | null;
  readonly dateOfDeath: IsoDate | null;
  /** The day of the first enrolment at a PO or VO school in the Netherlands; absent when the stand-in does not know it. */
  readonly firstEnrolmentPoVo?: IsoDate;
}

/** An onderwijsnummer that resolves to a BSN: both numbers are one pupil. */
export interface PupilLink {
  readonly onderwijsnummer: string;
  readonly bsn: string;
}
