import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { isValidBsn } from '../../register/pgn.js';
import type { PopulationRecord } from '../../register/population.js';
import { cliActor } from '../audit.js';
import { loadPopulation } from '../operator-actions.js';
import { withDatabase } from './cli-support.js';
import { isCalendarDate, registerMutateCommand } from './population-mutate.command.js';

/** One record of a population-register file (JSON array); field names as in the outbound contract. */
interface PopulationFileRecord {
  burgerservicenummer: string;
  geboorteDatum: string;
  geslacht: string;
  achternaam: string;
  voorvoegsels?: string;
  voornamen?: string;
  binnenlandsAdres?: Record<string, string>;
  buitenlandsAdres?: Record<string, string>;
  datumOverlijden?: string;
  /** First enrolment at a PO or VO school in the Netherlands; leave it out when not known. */
  datumEersteInschrijvingPoVo?: string;
}

/** Checks one record and names the first problem, so a bad file is refused as a whole with a reason. */
function toRecord(entry: PopulationFileRecord, index: number): PopulationRecord {
  const where = `record ${index + 1}`;
  if (!isValidBsn(String(entry.burgerservicenummer ?? '')))
    throw new InvalidArgumentError(`${where}: burgerservicenummer fails the elfproef`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(entry.geboorteDatum ?? ''))
    throw new InvalidArgumentError(`${where}: geboorteDatum must be YYYY-MM-DD (00 allowed)`);
  if (!['1', '2', '3'].includes(String(entry.geslacht)))
    throw new InvalidArgumentError(`${where}: geslacht must be 1, 2 or 3`);
  if (!entry.achternaam) throw new InvalidArgumentError(`${where}: achternaam missing`);
  const firstEnrolment = entry.datumEersteInschrijvingPoVo;
  if (firstEnrolment !== undefined && !isCalendarDate(String(firstEnrolment)))
    throw new InvalidArgumentError(`${where}: datumEersteInschrijvingPoVo must be a date YYYY-MM-DD`);
  const address: PopulationRecord['address'] = entry.binnenlandsAdres
    ? { binnenlandsAdres: entry.binnenlandsAdres }
    : entry.buitenlandsAdres
      ? { buitenlandsAdres: entry.buitenlandsAdres }
      : null;
  return {
    bsn: entry.burgerservicenummer,
    birthDate: entry.geboorteDatum,
    gender: String(entry.geslacht),
    surname: entry.achternaam,
    prefixes: entry.voorvoegsels ?? null,
    firstNames: entry.voornamen ?? null,
    address,
    dateOfDeath: entry.datumOverlijden ?? null,
    ...(firstEnrolment !== undefined ? { firstEnrolmentPoVo: firstEnrolment } : {}),
  };
}

/** `bron-broker population load FILE` and `population mutate`: the stand-in population register (BRP). */
export function registerPopulationCommands(program: Command): void {
  const population = program
    .command('population')
    .description('the population register the broker identifies pupils against (a stand-in for the BRP)');
  population
    .command('load <file>')
    .description(
      'add or replace people from a JSON array of {burgerservicenummer, geboorteDatum, geslacht, achternaam, voorvoegsels?, voornamen?, binnenlandsAdres? | buitenlandsAdres?, datumOverlijden?, datumEersteInschrijvingPoVo?}',
    )
    .action(async (file: string) => {
      const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as PopulationFileRecord[];
      if (!Array.isArray(entries)) throw new InvalidArgumentError('the file must hold a JSON array');
      const records = entries.map(toRecord);
      // The people and the audit row commit together: a load is either recorded and done, or neither.
      await withDatabase((pool) => loadPopulation(pool, cliActor(), records, path.basename(file)));
      process.stdout.write(`loaded ${records.length} person(s)\n`);
    });
  registerMutateCommand(population);
}
