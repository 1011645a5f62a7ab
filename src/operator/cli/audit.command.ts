import type { Command } from 'commander';
import { listAudit } from '../../store/audit.repo.js';
import { printJson, printTable, when, withDatabase } from './cli-support.js';

/** `bron-broker audit`: who did what, newest first. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('operator actions, newest first: who, what, on which filter, how many, when')
    .option('--limit <n>', 'how many entries', (v) => Number(v), 50)
    .option('--action <name>', 'only this action, e.g. errors.replay')
    .option('--json', 'print JSON')
    .action(async (options: { limit: number; action?: string; json?: boolean }) => {
      const entries = await withDatabase((pool) =>
        listAudit(pool, { limit: options.limit, ...(options.action ? { action: options.action } : {}) }),
      );
      if (options.json) return printJson(entries);
      printTable(
        ['WHEN', 'WHO', 'ACTION', 'COUNT', 'DRY RUN', 'ON'],
        entries.map((e) => [
          when(e.at),
          e.actor,
          e.action,
          String(e.affected),
          e.dryRun ? 'yes' : '',
          JSON.stringify(e.target),
        ]),
      );
    });
}
