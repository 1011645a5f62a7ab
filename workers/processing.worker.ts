/**
 * Stand-alone processing worker, for deployments that run it apart from the HTTP broker (npm start
 * runs it in the broker's process). Needs DATABASE_URL and REDIS_URL.
 */
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createHandlers } from '../src/processing/handlers/index.js';
import { startProcessingWorker } from '../src/queue/processing-worker.js';
import { createPool } from '../src/store/database.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
if (!config.databaseUrl || !config.redisUrl) {
  process.stderr.write('workers/processing needs DATABASE_URL and REDIS_URL\n');
  process.exit(1);
}
const pool = createPool(config.databaseUrl, config.processingConcurrency + 2);
const worker = startProcessingWorker({
  redisUrl: config.redisUrl, prefix: config.queuePrefix, pool, handlers: createHandlers(),
  brokerOin: config.brokerOin, concurrency: config.processingConcurrency, log,
});
log.info('processing worker started', { concurrency: config.processingConcurrency });
const stop = async (): Promise<void> => {
  await worker.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
