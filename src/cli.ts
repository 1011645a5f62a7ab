import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { OIN_PATTERN } from './contracts/catalogue.js';
import { resolveDatabase } from './services/resolve-services.js';
import { createPool, type Pool } from './store/database.js';
import { migrate } from './store/migrate.js';
import { findInstitution, listInstitutions, upsertInstitution } from './store/institutions.repo.js';

/** Runs `work` against the configured database (the embedded one is started for the call when not running). */
async function withDatabase<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await resolveDatabase(config, (message) => process.stderr.write(`${message}\n`));
  const pool = createPool(database.url, 2);
  try {
    await migrate(pool);
    return await work(pool);
  } finally {
    await pool.end();
    await database.stop();
  }
}

const oin = (value: string): string => {
  if (!OIN_PATTERN.test(value)) throw new InvalidArgumentError('an OIN is 20 digits or capitals');
  return value;
};
const brin = (value: string, previous: string[] = []): string[] => {
  if (!/^[0-9]{2}[A-Z]{2}$/.test(value)) throw new InvalidArgumentError('a BRIN is 2 digits and 2 capitals, e.g. 25BE');
  return [...previous, value];
};
const url = (value: string): string => {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw new InvalidArgumentError('an http(s) URL');
  }
  return value;
};

const program = new Command('bron-broker').description('bron-broker operator commands');
const institution = program.command('institution').description('institutions that deliver messages and receive pushes');

institution.command('add')
  .description('register an institution, or replace the one with this OIN')
  .requiredOption('--oin <oin>', 'OIN (20 characters)', oin)
  .requiredOption('--name <name>', 'name')
  .requiredOption('--brin <brin>', 'a BRIN it may deliver for (repeat for more)', brin)
  .option('--endpoint <url>', 'its SOAP endpoint for pushes', url)
  .option('--disabled', 'register it disabled')
  .action(async (options: { oin: string; name: string; brin: string[]; endpoint?: string; disabled?: boolean }) => {
    await withDatabase(async (pool) => {
      await upsertInstitution(pool, { oin: options.oin, name: options.name, brins: options.brin, endpointUrl: options.endpoint ?? null, enabled: !options.disabled });
      const stored = await findInstitution(pool, options.oin);
      process.stdout.write(`saved ${stored!.oin} ${stored!.name} (${stored!.brins.join(', ')})\n`);
    });
  });

institution.command('list')
  .description('list the registered institutions')
  .option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => {
    const institutions = await withDatabase(listInstitutions);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(institutions, null, 2)}\n`);
      return;
    }
    const rows = institutions.map((i) => [i.oin, i.brins.join(','), i.enabled ? 'yes' : 'no', i.endpointUrl ?? '-', i.name]);
    const header = ['OIN', 'BRINS', 'ENABLED', 'ENDPOINT', 'NAME'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
