import type { Command } from 'commander';
import { cliActor } from '../audit.js';
import { listErrors, showOutbound } from '../error-queue.js';
import { CLI_FIELDS, type ErrorFilterInput, parseErrorFilter, parseId } from '../input.js';
import { purgeErrorQueue, replayErrorQueue } from '../operator-actions.js';
import { printJson, printTable, progressReporter, when, withOperator } from './cli-support.js';

type FilterOptions = Omit<ErrorFilterInput, 'ids'> & { all?: boolean };

const withFilters = (command: Command): Command =>
  command
    .option('--institution <oin>', 'only messages for this institution')
    .option('--operation <name>', 'only this operation, e.g. terugkoppelenInschrijvingVO')
    .option(
      '--contract <name>',
      'only messages caused by a message of this inbound contract, e.g. DUO_VOAanlevering_InschrijvingVO_V1',
    )
    .option(
      '--fault <text>',
      "only messages whose last error contains this, e.g. Client.DK0004, 'HTTP 503', 'no answer'",
    )
    .option('--older-than <duration>', 'only messages created at least this long ago (90s, 30m, 2h, 7d)')
    .option('--newer-than <duration>', 'only messages created at most this long ago')
    .option('--limit <n>', 'at most this many messages, oldest first');

/** `bron-broker errors …`: the error queue from the command line (a shell over operator-actions.ts). */
export function registerErrorCommands(program: Command): void {
  const errors = program.command('errors').description('messages that could not be delivered (the error queue)');

  withFilters(errors.command('list').description('list the error queue, oldest first'))
    .option('--json', 'print JSON')
    .action(async (options: FilterOptions & { json?: boolean }) => {
      const entries = await withOperator((deps) => listErrors(deps, parseErrorFilter(options, CLI_FIELDS)));
      if (options.json) return printJson(entries);
      printTable(
        ['ID', 'INSTITUTION', 'BRIN', 'OPERATION', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
        entries.map((e) => [
          String(e.id),
          e.institutionOin,
          e.brin ?? '-',
          e.operation,
          String(e.attempts),
          when(e.createdAt),
          (e.lastError ?? '').slice(0, 80),
        ]),
      );
    });

  errors
    .command('show <id>')
    .description('one message with its attempt timeline')
    .option('--json', 'print JSON')
    .action(async (value: string, options: { json?: boolean }) => {
      const shown = await withOperator((deps) => showOutbound(deps, parseId(value)));
      if (!shown) throw new Error(`no outbound message ${value}`);
      if (options.json) return printJson(shown);
      const m = shown.message;
      const fields: [string, string][] = [
        ['id', String(m.id)],
        ['institution', m.institutionOin],
        ['brin', m.brin ?? '-'],
        ['operation', m.operation],
        ['message id', m.wsaMessageId],
        ['status', m.status],
        ['attempts', String(m.attempts)],
        ['next attempt', when(m.nextAttemptAt)],
        ['created', when(m.createdAt)],
        ['delivered', when(m.deliveredAt)],
        ['caused by', m.causeMessageId === null ? '-' : `inbound message ${m.causeMessageId}`],
        ['last error', m.lastError ?? '-'],
      ];
      for (const [label, value] of fields) process.stdout.write(`${label.padEnd(13)} ${value}\n`);
      process.stdout.write('\n');
      printTable(
        ['#', 'STARTED', 'OUTCOME', 'HTTP', 'FAULT', 'MS', 'ERROR'],
        shown.attempts.map((a) => [
          String(a.attempt),
          when(a.startedAt),
          a.outcome,
          String(a.httpStatus ?? '-'),
          a.faultCode ?? '-',
          String(a.latencyMs),
          (a.error ?? '').slice(0, 60),
        ]),
      );
    });

  for (const [name, description, act] of [
    ['replay', 'deliver again, with the original MessageID and fresh attempts', replayErrorQueue],
    ['purge', 'take out of delivery for good (kept for audit)', purgeErrorQueue],
  ] as const) {
    withFilters(errors.command(`${name} [ids...]`).description(description))
      .option('--all', 'the whole error queue')
      .option('--dry-run', 'only say which messages would be affected; change nothing')
      .action(async (ids: string[], options: FilterOptions & { dryRun?: boolean }) => {
        const filter = parseErrorFilter({ ...options, ids }, CLI_FIELDS, {
          requireScope: true,
          all: options.all ?? false,
        });
        const dryRun = options.dryRun ?? false;
        const progress = progressReporter(name);
        const bulk = !dryRun && ids.length === 0; // a filter can match thousands: show progress
        const affected = await withOperator((deps) =>
          act(deps, cliActor(), filter, { dryRun, ...(bulk ? { onProgress: progress.onProgress } : {}) }),
        ).finally(progress.stop);
        process.stdout.write(
          `${dryRun ? 'would ' : ''}${name} ${affected.length} message(s)${affected.length > 0 ? `: ${affected.slice(0, 20).join(', ')}${affected.length > 20 ? ', …' : ''}` : ''}\n`,
        );
      });
  }
}
