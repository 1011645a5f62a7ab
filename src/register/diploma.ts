import type { ExamResultStand } from './exam-result.js';

/** A subject on a diploma: its final grade, or the beoordeling of a subject assessed without one. */
export interface DiplomaSubject {
  readonly vak: string;
  readonly eindcijfer?: string;
  readonly beoordeling?: string;
}

/** A VO diploma in the register: a passed exam result (uitslag G), at the BRIN that delivered it. */
export interface Diploma {
  readonly brin: string;
  readonly level: string;
  /** YYYY-MM-DD: the uitslag's date. */
  readonly diplomaDate: string;
  readonly subjects: readonly DiplomaSubject[];
}

/** The diploma a stand gives: only a passed one does; its subjects are those marked as diploma subjects. */
export function diplomaOf(stand: ExamResultStand): Diploma | null {
  if (stand.uitslag?.uitslagcode !== 'G') return null;
  return {
    brin: stand.brin,
    level: stand.niveau,
    diplomaDate: stand.uitslag.datumUitslag,
    subjects: stand.vakken
      .filter((vak) => vak.indicatieDiplomavak)
      .map((vak) => ({
        vak: vak.vakcode,
        ...(vak.eindcijfer !== undefined ? { eindcijfer: vak.eindcijfer } : {}),
        ...(vak.beoordeling !== undefined ? { beoordeling: vak.beoordeling } : {}),
      })),
  };
}
