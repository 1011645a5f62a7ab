import { type Command, InvalidArgumentError } from 'commander';
import { duration, oin, printTable, withOperator } from '../cli-support.js';
import { type ErrorFilter, listErrors, purgeErrors, replayErrors, showOutbound } from './error-queue.js';

interface FilterOptions {
  institution?: string;
  operation?: string;
  olderThan?: number;
  all?: boolean;
}

const id = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a message id (a number)');
  return Number(value);
};

function filterOf(ids: number[], options: FilterOptions, requireScope: boolean): ErrorFilter {
  const filter: ErrorFilter = {
    ...(ids.length > 0 ? { ids } : {}),
    ...(options.institution ? { institutionOin: options.institution } : {}),
    ...(options.operation ? { operation: options.operation } : {}),
    ...(options.olderThan !== undefined ? { olderThanMs: options.olderThan } : {}),
  };
  if (requireScope && Object.keys(filter).length === 0 && !options.all) {
    throw new InvalidArgumentError('name message ids or a filter (--institution, --operation, --older-than), or --all');
  }
  return filter;
}

const withFilters = (command: Command): Command => command
  .option('--institution <oin>', 'only messages for this institution', oin)
  .option('--operation <name>', 'only this operation, e.g. terugkoppelenInschrijvingVO')
  .option('--older-than <duration>', 'only messages created at least this long ago (90s, 30m, 2h, 7d)', duration);

/** `bron-broker errors …`: the error queue from the command line (a shell over src/operator/error-queue.ts). */
export function registerErrorCommands(program: Command): void {
  const errors = program.command('errors').description('messages that could not be delivered (the error queue)');

  withFilters(errors.command('list').description('list the error queue, oldest first'))
    .option('--json', 'print JSON')
    .action(async (options: FilterOptions & { json?: boolean }) => {
      const entries = await withOperator((deps) => listErrors(deps, filterOf([], options, false)));
      if (options.json) return void process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      printTable(['ID', 'INSTITUTION', 'BRIN', 'OPERATION', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
        entries.map((e) => [String(e.id), e.institutionOin, e.brin ?? '-', e.operation, String(e.attempts), e.createdAt.toISOString(), (e.lastError ?? '').slice(0, 80)]));
    });

  errors.command('show <id>').description('one message with its attempt timeline').option('--json', 'print JSON')
    .action(async (value: string, options: { json?: boolean }) => {
      const shown = await withOperator((deps) => showOutbound(deps, id(value)));
      if (!shown) throw new Error(`no outbound message ${value}`);
      if (options.json) return void process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      for (const [key, field] of Object.entries(shown.message)) process.stdout.write(`${key.padEnd(18)} ${field instanceof Date ? field.toISOString() : String(field ?? '-')}\n`);
      process.stdout.write('\n');
      printTable(['#', 'STARTED', 'OUTCOME', 'HTTP', 'FAULT', 'MS', 'ERROR'], shown.attempts.map((a) => [
        String(a.attempt), a.startedAt.toISOString(), a.outcome, String(a.httpStatus ?? '-'), a.faultCode ?? '-', String(a.latencyMs), (a.error ?? '').slice(0, 60)]));
    });

  for (const [name, description, act] of [
    ['replay', 'deliver again, with the original MessageID and fresh attempts', replayErrors],
    ['purge', 'take out of delivery for good (kept for audit)', purgeErrors],
  ] as const) {
    withFilters(errors.command(`${name} [ids...]`).description(description))
      .option('--all', 'the whole error queue')
      .option('--dry-run', 'only say how many would be affected')
      .action(async (ids: string[], options: FilterOptions & { dryRun?: boolean }) => {
        const filter = filterOf(ids.map(id), options, true);
        const affected = await withOperator((deps) => act(deps, filter, { dryRun: options.dryRun ?? false }));
        process.stdout.write(`${options.dryRun ? 'would ' : ''}${name} ${affected.length} message(s)${affected.length > 0 ? `: ${affected.slice(0, 20).join(', ')}${affected.length > 20 ? ', …' : ''}` : ''}\n`);
      });
  }
}
