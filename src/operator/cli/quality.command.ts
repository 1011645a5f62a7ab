import type { Command } from 'commander';
import { loadConfig } from '../../infra/config.js';
import { silentLogger } from '../../infra/log.js';
import { listQualityRuns } from '../../store/quality.repo.js';
import { cliActor } from '../audit.js';
import { CLI_FIELDS } from '../input.js';
import { runQuality } from '../operator-actions.js';
import { listQuality, parseQualityFilter } from '../quality.js';
import { printJson, printTable, when, withDatabase } from './cli-support.js';

/**
 * `bron-broker quality …`: the weekly quality checks' signals per school, their runs, and a run now.
 * Only PostgreSQL is needed: a run's reports are outbound rows the broker's deliverer picks up.
 */
export function registerQualityCommands(program: Command): void {
  const quality = program
    .command('quality')
    .description('the weekly quality checks over the register (kwaliteitscontrole)');

  quality
    .command('list')
    .description("signals of the latest run, by school and enrolment (the pupil's number masked)")
    .option('--institution <oin>', 'only the BRINs of this institution')
    .option('--brin <brin>', 'only this BRIN')
    .option('--code <code>', 'only this signal code, e.g. Q0002')
    .option('--limit <n>', 'at most this many signals (default 1000)')
    .option('--json', 'print JSON')
    .action(async (options: { institution?: string; brin?: string; code?: string; limit?: string; json?: boolean }) => {
      const filter = parseQualityFilter(options, CLI_FIELDS);
      const signals = await withDatabase((pool) => listQuality(pool, filter));
      if (options.json) return printJson(signals);
      printTable(
        ['BRIN', 'VOLGNUMMER', 'PGN', 'CODE', 'DETAILS', 'FIRST SEEN', 'LAST SEEN'],
        signals.map((s) => [
          s.brin,
          s.inschrijvingvolgnummer,
          s.maskedPgn,
          s.code,
          s.sleutelgegevens.map((k) => `${k.naam}=${k.waarde}`).join(' ') || '-',
          when(s.firstSeen),
          when(s.lastSeen),
        ]),
      );
    });

  quality
    .command('runs')
    .description('the latest quality runs, newest first')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const runs = await withDatabase((pool) => listQualityRuns(pool));
      if (options.json) return printJson(runs);
      printTable(
        ['ID', 'TRIGGER', 'BY', 'DATE', 'STARTED', 'PUPILS', 'SIGNALS', 'SCHOOLS TOLD'],
        runs.map((r) => [
          String(r.id),
          r.trigger,
          r.actor ?? '-',
          r.checkDate,
          when(r.startedAt),
          String(r.pupils),
          String(r.signals),
          String(r.notified),
        ]),
      );
    });

  quality
    .command('run')
    .description('run the quality checks now and send each school its signals (audited)')
    .action(async () => {
      const { brokerOin } = loadConfig();
      const outcome = await withDatabase((pool) => runQuality({ pool, brokerOin, log: silentLogger() }, cliActor()));
      if (!outcome.ran) {
        process.stderr.write('another quality run is under way; try again when it is done\n');
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        `quality run ${outcome.runId} for ${outcome.checkDate}: ${outcome.pupils} pupil(s) checked, ${outcome.signals} signal(s), ${outcome.notified} school(s) told\n`,
      );
    });
}
