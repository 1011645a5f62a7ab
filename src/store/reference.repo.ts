import type { Pool } from '../infra/database.js';
import { inTransaction, prepared } from '../infra/database.js';
import type { RioLink } from '../register/rio-rules.js';
import type { Tx } from './register.repo.js';

/** What the rules look up besides the register itself: RIO links of vestigingen, onderwijsnummers the broker assigned. */
export interface ReferenceData {
  readonly rioLinks: readonly RioLink[];
  /** Assigned onderwijsnummers with the birth date the identification recorded. */
  readonly assigned: ReadonlyMap<string, { readonly birthDate: string }>;
}

/** One round trip for both kinds (a link's row has a vestiging, an assigned number's has none). */
export async function loadReferenceData(
  tx: Pick<Tx, 'query'>,
  vestigingen: readonly string[],
  onderwijsnummers: readonly string[],
): Promise<ReferenceData> {
  if (vestigingen.length === 0 && onderwijsnummers.length === 0) return { rioLinks: [], assigned: new Map() };
  const result = await tx.query<{
    vestiging: string | null;
    onderwijslocatie: string | null;
    datum_begin: string | null;
    datum_einde: string | null;
    onderwijsnummer: string | null;
    birth_date: string | null;
  }>(
    prepared(
      'processing-load-reference',
      `SELECT vestiging, onderwijslocatie, to_char(datum_begin, 'YYYY-MM-DD') AS datum_begin, to_char(datum_einde, 'YYYY-MM-DD') AS datum_einde,
       NULL::text AS onderwijsnummer, NULL::text AS birth_date
     FROM rio_onderwijslocaties WHERE vestiging = ANY($1::text[])
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, onderwijsnummer, birth_date FROM assigned_persons WHERE onderwijsnummer = ANY($2::text[])`,
      [vestigingen, onderwijsnummers],
    ),
  );
  const rioLinks: RioLink[] = [];
  const assigned = new Map<string, { birthDate: string }>();
  for (const r of result.rows) {
    if (r.vestiging !== null) {
      rioLinks.push({
        vestiging: r.vestiging,
        onderwijslocatie: r.onderwijslocatie!,
        ...(r.datum_begin ? { datumBegin: r.datum_begin } : {}),
        ...(r.datum_einde ? { datumEinde: r.datum_einde } : {}),
      });
    } else {
      assigned.set(r.onderwijsnummer!, { birthDate: r.birth_date! });
    }
  }
  return { rioLinks, assigned };
}

/**
 * Makes `links` the whole set of onderwijslocaties of every vestiging they name (CLI loader, demo seed):
 * a vestiging's rows not in `links` go. One transaction, so the rules never see half a load.
 */
export async function replaceRioLinks(pool: Pool, links: readonly RioLink[]): Promise<void> {
  await inTransaction(pool, (tx) => replaceRioLinksInTransaction(tx, links));
}

/** replaceRioLinks in the caller's transaction (an operator's load, with its audit row). */
export async function replaceRioLinksInTransaction(tx: Pick<Pool, 'query'>, links: readonly RioLink[]): Promise<void> {
  await tx.query('DELETE FROM rio_onderwijslocaties WHERE vestiging = ANY($1::text[])', [
    [...new Set(links.map((l) => l.vestiging))],
  ]);
  await tx.query(
    `INSERT INTO rio_onderwijslocaties (vestiging, onderwijslocatie, datum_begin, datum_einde)
     SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::date[])`,
    [
      links.map((l) => l.vestiging),
      links.map((l) => l.onderwijslocatie),
      links.map((l) => l.datumBegin ?? null),
      links.map((l) => l.datumEinde ?? null),
    ],
  );
}

/** The RIO stand-in's niveau of these opleidingcodes (those it knows), for the exam checks. */
export async function opleidingNiveaus(db: Pick<Tx, 'query'>, codes: readonly string[]): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const result = await db.query<{ opleidingcode: string; niveau: string }>(
    prepared(
      'rio-opleiding-niveaus',
      'SELECT opleidingcode, niveau FROM rio_opleiding_niveaus WHERE opleidingcode = ANY($1::text[])',
      [codes],
    ),
  );
  return new Map(result.rows.map((r) => [r.opleidingcode, r.niveau]));
}

/** Sets the niveau of these opleidingcodes in the RIO stand-in (CLI loader, demo seed); other codes keep theirs. */
export async function upsertOpleidingNiveaus(
  db: Pick<Pool, 'query'>,
  rows: readonly { readonly opleidingcode: string; readonly niveau: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO rio_opleiding_niveaus (opleidingcode, niveau) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (opleidingcode) DO UPDATE SET niveau = EXCLUDED.niveau, updated_at = now()`,
    [rows.map((r) => r.opleidingcode), rows.map((r) => r.niveau)],
  );
}

/** The RIO stand-in's sector of these BRINs (those it knows): VO, VSO or VAVO. */
export async function brinSectors(db: Pick<Tx, 'query'>, brins: readonly string[]): Promise<Map<string, string>> {
  if (brins.length === 0) return new Map();
  const result = await db.query<{ brin: string; sector: string }>(
    prepared('rio-brin-sectors', 'SELECT brin, sector FROM rio_brin_sectors WHERE brin = ANY($1::text[])', [brins]),
  );
  return new Map(result.rows.map((r) => [r.brin, r.sector]));
}

/** Sets the sector of these BRINs in the RIO stand-in (CLI loader); other BRINs keep theirs. */
export async function upsertBrinSectors(
  db: Pick<Pool, 'query'>,
  rows: readonly { readonly brin: string; readonly sector: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO rio_brin_sectors (brin, sector) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (brin) DO UPDATE SET sector = EXCLUDED.sector, updated_at = now()`,
    [rows.map((r) => r.brin), rows.map((r) => r.sector)],
  );
}
