import type { IsoDate } from './enrolment.js';
import type { Pgn } from './pgn.js';

/** The niveau codes an exam result is delivered with (also what an opleidingcode's RIO niveau is compared with). */
export const NIVEAUS = ['VMBO_BB', 'VMBO_KB', 'VMBO_GL', 'VMBO_TL', 'HAVO', 'VWO'] as const;
export type Niveau = (typeof NIVEAUS)[number];

/** The uitslag codes: G geslaagd (passed), A afgewezen (failed), T teruggetrokken (withdrawn from the exam). */
export type Uitslagcode = 'G' | 'A' | 'T';

/** The uitslag of the whole exam, on datumUitslag. */
export interface Uitslag {
  readonly datumUitslag: IsoDate;
  readonly uitslagcode: Uitslagcode;
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
  /** When an uitslag first came into the register (ISO instant); kept while an uitslag stays, absent without one. */
  readonly uitslagStoredAt?: string;
}

/** Which exam result: the volgnummer is unique per pupil and BRIN (handleiding). */
export interface ExamResultKey {
  readonly pgn: string;
  readonly brin: string;
  readonly examenresultaatvolgnummer: string;
}

/** The stored exam result with this key, under whichever of the pupil's numbers (its own number first). */
export function sameExamResult(results: readonly StoredExamResult[], key: ExamResultKey): StoredExamResult | undefined {
  const same = results.filter(
    (r) => r.brin === key.brin && r.examenresultaatvolgnummer === key.examenresultaatvolgnummer,
  );
  return same.find((r) => r.pgn === key.pgn) ?? same[0];
}

/** When the uitslag of a new stand came into the register: kept from the stored stand while it had one, else now. */
export function uitslagStoredAt(
  stored: Pick<StoredExamResult, 'stand' | 'uitslagStoredAt'> | undefined,
  incoming: ExamResultStand,
  now: Date,
): string | undefined {
  if (!incoming.uitslag) return undefined;
  return stored?.stand.uitslag && stored.uitslagStoredAt !== undefined ? stored.uitslagStoredAt : now.toISOString();
}
