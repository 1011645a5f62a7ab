import type { Pool } from '../shared/database.js';

/** A party that delivers messages (by OIN) for its BRINs and receives pushes at its endpoint. */
export interface Institution {
  readonly oin: string;
  readonly name: string;
  readonly brins: readonly string[];
  readonly endpointUrl: string | null;
  readonly enabled: boolean;
}

interface InstitutionRow {
  oin: string;
  name: string;
  brins: string[];
  endpoint_url: string | null;
  enabled: boolean;
}

const toInstitution = (row: InstitutionRow): Institution => ({
  oin: row.oin,
  name: row.name,
  brins: row.brins,
  endpointUrl: row.endpoint_url,
  enabled: row.enabled,
});

/** Inserts or replaces an institution by OIN. */
export async function upsertInstitution(pool: Pick<Pool, 'query'>, institution: Institution): Promise<void> {
  await pool.query(
    `INSERT INTO institutions (oin, name, brins, endpoint_url, enabled) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (oin) DO UPDATE SET name = EXCLUDED.name, brins = EXCLUDED.brins,
       endpoint_url = EXCLUDED.endpoint_url, enabled = EXCLUDED.enabled, updated_at = now()`,
    [institution.oin, institution.name, [...institution.brins], institution.endpointUrl, institution.enabled],
  );
}

/** Inserts an institution only when its OIN is not registered yet (idempotent demo seed). */
export async function insertInstitutionIfAbsent(pool: Pool, institution: Institution): Promise<boolean> {
  const result = await pool.query(
    `INSERT INTO institutions (oin, name, brins, endpoint_url, enabled) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (oin) DO NOTHING`,
    [institution.oin, institution.name, [...institution.brins], institution.endpointUrl, institution.enabled],
  );
  return result.rowCount === 1;
}

/** All institutions, by OIN. */
export async function listInstitutions(pool: Pool): Promise<Institution[]> {
  const result = await pool.query<InstitutionRow>('SELECT oin, name, brins, endpoint_url, enabled FROM institutions ORDER BY oin');
  return result.rows.map(toInstitution);
}

/** One institution by OIN, or null. */
export async function findInstitution(pool: Pool, oin: string): Promise<Institution | null> {
  const result = await pool.query<InstitutionRow>('SELECT oin, name, brins, endpoint_url, enabled FROM institutions WHERE oin = $1', [oin]);
  return result.rows[0] ? toInstitution(result.rows[0]) : null;
}

/**
 * Where pushes about an enrolment go when the administration that delivered it no longer serves its BRIN
 * (an operator moved the BRIN to another institution, or the enrolment predates the record): among the
 * institutions now holding the BRIN, an enabled one with an endpoint, then the lowest OIN, so the choice
 * is stable. An ORDER BY over `i`.
 */
export const PUSH_FALLBACK_PREFERENCE = 'i.enabled DESC, (i.endpoint_url IS NOT NULL) DESC, i.oin';

/** The institutions other than `oin` that hold any of these BRINs, by OIN. */
export async function otherInstitutionsServing(db: Pick<Pool, 'query'>, oin: string, brins: readonly string[]): Promise<Institution[]> {
  const result = await db.query<InstitutionRow>(
    'SELECT oin, name, brins, endpoint_url, enabled FROM institutions WHERE oin <> $1 AND brins && $2::text[] ORDER BY oin',
    [oin, [...brins]],
  );
  return result.rows.map(toInstitution);
}
