import type { Address, IdentificationRequest, PersonData } from '../register/person.js';
import { isValidOnderwijsnummer } from '../register/pgn.js';
import type { PopulationRecord } from '../register/population.js';
import type { Tx } from './register.repo.js';
import { findPopulationRecord } from './register.repo.js';

/** Name + birth date + the address's identifying parts, normalised, to find a person again without a PGN. */
export function matchKey(surname: string, birthDate: string, address: Address): string {
  const parts =
    'binnenlandsAdres' in address
      ? [address.binnenlandsAdres.postcode, address.binnenlandsAdres.huisnummer, address.binnenlandsAdres.plaatsnaam]
      : [address.buitenlandsAdres.landcode, address.buitenlandsAdres.adresregelBuitenland1];
  return [surname, birthDate, ...parts].map((p) => (p ?? '').toLowerCase().replace(/\s+/g, ' ').trim()).join('|');
}

interface AssignedRow {
  onderwijsnummer: string;
  birth_date: string;
  gender: string;
  surname: string;
  prefixes: string | null;
  first_names: string | null;
  address: Address | null;
}

const toPerson = (row: AssignedRow): PersonData => ({
  pgn: { kind: 'OWN', value: row.onderwijsnummer },
  achternaam: row.surname,
  ...(row.prefixes ? { voorvoegsels: row.prefixes } : {}),
  ...(row.first_names ? { voornamen: row.first_names } : {}),
  geboorteDatum: row.birth_date,
  geslacht: row.gender,
  ...(row.address ? { address: row.address } : {}),
});

/** A person the broker gave an onderwijsnummer, by that number or by the extended set of a request. */
export async function findAssignedPerson(
  tx: Tx,
  by: { onderwijsnummer: string } | { request: IdentificationRequest },
): Promise<PersonData | null> {
  const result =
    'onderwijsnummer' in by
      ? await tx.query<AssignedRow>('SELECT * FROM assigned_persons WHERE onderwijsnummer = $1', [by.onderwijsnummer])
      : await tx.query<AssignedRow>('SELECT * FROM assigned_persons WHERE match_key = $1 ORDER BY created_at LIMIT 1', [
          matchKey(by.request.zonderPgn!.achternaam, by.request.geboorteDatum, by.request.zonderPgn!.address),
        ]);
  return result.rows[0] ? toPerson(result.rows[0]) : null;
}

/** A population-register entry with this surname and birth date at this address, or null. */
export async function findPersonInPopulationRegister(
  tx: Tx,
  surname: string,
  birthDate: string,
  address: Address,
): Promise<PopulationRecord | null> {
  const result = await tx.query<{ bsn: string }>(
    'SELECT bsn, address FROM population_register WHERE lower(surname) = lower($1) AND birth_date = $2',
    [surname, birthDate],
  );
  const key = matchKey(surname, birthDate, address);
  for (const row of result.rows) {
    const record = await findPopulationRecord(tx, row.bsn);
    if (record?.address && matchKey(record.surname, record.birthDate, record.address) === key) return record;
  }
  return null;
}

/**
 * Gives a person without a BSN a new onderwijsnummer. Numbers come from a sequence of 8-digit prefixes,
 * each completed with the one check digit that makes the weighted sum ≡ 5 (mod 11); prefixes with no
 * such digit are skipped. A prefix is used once, so numbers are unique without a retry loop.
 */
export async function assignOnderwijsnummer(tx: Tx, request: IdentificationRequest): Promise<PersonData> {
  const details = request.zonderPgn!;
  let number: string | null = null;
  while (!number) {
    const prefix = (await tx.query<{ v: string }>("SELECT nextval('onderwijsnummer_candidates')::text AS v")).rows[0]!
      .v;
    const candidates = Array.from({ length: 10 }, (_, d) => `${prefix}${d}`).filter(isValidOnderwijsnummer);
    number = candidates[0] ?? null;
  }
  const row = (
    await tx.query<AssignedRow>(
      `INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, prefixes, first_names, address, match_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        number,
        request.geboorteDatum,
        request.geslacht,
        details.achternaam,
        details.voorvoegsels ?? null,
        details.voornamen ?? null,
        JSON.stringify(details.address),
        matchKey(details.achternaam, request.geboorteDatum, details.address),
      ],
    )
  ).rows[0]!;
  return toPerson(row);
}
