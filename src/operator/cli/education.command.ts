import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../infra/config.js';
import { isValidBsn, isValidOnderwijsnummer } from '../../register/pgn.js';
import type { EducationRecord, MboNiveau } from '../../register/prior-education/education-records.js';
import type { MboResultaat } from '../../register/prior-education/prior-education-rules.js';
import { cliActor } from '../audit.js';
import { loadEducation } from '../operator-actions.js';
import { withDatabase } from './cli-support.js';
import { isCalendarDate } from './population-mutate.command.js';

const KINDS = ['mbo-deelname', 'mbo-diploma', 'ho-deelname', 'ho-graad'] as const;
const LEERWEGEN = ['BOL', 'BBL'] as const;
/** A code as the outbound contract carries it: 1 to 20 characters, no white space. */
const CODE = /^\S{1,20}$/;

type Entry = Record<string, unknown>;

/** Checks one record and names the first problem, so a bad file is refused as a whole with a reason. */
function toRecord(entry: Entry, index: number): EducationRecord {
  const where = `record ${index + 1}`;
  const text = (field: string): string => {
    const value = entry[field];
    if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${where}: ${field} missing`);
    return value;
  };
  const matching = (field: string, pattern: RegExp, shape: string): string => {
    const value = text(field);
    if (!pattern.test(value)) throw new InvalidArgumentError(`${where}: ${field} must be ${shape}`);
    return value;
  };
  const date = (field: string): string => {
    const value = text(field);
    if (!isCalendarDate(value)) throw new InvalidArgumentError(`${where}: ${field} must be a date YYYY-MM-DD`);
    return value;
  };
  const dates = (): { datumInschrijving: string; datumUitschrijving?: string } => {
    const datumInschrijving = date('datumInschrijving');
    if (entry.datumUitschrijving === undefined) return { datumInschrijving };
    const datumUitschrijving = date('datumUitschrijving');
    if (datumUitschrijving < datumInschrijving)
      throw new InvalidArgumentError(`${where}: datumUitschrijving lies before datumInschrijving`);
    return { datumInschrijving, datumUitschrijving };
  };
  const niveau = (): MboNiveau => {
    const given = entry.niveau;
    const value = typeof given === 'number' || typeof given === 'string' ? Number(given) : Number.NaN;
    if (![1, 2, 3, 4].includes(value)) throw new InvalidArgumentError(`${where}: niveau must be 1, 2, 3 or 4`);
    return value as MboNiveau;
  };
  const kind = entry.kind;
  if (!(KINDS as readonly unknown[]).includes(kind))
    throw new InvalidArgumentError(`${where}: kind must be one of ${KINDS.join(', ')}`);
  const pgn = text('pgn');
  if (!isValidBsn(pgn) && !isValidOnderwijsnummer(pgn))
    throw new InvalidArgumentError(
      `${where}: pgn must be a BSN or an onderwijsnummer (nine digits that pass their check)`,
    );
  const brin = matching('brin', /^[0-9]{2}[A-Z]{2}$/, 'two digits and two capitals (41MB)');
  switch (kind as (typeof KINDS)[number]) {
    case 'mbo-deelname': {
      const leerweg = entry.leerweg;
      if (leerweg !== undefined && !LEERWEGEN.includes(leerweg as never))
        throw new InvalidArgumentError(`${where}: leerweg must be BOL or BBL`);
      return {
        kind: 'mbo-deelname',
        pgn,
        brin,
        volgnummer: matching('volgnummer', CODE, '1 to 20 characters'),
        crebo: matching('crebo', /^[0-9]{5}$/, 'five digits'),
        niveau: niveau(),
        ...dates(),
        ...(leerweg !== undefined ? { leerweg: leerweg as (typeof LEERWEGEN)[number] } : {}),
      };
    }
    case 'mbo-diploma': {
      const results = entry.resultaten ?? [];
      if (!Array.isArray(results)) throw new InvalidArgumentError(`${where}: resultaten must be an array`);
      return {
        kind: 'mbo-diploma',
        pgn,
        brin,
        crebo: matching('crebo', /^[0-9]{5}$/, 'five digits'),
        niveau: niveau(),
        datumDiploma: date('datumDiploma'),
        resultaten: results.map((r: Entry, n: number) => resultOf(r, `${where}, resultaat ${n + 1}`)),
      };
    }
    case 'ho-deelname':
      return {
        kind: 'ho-deelname',
        pgn,
        brin,
        volgnummer: matching('volgnummer', CODE, '1 to 20 characters'),
        opleidingcode: matching('opleidingcode', /^[0-9]{5}$/, 'five digits (the CROHO code)'),
        ...dates(),
      };
    case 'ho-graad':
      return {
        kind: 'ho-graad',
        pgn,
        brin,
        opleidingcode: matching('opleidingcode', /^[0-9]{5}$/, 'five digits (the CROHO code)'),
        graad: matching('graad', CODE, '1 to 20 characters'),
        datumGraad: date('datumGraad'),
      };
  }
}

function resultOf(entry: Entry, where: string): MboResultaat {
  const field = (name: string): string | undefined => {
    const value = entry?.[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !CODE.test(value))
      throw new InvalidArgumentError(`${where}: ${name} must be 1 to 20 characters`);
    return value;
  };
  const onderdeel = field('onderdeel');
  if (onderdeel === undefined) throw new InvalidArgumentError(`${where}: onderdeel missing`);
  const eindcijfer = field('eindcijfer');
  const beoordeling = field('beoordeling');
  return { onderdeel, ...(eindcijfer ? { eindcijfer } : {}), ...(beoordeling ? { beoordeling } : {}) };
}

/** The records of a parsed education file, each checked; the first problem refuses the whole file. */
export function educationRecordsOf(entries: unknown): EducationRecord[] {
  if (!Array.isArray(entries)) throw new InvalidArgumentError('the file must hold a JSON array');
  // An empty load would still put the stand-in in use, making every pupil's MBO and HO "none".
  if (entries.length === 0) throw new InvalidArgumentError('the file holds no records');
  const records = (entries as Entry[]).map((entry, index) => toRecord(entry ?? {}, index));
  const seen = new Set<string>();
  for (const [index, r] of records.entries()) {
    if (r.kind !== 'mbo-deelname' && r.kind !== 'ho-deelname') continue;
    // U+001F cannot occur in a PGN, BRIN or volgnummer.
    const key = `${r.kind}\u001f${r.pgn}\u001f${r.brin}\u001f${r.volgnummer}`;
    if (seen.has(key))
      throw new InvalidArgumentError(
        `record ${index + 1}: a ${r.kind} at ${r.brin} with this volgnummer appears twice`,
      );
    seen.add(key);
  }
  return records;
}

/** `bron-broker education load FILE`: the MBO and HO stand-in that prior education reads. */
export function registerEducationCommands(program: Command): void {
  const education = program
    .command('education')
    .description('the MBO and HO stand-in prior education reads (participations, diplomas, degrees)');
  education
    .command('load <file>')
    .description(
      'make a JSON array of records the whole MBO and HO education of each pupil it names: {kind: "mbo-deelname", pgn, brin, volgnummer, crebo, niveau, datumInschrijving, datumUitschrijving?, leerweg?} | {kind: "mbo-diploma", pgn, brin, crebo, niveau, datumDiploma, resultaten?: [{onderdeel, eindcijfer?, beoordeling?}]} | {kind: "ho-deelname", pgn, brin, volgnummer, opleidingcode, datumInschrijving, datumUitschrijving?} | {kind: "ho-graad", pgn, brin, opleidingcode, graad, datumGraad}',
    )
    .action(async (file: string) => {
      const records = educationRecordsOf(JSON.parse(fs.readFileSync(file, 'utf8')));
      // The rows and the audit row commit together: a load is either recorded and done, or neither.
      const { brokerOin } = loadConfig();
      const { pupils, pushed } = await withDatabase((pool) =>
        loadEducation(pool, cliActor(), records, path.basename(file), { brokerOin, now: new Date() }),
      );
      process.stdout.write(
        `loaded ${records.length} record(s) for ${pupils} pupil(s); ${pushed} prior-education push(es) queued\n`,
      );
    });
}
