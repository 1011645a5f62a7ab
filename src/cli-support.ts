import { InvalidArgumentError } from 'commander';
import { loadConfig } from './config.js';
import { OIN_PATTERN } from './contracts/catalogue.js';
import type { OperatorDeps } from './operator/error-queue.js';
import { createDeliveryQueue, deliveryJobs } from './queue/delivery-queue.js';
import { createProducerConnection } from './queue/redis.js';
import { resolveDatabase, resolveRedis } from './services/resolve-services.js';
import { createPool, type Pool } from './store/database.js';
import { migrate } from './store/migrate.js';

const say = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** Runs `work` against the configured database (the embedded one is started for the call when not running). */
export async function withDatabase<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await resolveDatabase(config, say);
  const pool = createPool(database.url, 2);
  try {
    await migrate(pool);
    return await work(pool);
  } finally {
    await pool.end();
    await database.stop();
  }
}

/** Runs `work` with the operator API's dependencies: the database and the delivery queue. */
export async function withOperator<T>(work: (deps: OperatorDeps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const redisService = await resolveRedis(config, say);
  const redis = createProducerConnection(redisService.url);
  const deliveryQueue = createDeliveryQueue(redis, config.queuePrefix);
  try {
    await deliveryQueue.waitUntilReady();
    return await withDatabase((pool) => work({ pool, deliveryQueue, deliveryJobs: deliveryJobs(config.deliveryRetries) }));
  } finally {
    await deliveryQueue.close();
    redis.disconnect();
    await redisService.stop();
  }
}

export const oin = (value: string): string => {
  if (!OIN_PATTERN.test(value)) throw new InvalidArgumentError('an OIN is 20 digits or capitals');
  return value;
};

/** `90s`, `30m`, `2h`, `7d` or milliseconds. */
export const duration = (value: string): number => {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('a duration such as 90s, 30m, 2h or 7d');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
};

/** Prints rows as an aligned table (header first). */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}\n`);
}
