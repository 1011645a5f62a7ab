import { Command, InvalidArgumentError } from 'commander';
import { oin, printTable, withDatabase, withOperator } from './cli-support.js';
import { ConfigError } from './config.js';
import { pauseInstitution, resumeInstitution } from './operator/error-queue.js';
import { registerErrorCommands } from './operator/errors.command.js';
import { registerPopulationCommands } from './operator/population.command.js';
import { findInstitution, listInstitutions, upsertInstitution } from './store/institutions.repo.js';

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
    printTable(['OIN', 'BRINS', 'ENABLED', 'ENDPOINT', 'NAME'], institutions.map((i) => [i.oin, i.brins.join(','), i.enabled ? 'yes' : 'no', i.endpointUrl ?? '-', i.name]));
  });

institution.command('pause <oin>')
  .description('hold deliveries to an institution (holiday); its messages wait without using attempts')
  .action(async (value: string) => {
    if (!(await withDatabase((pool) => pauseInstitution({ pool }, oin(value))))) throw new Error(`no institution ${value}`);
    process.stdout.write(`paused ${value}\n`);
  });

institution.command('resume <oin>')
  .description('resume deliveries to an institution and queue what waited')
  .action(async (value: string) => {
    const queued = await withOperator((deps) => resumeInstitution(deps, oin(value)));
    process.stdout.write(`resumed ${value}; ${queued} message(s) queued\n`);
  });

registerErrorCommands(program);
registerPopulationCommands(program);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
