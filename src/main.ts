import cluster from 'node:cluster';
import { type Config, ConfigError, loadConfig } from './config.js';
import { startBroker } from './broker.js';
import { INBOUND_CONTRACTS } from './contracts/catalogue.js';
import { seedDemoInstitutions, seedDemoPopulation, seedDemoRio } from './demo-seed.js';
import { type Logger, createLogger } from './log.js';
import { joinClusterMetrics, serveClusterMetrics } from './metrics/cluster-metrics.js';
import { metricsRegistry } from './metrics/metrics.js';
import { resolveOperatorSecrets } from './operator/secrets.js';
import { resolveDatabase, resolveRedis } from './services/resolve-services.js';
import { createPool } from './store/database.js';
import { createPipelinePool, runPipelineProcess, startPipeline } from './pipeline.js';
import { migrate } from './store/migrate.js';

/**
 * Composition root. The primary process starts (or finds) PostgreSQL and Redis, migrates, seeds, and
 * forks HTTP_WORKERS processes that share the port, plus one process for the processing and delivery
 * workers (PIPELINE_PROCESS): accepting and delivering each get an event loop, so both cores work.
 * With one HTTP process and the pipeline inline, everything runs in this process instead.
 */

interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
}

async function prepareStore(config: Config, databaseUrl: string, log: Logger): Promise<void> {
  const pool = createPool(databaseUrl, 2);
  try {
    await migrate(pool);
    if (config.seedDemo) {
      await seedDemoPopulation(pool);
      await seedDemoRio(pool);
      const added = await seedDemoInstitutions(pool, `http://localhost:${config.port}`);
      if (added > 0) log.info('seeded demo institutions', { added });
    }
  } finally {
    await pool.end();
  }
}

function printUrls(config: Config): void {
  for (const contract of INBOUND_CONTRACTS) {
    process.stdout.write(`WSDL ${contract.name}: http://localhost:${config.port}/vo-webservices/${contract.name}?wsdl\n`);
  }
  // The tokens themselves are not printed: stdout usually ends up in a log.
  const { generatedFile } = resolveOperatorSecrets(config);
  process.stdout.write(`Admin dashboard: http://localhost:${config.port}/admin/ (tokens: ${generatedFile ? `generated in ${generatedFile}` : 'ADMIN_READ_TOKEN / ADMIN_OPERATOR_TOKEN'})\n`);
}

async function runWorker(config: Config, urls: ServiceUrls, log: Logger, afterClose = async (): Promise<void> => undefined): Promise<void> {
  // Every HTTP process runs the sweeper: it reads PostgreSQL only and wakes a row once in any number of processes.
  const broker = await startBroker(config, urls, log);
  // The workers get their own connections, so a processing backlog never starves the request path.
  const pipelinePool = config.runWorkers ? createPipelinePool(urls.databaseUrl, config) : undefined;
  const pipeline = pipelinePool ? startPipeline(config, pipelinePool, urls.redisUrl, log, {}) : undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down');
    await pipeline?.close();
    await pipelinePool?.end();
    await broker.close();
    await afterClose();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

async function runPrimary(config: Config, log: Logger): Promise<void> {
  const say = (message: string): void => {
    log.info(message);
  };
  const database = await resolveDatabase(config, say);
  const redis = await resolveRedis(config, say);
  const urls: ServiceUrls = { databaseUrl: database.url, redisUrl: redis.url };
  await prepareStore(config, urls.databaseUrl, log);
  resolveOperatorSecrets(config); // generated before the workers start, so they all read one file

  const separatePipeline = config.runWorkers && config.pipelineProcess;
  if (config.httpWorkers === 1 && !separatePipeline) {
    await runWorker(config, urls, log, async () => {
      await redis.stop();
      await database.stop();
    });
    log.info('bron-broker listening', { port: config.port, brokerOin: config.brokerOin, workers: 1 });
    printUrls(config);
    return;
  }

  serveClusterMetrics();
  let stopping = false;
  const fork = (index: number): void => {
    const role = index < config.httpWorkers ? 'http' : 'pipeline';
    const worker = cluster.fork({
      BRON_ROLE: role, BRON_WORKER_INDEX: String(index), BRON_DATABASE_URL: urls.databaseUrl, BRON_REDIS_URL: urls.redisUrl,
      // HTTP processes leave the workers to the pipeline process when there is one.
      ...(role === 'http' && separatePipeline ? { RUN_WORKERS: 'false' } : {}),
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log.error(`${role} process died; starting a new one`, { index, code, signal });
      fork(index);
    });
  };
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === config.httpWorkers) {
      log.info('bron-broker listening', { port: config.port, brokerOin: config.brokerOin, workers: config.httpWorkers });
      printUrls(config);
    }
  });
  for (let index = 0; index < config.httpWorkers + (separatePipeline ? 1 : 0); index++) fork(index);

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
      if (worker.isDead()) return resolve();
      worker.once('exit', () => resolve());
      worker.process.kill('SIGTERM');
    })));
    await redis.stop();
    await database.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (cluster.isPrimary) return runPrimary(config, log);
  const urls = { databaseUrl: process.env.BRON_DATABASE_URL!, redisUrl: process.env.BRON_REDIS_URL! };
  if (process.env.BRON_ROLE === 'pipeline') {
    // Its counters are summed into every scrape by the primary: answer the primary's collection from
    // the start, or a scrape during the pipeline's start-up waits for it and fails.
    joinClusterMetrics([metricsRegistry]);
    runPipelineProcess(config, urls, log);
    return;
  }
  return runWorker(config, urls, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `bron-broker failed to start: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exit(1);
});
