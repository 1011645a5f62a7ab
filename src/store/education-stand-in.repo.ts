/**
 * The MBO and HO stand-in (migration 025): MBO participations and diplomas, HO participations and degrees
 * an operator loads, and whether the stand-in is in use. Prior education reads a pupil's rows under every
 * number linked to it.
 */

import { prepared } from '../infra/database.js';
import type { EducationRecord } from '../register/prior-education/education-records.js';
import type {
  HoDegree,
  MboDiploma,
  MboResultaat,
  Participation,
} from '../register/prior-education/prior-education-rules.js';
import type { Tx } from './register.repo.js';

type Db = Pick<Tx, 'query'>;

/** A pupil's MBO and HO education as the rules take it. */
export interface MboHoEducation {
  readonly mbo: { readonly participations: readonly Participation[]; readonly diplomas: readonly MboDiploma[] };
  readonly ho: { readonly participations: readonly Participation[]; readonly degrees: readonly HoDegree[] };
}

const byKind = <K extends EducationRecord['kind']>(records: readonly EducationRecord[], kind: K) =>
  records.filter((r): r is Extract<EducationRecord, { kind: K }> => r.kind === kind);

/**
 * Makes `records` the whole MBO and HO education of every pupil they name (under the number they name
 * it by), and marks the stand-in in use; returns how many pupils. Runs in the caller's transaction (an
 * operator's load, with its audit row), so prior education never sees half a load.
 */
export async function replaceEducation(tx: Db, records: readonly EducationRecord[]): Promise<number> {
  const pgns = [...new Set(records.map((r) => r.pgn))];
  for (const table of ['mbo_participations', 'mbo_diplomas', 'ho_participations', 'ho_degrees'])
    await tx.query(`DELETE FROM ${table} WHERE pgn = ANY($1::text[])`, [pgns]);
  const mboIn = byKind(records, 'mbo-deelname');
  await tx.query(
    `INSERT INTO mbo_participations (pgn, brin, volgnummer, opleidingcode, niveau, datum_inschrijving, datum_uitschrijving, leerweg)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::date[], $7::date[], $8::text[])`,
    [
      mboIn.map((r) => r.pgn),
      mboIn.map((r) => r.brin),
      mboIn.map((r) => r.volgnummer),
      mboIn.map((r) => r.crebo),
      mboIn.map((r) => r.niveau),
      mboIn.map((r) => r.datumInschrijving),
      mboIn.map((r) => r.datumUitschrijving ?? null),
      mboIn.map((r) => r.leerweg ?? null),
    ],
  );
  const diplomas = byKind(records, 'mbo-diploma');
  await tx.query(
    `INSERT INTO mbo_diplomas (pgn, brin, opleidingcode, niveau, datum_diploma, results)
     SELECT p, b, c, n, d, r::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::date[], $6::text[]) AS t(p, b, c, n, d, r)`,
    [
      diplomas.map((r) => r.pgn),
      diplomas.map((r) => r.brin),
      diplomas.map((r) => r.crebo),
      diplomas.map((r) => r.niveau),
      diplomas.map((r) => r.datumDiploma),
      diplomas.map((r) => JSON.stringify(r.resultaten)),
    ],
  );
  const hoIn = byKind(records, 'ho-deelname');
  await tx.query(
    `INSERT INTO ho_participations (pgn, brin, volgnummer, opleidingcode, datum_inschrijving, datum_uitschrijving)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[])`,
    [
      hoIn.map((r) => r.pgn),
      hoIn.map((r) => r.brin),
      hoIn.map((r) => r.volgnummer),
      hoIn.map((r) => r.opleidingcode),
      hoIn.map((r) => r.datumInschrijving),
      hoIn.map((r) => r.datumUitschrijving ?? null),
    ],
  );
  const degrees = byKind(records, 'ho-graad');
  await tx.query(
    `INSERT INTO ho_degrees (pgn, brin, opleidingcode, graad, datum_graad)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[])`,
    [
      degrees.map((r) => r.pgn),
      degrees.map((r) => r.brin),
      degrees.map((r) => r.opleidingcode),
      degrees.map((r) => r.graad),
      degrees.map((r) => r.datumGraad),
    ],
  );
  await tx.query(
    `INSERT INTO education_stand_in (singleton) VALUES (true)
     ON CONFLICT (singleton) DO UPDATE SET last_loaded_at = now()`,
  );
  return pgns.length;
}

interface EducationRow {
  readonly in_use: boolean;
  readonly mbo_participations: { brin: string; volgnummer: string; code: string; in: string; out: string | null }[];
  readonly mbo_diplomas: { brin: string; code: string; niveau: number; date: string; results: MboResultaat[] }[];
  readonly ho_participations: { brin: string; volgnummer: string; code: string; in: string; out: string | null }[];
  readonly ho_degrees: { brin: string; code: string; graad: string; date: string }[];
}

const participation = (
  kind: 'MBO' | 'HO',
  r: { brin: string; volgnummer: string; code: string; in: string; out: string | null },
): Participation => ({
  kind,
  brin: r.brin,
  inschrijvingvolgnummer: r.volgnummer,
  datumInschrijving: r.in,
  ...(r.out ? { datumUitschrijving: r.out } : {}),
  opleidingcode: r.code,
});

/**
 * The pupil's MBO and HO education under each of its numbers, in one round trip; `undefined` while the
 * stand-in has never been loaded (the broker then holds no MBO or HO data, which is not "none").
 */
export async function educationOf(db: Db, pgn: string): Promise<MboHoEducation | undefined> {
  const result = await db.query<EducationRow>(
    prepared(
      'education-of',
      `WITH pupil AS (SELECT coalesce((SELECT bsn FROM pupil_links WHERE onderwijsnummer = $1), $1) AS bsn),
     numbers AS (SELECT bsn AS pgn FROM pupil UNION ALL SELECT l.onderwijsnummer FROM pupil_links l JOIN pupil p ON l.bsn = p.bsn)
     SELECT EXISTS (SELECT 1 FROM education_stand_in) AS in_use,
       (SELECT coalesce(json_agg(json_build_object('brin', brin, 'volgnummer', volgnummer, 'code', opleidingcode,
          'in', to_char(datum_inschrijving, 'YYYY-MM-DD'), 'out', to_char(datum_uitschrijving, 'YYYY-MM-DD'))
          ORDER BY datum_inschrijving, brin, volgnummer), '[]')
        FROM mbo_participations WHERE pgn IN (SELECT pgn FROM numbers)) AS mbo_participations,
       (SELECT coalesce(json_agg(json_build_object('brin', brin, 'code', opleidingcode, 'niveau', niveau,
          'date', to_char(datum_diploma, 'YYYY-MM-DD'), 'results', results) ORDER BY datum_diploma, id), '[]')
        FROM mbo_diplomas WHERE pgn IN (SELECT pgn FROM numbers)) AS mbo_diplomas,
       (SELECT coalesce(json_agg(json_build_object('brin', brin, 'volgnummer', volgnummer, 'code', opleidingcode,
          'in', to_char(datum_inschrijving, 'YYYY-MM-DD'), 'out', to_char(datum_uitschrijving, 'YYYY-MM-DD'))
          ORDER BY datum_inschrijving, brin, volgnummer), '[]')
        FROM ho_participations WHERE pgn IN (SELECT pgn FROM numbers)) AS ho_participations,
       (SELECT coalesce(json_agg(json_build_object('brin', brin, 'code', opleidingcode, 'graad', graad,
          'date', to_char(datum_graad, 'YYYY-MM-DD')) ORDER BY datum_graad, id), '[]')
        FROM ho_degrees WHERE pgn IN (SELECT pgn FROM numbers)) AS ho_degrees`,
      [pgn],
    ),
  );
  const row = result.rows[0];
  if (!row?.in_use) return undefined;
  return {
    mbo: {
      participations: row.mbo_participations.map((r) => participation('MBO', r)),
      diplomas: row.mbo_diplomas.map((r) => ({
        brin: r.brin,
        opleidingcode: r.code,
        niveau: String(r.niveau),
        datumDiploma: r.date,
        resultaten: r.results,
      })),
    },
    ho: {
      participations: row.ho_participations.map((r) => participation('HO', r)),
      degrees: row.ho_degrees.map((r) => ({
        brin: r.brin,
        opleidingcode: r.code,
        graad: r.graad,
        datumGraad: r.date,
      })),
    },
  };
}
