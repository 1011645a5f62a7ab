import type { Command } from 'commander';
import { cliActor } from '../audit.js';
import { CLI_FIELDS, parseProcessingErrorFilter } from '../input.js';
import { replayProcessing } from '../operator-actions.js';
import { listProcessingErrorQueue } from '../processing-error-queue.js';
import { printJson, printTable, when, withDatabase } from './cli-support.js';

/**
 * `bron-broker processing-errors …`: accepted messages that could not be processed, from the command
 * line. Only PostgreSQL is needed: a replayed message is due at once and the broker's sweeper wakes it.
 */
export function registerProcessingErrorCommands(program: Command): void {
  const processing = program
    .command('processing-errors')
    .description('accepted messages that could not be processed (the processing error queue)');

  processing
    .command('list')
    .description('list the processing error queue, oldest first')
    .option('--sender <oin>', 'only messages from this sender')
    .option('--limit <n>', 'at most this many messages, oldest first')
    .option('--json', 'print JSON')
    .action(async (options: { sender?: string; limit?: string; json?: boolean }) => {
      const filter = parseProcessingErrorFilter(options, CLI_FIELDS);
      const entries = await withDatabase((pool) => listProcessingErrorQueue({ pool }, filter));
      if (options.json) return printJson(entries);
      printTable(
        ['ID', 'CONTRACT', 'OPERATION', 'SENDER', 'BRIN', 'RECEIVED', 'FAILED', 'REASON'],
        entries.map((e) => [
          String(e.messageId),
          e.contract,
          e.operation,
          e.senderOin,
          e.brin ?? '-',
          when(e.receivedAt),
          when(e.failedAt),
          (e.failure ?? '').slice(0, 80),
        ]),
      );
    });

  processing
    .command('replay [ids...]')
    .description('process again: the messages are due at once, the sweeper wakes them')
    .option('--sender <oin>', 'only messages from this sender')
    .option('--all', 'the whole processing error queue')
    .option('--dry-run', 'only say which messages would be replayed; change nothing')
    .action(async (ids: string[], options: { sender?: string; all?: boolean; dryRun?: boolean }) => {
      const filter = parseProcessingErrorFilter({ ids, sender: options.sender }, CLI_FIELDS, {
        requireScope: true,
        all: options.all ?? false,
      });
      const dryRun = options.dryRun ?? false;
      const replayed = await withDatabase((pool) => replayProcessing({ pool }, cliActor(), filter, { dryRun }));
      process.stdout.write(
        `${dryRun ? 'would ' : ''}replay ${replayed.length} message(s)${replayed.length > 0 ? `: ${replayed.slice(0, 20).join(', ')}${replayed.length > 20 ? ', …' : ''}` : ''}\n`,
      );
    });
}
