/**
 * Diplomas for prior-education tests, written with plain SQL as the exam-result flow would store them.
 * The tables are the exam-result contract's (its own migration creates them); this creates them with the
 * same shape only where that migration is not in the tree.
 */
import type { Pool } from '../../src/shared/database.js';

export async function ensureDiplomaTables(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS exam_results (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, brin text NOT NULL, examenresultaatvolgnummer text NOT NULL,
    pgn text NOT NULL, onderwijsaanbieder text NOT NULL, level text NOT NULL, uitslag text NOT NULL,
    uitslag_date date NOT NULL, document_time timestamptz NOT NULL, result jsonb NOT NULL,
    source_message_id bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (brin, examenresultaatvolgnummer, pgn))`);
  await pool.query(`CREATE TABLE IF NOT EXISTS diplomas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pgn text NOT NULL, brin text NOT NULL, level text NOT NULL,
    diploma_date date NOT NULL, subjects jsonb NOT NULL,
    exam_result_id bigint NOT NULL UNIQUE REFERENCES exam_results (id) ON DELETE CASCADE)`);
}

/** A passed exam result and its diploma for the pupil. */
export async function insertDiploma(
  pool: Pool,
  diploma: {
    pgn: string;
    brin: string;
    level: string;
    date: string;
    subjects: { vak: string; eindcijfer?: string; beoordeling?: string }[];
  },
): Promise<void> {
  const exam = await pool.query<{ id: number }>(
    `INSERT INTO exam_results (brin, examenresultaatvolgnummer, pgn, onderwijsaanbieder, level, uitslag, uitslag_date,
       document_time, result, source_message_id)
     VALUES ($1, $2, $3, '100A200', $4, 'G', $5, now(), '{}', 0) RETURNING id`,
    [diploma.brin, `E-${diploma.pgn}-${diploma.date}`, diploma.pgn, diploma.level, diploma.date],
  );
  await pool.query(
    'INSERT INTO diplomas (pgn, brin, level, diploma_date, subjects, exam_result_id) VALUES ($1, $2, $3, $4, $5, $6)',
    [diploma.pgn, diploma.brin, diploma.level, diploma.date, JSON.stringify(diploma.subjects), exam.rows[0]!.id],
  );
}
