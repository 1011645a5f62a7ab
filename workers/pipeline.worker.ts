/**
 * Stand-alone workers (processing, then delivery, with their sweepers), for deployments that run them
 * apart from the HTTP broker (docker-compose's `workers` service); `npm start` runs the same pipeline
 * in a child process of its own (or inline, with PIPELINE_PROCESS=false).
 * Needs DATABASE_URL and REDIS_URL.
 */
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createPipelinePool, runPipelineProcess } from '../src/pipeline.js';
import { createPool } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
if (!config.databaseUrl || !config.redisUrl) {
  process.stderr.write('workers/pipeline needs DATABASE_URL and REDIS_URL\n');
  process.exit(1);
}
// Migrations get a pool of their own: the pipeline's plan settings are for its key lookups only.
const migrationPool = createPool(config.databaseUrl, 1);
await migrate(migrationPool); // safe beside the broker's own migration: both take the same advisory lock
await migrationPool.end();
const pool = createPipelinePool(config.databaseUrl, config);
runPipelineProcess(config, { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl }, log, pool);
log.info('pipeline worker started', { processing: config.processingConcurrency, delivery: config.deliveryConcurrency });
process.stdout.write('pipeline worker ready\n');
