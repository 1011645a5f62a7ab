import { prepared } from '../infra/database.js';
import { InvariantError } from '../infra/errors.js';
import type { Diploma } from '../register/diploma.js';
import type { ExamResultKey, ExamResultStand, StoredExamResult } from '../register/exam-result.js';
import type { Tx } from './register.repo.js';

/** Anything that sends queries: a pool, or a transaction's client. */
type Db = Pick<Tx, 'query'>;

/**
 * The exam results and diplomas (tables exam_results and diplomas). Processing reads and writes them
 * in its batch's transaction, under the pupil locks the register session holds; exam results are few
 * next to enrolments, so each is its own statement rather than part of the batch's one write.
 */

/** Every current exam result stored under any of these numbers (one pupil's). */
export async function loadExamResults(tx: Db, pgns: readonly string[]): Promise<StoredExamResult[]> {
  if (pgns.length === 0) return [];
  const result = await tx.query<{
    brin: string;
    examenresultaatvolgnummer: string;
    pgn: string;
    document_time: Date;
    result: ExamResultStand;
    source_message_id: string;
    uitslag_stored_at: Date | null;
  }>(
    prepared(
      'exam-results-load',
      `SELECT brin, examenresultaatvolgnummer, pgn, document_time, result, source_message_id, uitslag_stored_at
     FROM exam_results WHERE pgn = ANY($1::text[]) ORDER BY id`,
      [pgns],
    ),
  );
  return result.rows.map((r) => ({
    brin: r.brin,
    examenresultaatvolgnummer: r.examenresultaatvolgnummer,
    pgn: r.pgn,
    documentTime: r.document_time.toISOString(),
    stand: r.result,
    sourceMessageId: Number(r.source_message_id),
    ...(r.uitslag_stored_at ? { uitslagStoredAt: r.uitslag_stored_at.toISOString() } : {}),
  }));
}

/**
 * Makes the stand its exam result's current state and the diploma follow it: a passed result has one
 * (replaced with the stand), any other has none. Returns the exam result's id.
 */
export async function saveExamResult(tx: Db, stored: StoredExamResult, diploma: Diploma | null): Promise<number> {
  const { stand } = stored;
  // The rules reject a stand without one (E0001): only an approved stand is saved.
  if (stand.onderwijsaanbieder === undefined) throw new InvariantError('exam result saved without onderwijsaanbieder');
  const saved = await tx.query<{ id: string }>(
    prepared(
      'exam-results-save',
      `INSERT INTO exam_results (brin, examenresultaatvolgnummer, pgn, onderwijsaanbieder, level, uitslag, uitslag_date,
       document_time, result, source_message_id, uitslag_stored_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (brin, examenresultaatvolgnummer, pgn) DO UPDATE SET onderwijsaanbieder = EXCLUDED.onderwijsaanbieder,
       level = EXCLUDED.level, uitslag = EXCLUDED.uitslag, uitslag_date = EXCLUDED.uitslag_date,
       document_time = EXCLUDED.document_time, result = EXCLUDED.result, source_message_id = EXCLUDED.source_message_id,
       uitslag_stored_at = EXCLUDED.uitslag_stored_at, updated_at = now()
     RETURNING id`,
      [
        stored.brin,
        stored.examenresultaatvolgnummer,
        stored.pgn,
        stand.onderwijsaanbieder,
        stand.niveau,
        stand.uitslag?.uitslagcode ?? null,
        stand.uitslag?.datumUitslag ?? null,
        stored.documentTime,
        JSON.stringify(stand),
        stored.sourceMessageId,
        stored.uitslagStoredAt ?? null,
      ],
    ),
  );
  const id = Number(saved.rows[0]!.id);
  if (diploma) {
    await tx.query(
      prepared(
        'exam-results-save-diploma',
        `INSERT INTO diplomas (pgn, brin, level, diploma_date, subjects, exam_result_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (exam_result_id) DO UPDATE SET pgn = EXCLUDED.pgn, brin = EXCLUDED.brin, level = EXCLUDED.level,
         diploma_date = EXCLUDED.diploma_date, subjects = EXCLUDED.subjects`,
        [stored.pgn, diploma.brin, diploma.level, diploma.diplomaDate, JSON.stringify(diploma.subjects), id],
      ),
    );
  } else {
    await tx.query(prepared('exam-results-drop-diploma', 'DELETE FROM diplomas WHERE exam_result_id = $1', [id]));
  }
  return id;
}

/** Removes these exam results (their diplomas go with them: ON DELETE CASCADE). */
export async function removeExamResults(tx: Db, keys: readonly ExamResultKey[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    prepared(
      'exam-results-remove',
      `DELETE FROM exam_results e USING unnest($1::text[], $2::text[], $3::text[]) AS k(pgn, brin, volgnummer)
     WHERE e.pgn = k.pgn AND e.brin = k.brin AND e.examenresultaatvolgnummer = k.volgnummer`,
      [keys.map((k) => k.pgn), keys.map((k) => k.brin), keys.map((k) => k.examenresultaatvolgnummer)],
    ),
  );
}

/**
 * The pupil's diplomas in the register, oldest first (for prior-education data): those stored under
 * this number and under every number linked to it (an onderwijsnummer and the BSN it was linked to are
 * one pupil). One exam result stored under both numbers before they were linked is one diploma: that
 * of its newest stand.
 */
export async function diplomasOf(db: Db, pgn: string): Promise<Diploma[]> {
  const result = await db.query<{ brin: string; level: string; diploma_date: string; subjects: Diploma['subjects'] }>(
    prepared(
      'diplomas-of',
      `WITH pupil AS (SELECT coalesce((SELECT bsn FROM pupil_links WHERE onderwijsnummer = $1), $1) AS bsn),
     one_per_result AS (
       SELECT DISTINCT ON (d.brin, e.examenresultaatvolgnummer) d.id, d.brin, d.level, d.diploma_date, d.subjects
       FROM diplomas d JOIN exam_results e ON e.id = d.exam_result_id
       WHERE d.pgn IN (SELECT bsn FROM pupil UNION ALL SELECT l.onderwijsnummer FROM pupil_links l JOIN pupil p ON l.bsn = p.bsn)
       ORDER BY d.brin, e.examenresultaatvolgnummer, e.document_time DESC, d.id DESC)
     SELECT brin, level, to_char(diploma_date, 'YYYY-MM-DD') AS diploma_date, subjects FROM one_per_result
     ORDER BY diploma_date, id`,
      [pgn],
    ),
  );
  return result.rows.map((r) => ({ brin: r.brin, level: r.level, diplomaDate: r.diploma_date, subjects: r.subjects }));
}
