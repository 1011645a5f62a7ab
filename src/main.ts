import cluster from 'node:cluster';
import { listenUrl, startBroker } from './broker.js';
import { seedDemoInstitutions, seedDemoPopulation, seedDemoRio } from './demo-seed.js';
import { INBOUND_CONTRACTS } from './infra/catalogue.js';
import { type Config, loadConfig } from './infra/config.js';
import { createPool } from './infra/database.js';
import { createLogger, type Logger } from './infra/log.js';
import { joinClusterMetrics, serveClusterMetrics } from './infra/metrics/cluster-metrics.js';
import { metricsRegistry } from './infra/metrics/metrics.js';
import { migrate } from './infra/migrate.js';
import { resolveOperatorSecrets } from './infra/secrets.js';
import { resolveDatabase, resolveRedis } from './infra/services/resolve-services.js';
import { loadEnvelopeSigner } from './infra/signing.js';
import { databaseUnreachable, StartupError, startupFailureLine } from './infra/startup-failure.js';
import { loadTlsMaterial } from './infra/tls.js';
import { EndpointUrlError, endpointPolicy } from './operator/endpoint-url.js';
import { PIPELINE_READY_LINE, runPipelineProcess } from './pipeline.js';

/**
 * Composition root: one way to run each role (ROLE). The process that is started resolves PostgreSQL
 * and Redis and migrates the database (the one migration of this start) before anything else uses it;
 * then, by role:
 * - all: forks HTTP_PROCESSES HTTP processes sharing the port plus one pipeline process, so accepting
 *   and delivering each get an event loop and both cores work;
 * - http: accepts only, in this process (or in HTTP_PROCESSES forked ones); no processing or delivery;
 * - pipeline: processes and delivers in this process; no HTTP listener.
 */

interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
}

/** The start's one migration, then the demo data where this start serves HTTP (it mounts the demo receiver). */
async function prepareStore(config: Config, databaseUrl: string, log: Logger): Promise<void> {
  const pool = createPool(databaseUrl, 2);
  try {
    try {
      await migrate(pool);
    } catch (error) {
      throw databaseUnreachable(databaseUrl, error, config.databaseUrl !== undefined);
    }
    if (config.seedDemo && config.role !== 'pipeline') {
      await seedDemoPopulation(pool);
      await seedDemoRio(pool);
      const added = await seedDemoInstitutions(pool, {
        baseUrl: config.demoBaseUrl,
        policy: endpointPolicy(config),
      }).catch((error: unknown) => {
        // A refused demo endpoint is a setting to change, not a crash to debug.
        if (error instanceof EndpointUrlError) throw new StartupError(`SEED_DEMO is on, but ${error.message}`);
        throw error;
      });
      if (added > 0) log.info('seeded demo institutions', { added });
    }
  } finally {
    await pool.end();
  }
}

function printUrls(config: Config): void {
  const local = listenUrl(config, config.port);
  for (const contract of INBOUND_CONTRACTS) {
    process.stdout.write(`WSDL ${contract.name}: ${local}/vo-webservices/${contract.name}?wsdl\n`);
  }
  // The tokens themselves are not printed: stdout usually ends up in a log.
  const { generatedFile } = resolveOperatorSecrets(config);
  const admin = config.admin ? listenUrl({ host: config.admin.host, tls: null }, config.admin.port) : local;
  process.stdout.write(
    `Admin dashboard: ${admin}/admin/ (tokens: ${generatedFile ? `generated in ${generatedFile}` : 'ADMIN_READ_TOKEN / ADMIN_OPERATOR_TOKEN'})\n`,
  );
}

/** The start's lines on transport security and signing: plain HTTP is for development only, and says so. */
function logTransport(config: Config, log: Logger): void {
  if (config.tls) {
    log.info(
      'mutual TLS on: senders need a client certificate from TLS_CA_FILE with their OIN as serialNumber; deliveries present TLS_CERT_FILE',
      { publicUrl: config.publicUrl },
    );
  } else {
    log.warn(
      'TLS off: plain HTTP, sender taken from wsa:From without a certificate; for development only (set TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE; docs/security.md)',
    );
  }
  // Whether what the broker sends is signed is as much the operator's to see at a glance as the transport.
  if (config.signing)
    log.info('WS-Security signing on: receipts, faults about a message and pushes are signed', {
      signingCertFile: config.signing.certFile,
    });
  else if (config.tls) log.warn('WS-Security signing off (SIGNING=off): receipts and pushes go unsigned');
}

/** The start's one line on data at rest: stored messages sealed under a key, or plain text (development only). */
function logDataAtRest(config: Config, log: Logger): void {
  const current = config.dataKeys.current;
  if (current) log.info('stored messages encrypted at rest (AES-256-GCM)', { dataKey: current.id });
  else log.warn('DATA_KEYS unset: stored messages are kept in plain text; for development only (docs/security.md)');
}

/** An HTTP process: accepts, stores and queues; the sweeper wakes what waits. No processing or delivery. */
async function runHttp(
  config: Config,
  urls: ServiceUrls,
  log: Logger,
  afterClose = async (): Promise<void> => undefined,
): Promise<void> {
  // Every HTTP process runs the sweeper: it reads PostgreSQL only and wakes a row once in any number of processes.
  const broker = await startBroker(config, urls, log);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down');
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
  const redis = await resolveRedis(config, say).catch(async (error: unknown) => {
    await database.stop();
    throw error;
  });
  const stopServices = async (): Promise<void> => {
    await redis.stop();
    await database.stop();
  };
  const urls: ServiceUrls = { databaseUrl: database.url, redisUrl: redis.url };
  const inline = config.role === 'pipeline' || (config.role === 'http' && config.httpProcesses === 1);
  try {
    await prepareStore(config, urls.databaseUrl, log);
    if (config.role === 'pipeline') {
      runPipelineProcess(config, urls, log, stopServices);
    } else {
      resolveOperatorSecrets(config); // generated before the processes start, so they all read one file
      if (inline) await runHttp(config, urls, log, stopServices);
    }
  } catch (error) {
    // Services this start started are stopped again: a failed start leaves nothing running.
    await stopServices();
    throw error;
  }
  if (config.role === 'pipeline') {
    log.info('bron-broker pipeline running', {
      processing: config.processingConcurrency,
      delivery: config.deliveryConcurrency,
    });
    process.stdout.write(`${PIPELINE_READY_LINE}\n`);
    return;
  }
  if (inline) {
    log.info('bron-broker listening', {
      port: config.port,
      brokerOin: config.brokerOin,
      role: config.role,
      httpProcesses: 1,
    });
    printUrls(config);
    return;
  }

  serveClusterMetrics();
  let stopping = false;
  /** Processes that have started (listening, or the pipeline running): only those are restarted when they die. */
  const started = new Set<number>();
  const fork = (index: number): void => {
    const role = index < config.httpProcesses ? 'http' : 'pipeline';
    // BRON_ROLE is the forked process's part of this start, not a setting.
    const worker = cluster.fork({
      BRON_ROLE: role,
      BRON_WORKER_INDEX: String(index),
      BRON_DATABASE_URL: urls.databaseUrl,
      BRON_REDIS_URL: urls.redisUrl,
    });
    let failure: string | undefined;
    worker.on('message', (message: { bronStartupFailure?: string; bronStarted?: boolean }) => {
      if (message.bronStartupFailure) failure = message.bronStartupFailure;
      if (message.bronStarted) started.add(index);
    });
    worker.on('listening', () => started.add(index));
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      // A process that dies before it has started would only die again: stop, with its reason.
      if (!started.has(index)) {
        process.stderr.write(
          `${failure ?? `bron-broker cannot start: its ${role} process exited during start-up (code ${code ?? signal})`}\n`,
        );
        void shutdown('start-up failure', 1);
        return;
      }
      started.delete(index);
      log.error(`${role} process died; starting a new one`, { index, code, signal });
      fork(index);
    });
  };
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === config.httpProcesses) {
      log.info('bron-broker listening', {
        port: config.port,
        brokerOin: config.brokerOin,
        role: config.role,
        httpProcesses: config.httpProcesses,
      });
      printUrls(config);
    }
  });
  for (let index = 0; index < config.httpProcesses + (config.role === 'all' ? 1 : 0); index++) fork(index);

  const shutdown = async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (exitCode === 0) log.info('shutting down', { signal });
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await stopServices();
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (cluster.isPrimary) {
    for (const line of config.deprecations) log.warn(line);
    // A bad certificate or key stops the start with one line before any service is started.
    if (config.tls) loadTlsMaterial(config.tls);
    loadEnvelopeSigner(config.signing);
    logTransport(config, log);
    logDataAtRest(config, log);
    return runPrimary(config, log);
  }
  const urls = { databaseUrl: process.env.BRON_DATABASE_URL!, redisUrl: process.env.BRON_REDIS_URL! };
  if (process.env.BRON_ROLE === 'pipeline') {
    // Its counters are summed into every scrape by the primary: answer the primary's collection from
    // the start, or a scrape during the pipeline's start-up waits for it and fails.
    joinClusterMetrics([metricsRegistry]);
    runPipelineProcess(config, urls, log);
    process.send?.({ bronStarted: true });
    return;
  }
  return runHttp(config, urls, log);
}

main().catch((error: unknown) => {
  const line =
    error instanceof StartupError
      ? `bron-broker cannot start: ${error.message}`
      : startupFailureLine(error, listenAddress());
  // A forked process leaves the one line to the primary, which stops the broker instead of restarting it.
  if (cluster.isWorker && process.send) process.send({ bronStartupFailure: line }, () => process.exit(1));
  else {
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
});

function listenAddress(): { port: number; host: string } {
  try {
    const { port, host } = loadConfig();
    return { port, host };
  } catch {
    return { port: Number(process.env.PORT ?? 8080), host: process.env.HOST || '0.0.0.0' };
  }
}
