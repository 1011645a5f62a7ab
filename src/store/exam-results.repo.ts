import type { Diploma } from '../register/diploma.js';
import type { Tx } from './register.repo.js';

/** Every diploma of the pupil with this number, oldest first. */
export async function diplomasOf(db: Pick<Tx, 'query'>, pgn: string): Promise<Diploma[]> {
  const result = await db.query<{ brin: string; level: string; diploma_date: string; subjects: Diploma['subjects'] }>(
    `SELECT brin, level, to_char(diploma_date, 'YYYY-MM-DD') AS diploma_date, subjects
     FROM diplomas WHERE pgn = $1 ORDER BY diploma_date, id`,
    [pgn],
  );
  return result.rows.map((r) => ({ brin: r.brin, level: r.level, diplomaDate: r.diploma_date, subjects: r.subjects }));
}
