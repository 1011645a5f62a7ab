import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { NIVEAUS } from '../../register/exam-result.js';
import type { RioLink } from '../../register/rio-rules.js';
import { cliActor } from '../audit.js';
import { loadBrinSectors, loadOpleidingNiveaus, loadRioLinks } from '../operator-actions.js';
import { withDatabase } from './cli-support.js';

/** One record of a RIO stand-in file (JSON array). */
interface RioFileRecord {
  vestiging: string;
  onderwijslocatie: string;
  datumBegin?: string;
  datumEinde?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks one record and names the first problem, so a bad file is refused as a whole with a reason. */
function toLink(entry: RioFileRecord, index: number): RioLink {
  const where = `record ${index + 1}`;
  if (!/^[0-9]{2}[A-Z]{2}[0-9]{2}$/.test(String(entry.vestiging ?? '')))
    throw new InvalidArgumentError(`${where}: vestiging must be a BRIN and two digits (25BE00)`);
  if (!/^[0-9]{3}X[0-9]{3}$/.test(String(entry.onderwijslocatie ?? '')))
    throw new InvalidArgumentError(`${where}: onderwijslocatie must be three digits, X, three digits (100X300)`);
  for (const field of ['datumBegin', 'datumEinde'] as const) {
    if (entry[field] !== undefined && !(DATE.test(entry[field]) && !Number.isNaN(Date.parse(entry[field]))))
      throw new InvalidArgumentError(`${where}: ${field} must be YYYY-MM-DD`);
  }
  if (entry.datumBegin !== undefined && entry.datumEinde !== undefined && entry.datumEinde < entry.datumBegin)
    throw new InvalidArgumentError(`${where}: datumEinde lies before datumBegin`);
  return {
    vestiging: entry.vestiging,
    onderwijslocatie: entry.onderwijslocatie,
    ...(entry.datumBegin ? { datumBegin: entry.datumBegin } : {}),
    ...(entry.datumEinde ? { datumEinde: entry.datumEinde } : {}),
  };
}

/** The links of a parsed RIO file, each checked; the first problem refuses the whole file. */
export function rioLinksOf(entries: unknown): RioLink[] {
  if (!Array.isArray(entries)) throw new InvalidArgumentError('the file must hold a JSON array');
  const links = (entries as RioFileRecord[]).map(toLink);
  const seen = new Set<string>();
  for (const [index, link] of links.entries()) {
    const key = `${link.vestiging}/${link.onderwijslocatie}`;
    if (seen.has(key)) throw new InvalidArgumentError(`record ${index + 1}: ${key} appears twice`);
    seen.add(key);
  }
  return links;
}

/** The records of a parsed opleiding-niveau file, each checked; the first problem refuses the whole file. */
export function opleidingNiveausOf(entries: unknown): { opleidingcode: string; niveau: string }[] {
  if (!Array.isArray(entries)) throw new InvalidArgumentError('the file must hold a JSON array');
  const seen = new Set<string>();
  return (entries as { opleidingcode?: unknown; niveau?: unknown }[]).map((entry, index) => {
    const where = `record ${index + 1}`;
    const code = String(entry?.opleidingcode ?? '');
    if (!/^\S{4}$/.test(code)) throw new InvalidArgumentError(`${where}: opleidingcode must be four characters (0050)`);
    if (!(NIVEAUS as readonly string[]).includes(String(entry.niveau)))
      throw new InvalidArgumentError(`${where}: niveau must be one of ${NIVEAUS.join(', ')}`);
    if (seen.has(code)) throw new InvalidArgumentError(`${where}: opleidingcode ${code} appears twice`);
    seen.add(code);
    return { opleidingcode: code, niveau: String(entry.niveau) };
  });
}

const SECTORS = ['VO', 'VSO', 'VAVO'] as const;

/** The records of a parsed BRIN-sector file, each checked; the first problem refuses the whole file. */
export function brinSectorsOf(entries: unknown): { brin: string; sector: string }[] {
  if (!Array.isArray(entries)) throw new InvalidArgumentError('the file must hold a JSON array');
  const seen = new Set<string>();
  return (entries as { brin?: unknown; sector?: unknown }[]).map((entry, index) => {
    const where = `record ${index + 1}`;
    const brin = String(entry?.brin ?? '');
    if (!/^[0-9]{2}[A-Z]{2}$/.test(brin))
      throw new InvalidArgumentError(`${where}: brin must be two digits and two capitals (25BE)`);
    if (!(SECTORS as readonly string[]).includes(String(entry.sector)))
      throw new InvalidArgumentError(`${where}: sector must be one of ${SECTORS.join(', ')}`);
    if (seen.has(brin)) throw new InvalidArgumentError(`${where}: brin ${brin} appears twice`);
    seen.add(brin);
    return { brin, sector: String(entry.sector) };
  });
}

/** `bron-broker rio load FILE`: the RIO stand-in (which onderwijslocaties belong to which vestiging). */
export function registerRioCommands(program: Command): void {
  const rio = program.command('rio').description('the RIO stand-in the broker checks onderwijslocaties against');
  rio
    .command('load <file>')
    .description(
      'make a JSON array of {vestiging, onderwijslocatie, datumBegin?, datumEinde?} the whole set of onderwijslocaties of each vestiging it names',
    )
    .action(async (file: string) => {
      const links = rioLinksOf(JSON.parse(fs.readFileSync(file, 'utf8')));
      await withDatabase((pool) => loadRioLinks(pool, cliActor(), links, path.basename(file)));
      process.stdout.write(
        `loaded ${links.length} onderwijslocatie link(s) for ${new Set(links.map((l) => l.vestiging)).size} vestiging(en)\n`,
      );
    });
  rio
    .command('niveaus <file>')
    .description(
      'set the niveau of each opleidingcode in a JSON array of {opleidingcode, niveau} (exam results are checked against it); other codes keep theirs',
    )
    .action(async (file: string) => {
      const rows = opleidingNiveausOf(JSON.parse(fs.readFileSync(file, 'utf8')));
      await withDatabase((pool) => loadOpleidingNiveaus(pool, cliActor(), rows, path.basename(file)));
      process.stdout.write(`loaded the niveau of ${rows.length} opleidingcode(s)\n`);
    });
  rio
    .command('sectors <file>')
    .description(
      'set the sector (VO, VSO or VAVO) of each BRIN in a JSON array of {brin, sector}; prior education reports enrolments at a VSO or VAVO BRIN as such; other BRINs keep theirs',
    )
    .action(async (file: string) => {
      const rows = brinSectorsOf(JSON.parse(fs.readFileSync(file, 'utf8')));
      await withDatabase((pool) => loadBrinSectors(pool, cliActor(), rows, path.basename(file)));
      process.stdout.write(`loaded the sector of ${rows.length} BRIN(s)\n`);
    });
}
