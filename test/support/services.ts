/**
 * Real PostgreSQL and Redis for the test run: started once by the global setup on free ports in a
 * private folder, reached by every test file through environment variables.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type RunningService, startEmbeddedPostgres } from '../../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../../src/infra/services/local-redis.js';
import { freePort } from '../../src/infra/services/process-tools.js';

export interface TestServices {
  readonly dir: string;
  readonly postgres: RunningService;
  readonly redis: RunningService;
}

/** Starts a private PostgreSQL and Redis in a fresh temporary folder. */
export async function startTestServices(label: string): Promise<TestServices> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bron-${label}-`));
  fs.chmodSync(dir, 0o755); // the postgres system user must reach its data folder
  const log = (): void => undefined;
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'postgres',
    log,
  });
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), log });
  return { dir, postgres, redis };
}

export async function stopTestServices(services: TestServices): Promise<void> {
  await services.redis.stop();
  await services.postgres.stop();
  fs.rmSync(services.dir, { recursive: true, force: true });
}

/** A fresh, empty database on the shared test server; one per test file keeps files independent. */
export async function createTestDatabase(adminUrl = process.env.TEST_PG_ADMIN_URL!): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
