import type { Command } from 'commander';
import { collectStats } from '../stats.js';
import { printJson, withOperator } from './cli-support.js';

/** `bron-broker stats`: the broker at a glance. */
export function registerStatsCommands(program: Command): void {
  program
    .command('stats')
    .description('accepted, processed, queued, delivered, error queues, delivery latency, queue depths')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const stats = await withOperator((deps) => collectStats(deps.pool, [deps.processingQueue]));
      if (options.json) return printJson(stats);
      const latency = stats.deliveryLatencyLastHour;
      const lines: [string, string][] = [
        ['accepted (1 h / 24 h)', `${stats.acceptedLastHour} / ${stats.acceptedLast24h}`],
        [
          'outcomes (24 h)',
          Object.entries(stats.outcomesLast24h)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '-',
        ],
        ['processing backlog', String(stats.processingBacklog)],
        ['processing error queue', String(stats.processingErrors)],
        ['outbound pending', String(stats.outboundPending)],
        ['delivered (1 h)', String(stats.deliveredLastHour)],
        ['delivery latency (1 h)', latency ? `p50 ${latency.p50} s, p95 ${latency.p95} s, max ${latency.max} s` : '-'],
        ['error queue', String(stats.errorQueue)],
        ['institutions', `${stats.institutions.total} (${stats.institutions.paused} paused)`],
        ...Object.entries(stats.queues).map(([queue, counts]): [string, string] => [
          `queue ${queue}`,
          Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
      ];
      for (const [key, value] of lines) process.stdout.write(`${key.padEnd(24)} ${value}\n`);
    });
}
