import type { Command } from 'commander';
import { cliActor } from '../audit.js';
import { dataKeyUse, rotateDataKeys } from '../key-rotation.js';
import { printJson, withDatabase } from './cli-support.js';

const shown = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || '-';

/** `bron-broker keys status|rotate`: which data keys stored messages are sealed with, and re-sealing them under the current one. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('the data keys (DATA_KEYS) stored messages are encrypted with');
  keys
    .command('status')
    .description('stored messages and outbound bodies per key id (plain: not encrypted)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const use = await withDatabase(dataKeyUse);
      if (options.json) return printJson(use);
      process.stdout.write(`inbound messages  ${shown(use.inbound)}\noutbound messages ${shown(use.outbound)}\n`);
    });
  keys
    .command('rotate')
    .description('re-encrypt every stored message not under the first key of DATA_KEYS, in batches; audited')
    .option('--batch-size <n>', 'rows per transaction', (v) => Number(v), 500)
    .action(async (options: { batchSize: number }) => {
      const done = await withDatabase((pool) => rotateDataKeys(pool, cliActor(), { batchSize: options.batchSize }));
      process.stdout.write(
        `re-encrypted ${done.inbound} inbound and ${done.outbound} outbound message(s) under key ${done.keyId}\n`,
      );
    });
}
