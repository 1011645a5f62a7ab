import path from 'node:path';
import type { Config } from '../config.js';
import type { RunningService } from './embedded-postgres.js';
import { startLocalRedis } from './local-redis.js';

const external = (url: string): RunningService => ({ url, stop: async () => undefined });

/** DATABASE_URL when set, otherwise the embedded PostgreSQL under BROKER_DATA_DIR/pg. */
export async function resolveDatabase(config: Config, log: (message: string) => void): Promise<RunningService> {
  if (config.databaseUrl) return external(config.databaseUrl);
  // Loaded only when used: embedded-postgres's exit hook turns every SIGTERM into exit 143 before a graceful close ends.
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
  return startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'pg'),
    port: config.embeddedPgPort,
    database: 'bron',
    log,
  });
}

/** REDIS_URL when set, otherwise a local redis-server with data under BROKER_DATA_DIR/redis. */
export function resolveRedis(config: Config, log: (message: string) => void): Promise<RunningService> {
  if (config.redisUrl) return Promise.resolve(external(config.redisUrl));
  return startLocalRedis({ dataDir: path.join(config.dataDir, 'redis'), port: config.embeddedRedisPort, log });
}
