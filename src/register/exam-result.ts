import type { IsoDate } from './enrolment.js';
import type { Pgn } from './pgn.js';

/** The niveau codes an exam result is delivered with. */
export type Niveau = 'VMBO_BB' | 'VMBO_KB' | 'VMBO_GL' | 'VMBO_TL' | 'HAVO' | 'VWO';

/** The uitslag of the whole exam: G geslaagd (passed) or A afgewezen (failed), on datumUitslag. */
export interface Uitslag {
  readonly datumUitslag: IsoDate;
  readonly uitslagcode: 'G' | 'A';
  readonly indicatieCumLaude?: boolean;
}

/** One subject's results. Grades are kept as delivered: SE and CE in tenths (`68` is 6,8), eindcijfer 1–10. */
export interface VakResultaat {
  readonly vakcode: string;
  readonly cijferSchoolexamen?: string;
  readonly cijferCentraalExamen?: string;
  readonly tijdvakCentraalExamen?: string;
  readonly eindcijfer?: string;
  readonly beoordeling?: string;
  readonly redenNietDeelname?: string;
  readonly indicatieDiplomavak: boolean;
  readonly indicatieCombinatiecijfer?: boolean;
}

export interface Toets {
  readonly toetscode: string;
  readonly eindcijfer?: string;
  readonly redenNietDeelname?: string;
}

/** A resit of a subject's central exam, in the result's examenregime. */
export interface Herkansing {
  readonly vakcode: string;
  readonly tijdvak: string;
}

/** The result's indications that explain why no uitslag comes (yet). */
export interface ExamIndicaties {
  readonly teruggetrokken: boolean;
  readonly eerderLeerjaar: boolean;
  readonly gespreidExamen: boolean;
  readonly doorlopendeLeerlijn: boolean;
}

/** One delivered stand of an exam result: the whole result, replacing any earlier stand of it. */
export interface ExamResultStand {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly examenresultaatvolgnummer: string;
  readonly inschrijvingvolgnummer?: string;
  readonly onderwijsaanbieder?: string;
  readonly vestiging?: string;
  readonly indicaties: ExamIndicaties;
  readonly examenregime: string;
  readonly niveau: Niveau;
  readonly uitslag?: Uitslag;
  readonly vakken: readonly VakResultaat[];
  readonly combinatiecijfer?: { readonly eindcijfer: string };
  readonly werkstuk?: { readonly cijfer?: string; readonly beoordeling?: string };
  readonly toetsen: readonly Toets[];
  readonly herkansingen: readonly Herkansing[];
}

/** An exam result's current stand as stored, under the PGN it was delivered with. */
export interface StoredExamResult {
  readonly brin: string;
  readonly examenresultaatvolgnummer: string;
  readonly pgn: string;
  readonly documentTime: string;
  readonly stand: ExamResultStand;
  readonly sourceMessageId: number;
}

/** Which exam result: the volgnummer is unique per pupil and BRIN (handleiding). */
export interface ExamResultKey {
  readonly pgn: string;
  readonly brin: string;
  readonly examenresultaatvolgnummer: string;
}
