import type { Command } from 'commander';
import { CLI_FIELDS } from '../input.js';
import { listSubscriptionViews, parseSubscriptionFilter } from '../subscriptions.js';
import { printJson, printTable, when, withDatabase } from './cli-support.js';

/** `bron-broker subscriptions …`: MBO institutions' prior-education subscriptions (docs/prior-education.md). */
export function registerSubscriptionCommands(program: Command): void {
  const subscriptions = program
    .command('subscriptions')
    .description("MBO institutions' subscriptions on students' prior education (vooropleidingen)");

  subscriptions
    .command('list')
    .description("running subscriptions, newest first (the pupil's number masked)")
    .option('--institution <oin-or-brin>', 'only those of this institution (OIN) or BRIN')
    .option('--all', 'also those that ended, with why')
    .option('--limit <n>', 'at most this many (default 1000)')
    .option('--json', 'print JSON')
    .action(async (options: { institution?: string; all?: boolean; limit?: string; json?: boolean }) => {
      const filter = parseSubscriptionFilter(options, CLI_FIELDS);
      const rows = await withDatabase((pool) => listSubscriptionViews(pool, filter));
      if (options.json) return printJson(rows);
      printTable(
        ['ID', 'INSTITUTION', 'BRIN', 'PGN', 'STARTED', 'ENDS', 'STATE', 'ENDED'],
        rows.map((s) => [
          String(s.id),
          s.institutionOin,
          s.brin,
          s.maskedPgn,
          when(s.startedAt),
          when(s.endsAt),
          s.state,
          s.endedAt ? when(s.endedAt) : '-',
        ]),
      );
    });
}
