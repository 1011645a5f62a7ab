/** Starts a real broker (HTTP, PostgreSQL, Redis) for one test file, with its own database and queue prefix. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import { type Broker, startBroker } from '../../src/broker.js';
import { seedDemoInstitutions } from '../../src/demo-seed.js';
import { loadConfig } from '../../src/infra/config.js';
import { createPool } from '../../src/infra/database.js';
import { type Logger, silentLogger } from '../../src/infra/log.js';
import { migrate } from '../../src/infra/migrate.js';
import { TEST_SECRETS } from './operator-secrets.js';
import { createTestDatabase } from './services.js';

export interface TestBrokerOptions {
  env?: Record<string, string>;
  log?: Logger;
  databaseUrl?: string;
  redisUrl?: string;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<Broker> {
  const config = loadConfig({
    // Development: the demo receiver is mounted and the tests' loopback endpoints are allowed.
    BROKER_PROFILE: 'development',
    PORT: '0',
    HOST: '127.0.0.1',
    QUEUE_PREFIX: `t${randomBytes(4).toString('hex')}`,
    SWEEP_INTERVAL_MS: '200',
    SWEEP_GRACE_MS: '300',
    ...TEST_SECRETS,
    ...options.env,
  });
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  await migrateDatabase(databaseUrl); // what main.ts does before it starts a broker
  const broker = await startBroker(
    config,
    { databaseUrl, redisUrl: options.redisUrl ?? process.env.TEST_REDIS_URL! },
    options.log ?? silentLogger(),
  );
  await seedDemoInstitutions(broker.pool);
  await broker.registry.refresh();
  return broker;
}

/** Rows in the inbound store and processing outbox. */
export async function storedCounts(broker: Broker): Promise<{ messages: number; outbox: number }> {
  const result = await broker.pool.query<{ messages: number; outbox: number }>(
    'SELECT (SELECT count(*) FROM inbound_messages)::int AS messages, (SELECT count(*) FROM processing_outbox)::int AS outbox',
  );
  return result.rows[0]!;
}

/** Jobs in the processing queue, in any state. */
export async function jobCount(broker: Broker): Promise<number> {
  const counts = await broker.processingQueue.getJobCounts();
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a broker before the tests of the enclosing describe and closes it after; returns a getter.
 * (jest's globals are imported here so this module works under native ESM.)
 */
export function useTestBroker(options: TestBrokerOptions = {}): () => Broker {
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = await startTestBroker(options);
  });
  afterAll(async () => {
    await broker?.close();
  });
  return () => broker!;
}

/** Applies the migrations to a test database, as the broker's start does. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl, 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}
