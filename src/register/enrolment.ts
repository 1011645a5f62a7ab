import type { Pgn } from './pgn.js';

/** Dates are ISO calendar dates (`YYYY-MM-DD`), which order correctly as strings. */
export type IsoDate = string;

export interface PeriodVO {
  readonly datumBegin: IsoDate;
  readonly onderwijsaanbieder?: string;
  readonly onderwijslocatie?: string;
  readonly opleidingcode: string;
  readonly aanvullendeOpleidingen: readonly string[];
  readonly vestiging: string;
  readonly leerjaar?: number;
  readonly indicatieBekostigbaar: boolean;
  readonly experimenten: readonly string[];
  readonly indicatieNieuwkomersbekostiging?: 'J' | 'N';
}

export interface DatedSpan {
  readonly datumBegin: IsoDate;
  readonly datumEind?: IsoDate;
}

export interface VerblijfAndereInstelling extends DatedSpan {
  readonly brin: string;
  readonly vestiging?: string;
  readonly verblijfsoort: string;
}

/** One delivered stand of a VO enrolment: the whole state, replacing any earlier stand. */
export interface EnrolmentStand {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly datumInschrijving: IsoDate;
  readonly datumUitschrijving?: IsoDate;
  readonly perioden: readonly PeriodVO[];
  readonly ontwikkelingsperspectieven: readonly DatedSpan[];
  readonly verblijvenAndereInstelling: readonly VerblijfAndereInstelling[];
}

/** An enrolment's current stand as stored: the stand, under which PGN, and where pushes about it go. */
export interface StoredEnrolment {
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly pgn: string;
  readonly documentTime: string;
  readonly stand: EnrolmentStand;
  readonly sourceMessageId: number;
  /**
   * Where pushes about this enrolment go: the administration (OIN) that delivered its current stand, or,
   * once that one no longer serves the BRIN, the BRIN's institution; null when no registered institution
   * serves the BRIN.
   */
  readonly administrationOin: string | null;
}

/**
 * How the register finds a school's record of a pupil. The handleiding makes a school's volgnummer
 * unique per pupil and BRIN, so the key holds all three: enrolments use it now, exam results (whose
 * examenresultaatvolgnummer follows the same rule) will too.
 */
export interface VolgnummerKey {
  readonly pgn: string;
  readonly brin: string;
  readonly volgnummer: string;
}

/**
 * Whether two enrolments share at least one day. datumUitschrijving is the last day an enrolment is
 * valid (DUO's definition), so A ending on the day B starts shares that day: a double enrolment.
 */
export function overlaps(
  a: Pick<EnrolmentStand, 'datumInschrijving' | 'datumUitschrijving'>,
  b: Pick<EnrolmentStand, 'datumInschrijving' | 'datumUitschrijving'>,
): boolean {
  const aEndsAfterBStarts = a.datumUitschrijving === undefined || a.datumUitschrijving >= b.datumInschrijving;
  const bEndsAfterAStarts = b.datumUitschrijving === undefined || b.datumUitschrijving >= a.datumInschrijving;
  return aEndsAfterBStarts && bEndsAfterAStarts;
}
