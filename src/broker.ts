import type http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { AcceptBatcher } from './accept/accept-batcher.js';
import { Enqueuer } from './accept/enqueuer.js';
import { httpsAgentFor } from './delivery/http-post.js';
import { createHttpServer } from './http-server.js';
import { BulkLane } from './inbound/bulk-lane.js';
import { ContractDocuments } from './inbound/contract-documents.js';
import { FairTurns } from './inbound/fair-turns.js';
import { InstitutionRegistry } from './inbound/institution-registry.js';
import { SenderGate } from './inbound/sender-gate.js';
import { ReplayGuard } from './inbound/wss/replay-guard.js';
import { Revocations } from './inbound/wss/revocations.js';
import { INBOUND_CONTRACTS } from './infra/catalogue.js';
import type { Config } from './infra/config.js';
import { createPool, type Pool } from './infra/database.js';
import type { Logger } from './infra/log.js';
import { joinClusterMetrics } from './infra/metrics/cluster-metrics.js';
import { metricsRegistry } from './infra/metrics/metrics.js';
import { createStoreGauges } from './infra/metrics/store-gauges.js';
import {
  createProcessingQueue,
  type ProcessingJobData,
  processingBatchJobs,
  type StoredBatch,
} from './infra/processing-queue.js';
import { createProducerConnection } from './infra/redis.js';
import { type OperatorSecrets, resolveOperatorSecrets } from './infra/secrets.js';
import { loadEnvelopeSigner } from './infra/signing.js';
import { clientTlsOptions, loadTlsMaterial } from './infra/tls.js';
import { compileSchemas } from './infra/xml/schema-set.js';
import { parseTrustAnchors, SigningCertificates } from './infra/xml/wss-certificates.js';
import { DEFAULT_GATE_LIMITS, type GateLimits } from './infra/xml/xml-gate.js';
import { endpointPolicy } from './operator/endpoint-url.js';
import { createAdminServer } from './operator/http/admin-listener.js';
import { operatorRoutes } from './operator/http/operator-http.js';
import { readStoreCounts } from './operator/stats.js';
import { Sweeper } from './processing/sweeper.js';

/** A running broker: its HTTP server and the services tests and tools may reach into. */
export interface Broker {
  readonly config: Config;
  readonly server: http.Server | https.Server;
  readonly port: number;
  /** `https://…` with mutual TLS, `http://…` without; on localhost. */
  readonly baseUrl: string;
  /** Where /admin, /metrics and /readyz are served: the admin listener (ADMIN_PORT, plain HTTP), or baseUrl. */
  readonly adminBaseUrl: string;
  /** The base of the WSDLs' soap:address: PUBLIC_URL, or the listen address. */
  readonly publicUrl: string;
  readonly pool: Pool;
  readonly redis: Redis;
  readonly processingQueue: Queue<ProcessingJobData>;
  readonly secrets: OperatorSecrets;
  readonly registry: InstitutionRegistry;
  readonly sweeper: Sweeper;
  readonly enqueuer: Enqueuer<ProcessingJobData, StoredBatch>;
  close(): Promise<void>;
}

async function waitForRedis(redis: Redis, log: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (redis.status === 'ready') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log.warn('Redis is not reachable; accepting anyway, the sweeper enqueues when it returns');
}

/** Composition root of the inbound path: store, schemas, registry, queue, sweeper and HTTP server. */
export interface BrokerOptions {
  /** Whether this process runs the outbox sweeper (one process of a cluster is enough). */
  readonly runSweeper?: boolean;
}

/** The address a client on this machine reaches a listener at: the host itself unless it is a wildcard or loopback address. */
export function listenUrl(config: Pick<Config, 'host' | 'tls'>, port: number): string {
  const local = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(config.host);
  const host = local ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`;
}

/**
 * Bodies over 64 KiB (an enrolment is ~3 KB, the largest legitimate message in the tests under 3 KB)
 * are read and parsed one at a time per HTTP process, waiting at most 10 s for their turn.
 */
const BULK_BODY_BYTES = 64 * 1024;
const BULK_WAIT_MS = 10_000;

/** The inbound gate's limits: the fixed structural ones and those the settings choose. */
const gateLimitsOf = (config: Config): GateLimits => ({
  ...DEFAULT_GATE_LIMITS,
  maxElements: config.maxElements,
  maxHeaderBytes: config.maxHeaderBytes,
  maxHeaderElements: config.maxHeaderElements,
});

export async function startBroker(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
  options: BrokerOptions = {},
): Promise<Broker> {
  // First: a bad certificate or key stops the start before anything is opened.
  const tls = config.tls ? loadTlsMaterial(config.tls) : undefined;
  // Signing certificates (WS-Security) are checked against the same CAs and CRLs as TLS client certificates.
  const anchors = parseTrustAnchors(tls?.ca);
  const signingCertificates = new SigningCertificates(anchors, await Revocations.fromPem(tls?.crl, anchors));
  const signer = loadEnvelopeSigner(config.signing);
  // The database is migrated already: by the process that started the broker (main.ts), or by a test's setup.
  const pool = createPool(urls.databaseUrl, config.limits.httpPoolSize, { dataKeys: config.dataKeys });
  const compiled = compileSchemas(INBOUND_CONTRACTS.map((contract) => contract.schemaFile));
  const validators = new Map(INBOUND_CONTRACTS.map((contract) => [contract.name, compiled.get(contract.schemaFile)!]));
  const registry = new InstitutionRegistry(pool, log);
  await registry.start();

  const redis = createProducerConnection(urls.redisUrl);
  await waitForRedis(redis, log, 5000);
  const processingQueue = createProcessingQueue(redis, config.queuePrefix);
  const enqueuer = new Enqueuer(processingQueue, processingBatchJobs, log);
  const sweeper = new Sweeper(pool, processingQueue, log, {
    intervalMs: config.sweepIntervalMs,
    graceMs: config.sweepGraceMs,
  });
  if (options.runSweeper ?? true) sweeper.start();
  // Its one named statement (INSERT_BATCH) has no plan choice, so caching its plan is safe and saves planning.
  const acceptPool = createPool(urls.databaseUrl, config.limits.acceptPoolSize, {
    statementTimeoutMs: config.acceptTimeoutMs,
    plans: 'cached',
    dataKeys: config.dataKeys,
  });
  // One connection, used only when an accept statement went unanswered; short waits, so it retries rather than hangs.
  const outcomePool = createPool(urls.databaseUrl, 1, {
    queryTimeoutMs: 2000,
    statementTimeoutMs: 1000,
    lockTimeoutMs: 1000,
    dataKeys: config.dataKeys,
  });
  const batcher = new AcceptBatcher(acceptPool, {
    maxBatch: config.acceptBatchSize,
    maxInFlight: config.acceptMaxInFlight,
    timeoutMs: config.acceptTimeoutMs,
    outcome: { pool: outcomePool, waitMs: config.acceptOutcomeWaitMs },
    onStored: (key, messageIds) => enqueuer.enqueue({ key, messageIds }),
  });

  const secrets = resolveOperatorSecrets(config);
  const storeGauges = createStoreGauges(() => readStoreCounts(pool), [processingQueue]);
  const scrapeCluster = joinClusterMetrics([metricsRegistry, storeGauges]); // undefined unless a cluster worker
  const operator = operatorRoutes({
    api: {
      pool,
      processingQueue,
      traceKey: secrets.traceKey,
      pingTimeoutMs: config.limits.pingTimeoutMs,
      brokerOin: config.brokerOin,
      log,
      endpointPolicy: endpointPolicy(config),
      httpsAgent: tls ? httpsAgentFor(clientTlsOptions(tls)) : undefined,
    },
    tokens: { read: secrets.adminReadToken, operator: secrets.adminOperatorToken },
    metrics: Registry.merge([metricsRegistry, storeGauges]),
    scrapeCluster,
    readiness: { pool, redis, schemasLoaded: () => validators.size === INBOUND_CONTRACTS.length },
    log,
  });

  // With ADMIN_PORT the operator's routes are served there only: the SOAP listener answers 404 for them.
  const adminServer = config.admin ? createAdminServer(operator, log) : undefined;
  let publicUrl = config.publicUrl ?? listenUrl(config, config.port);
  const server = createHttpServer({
    inbound: {
      brokerOin: config.brokerOin,
      brpSourceOin: config.brpSourceOin,
      maxBodyBytes: config.maxBodyBytes,
      gateLimits: gateLimitsOf(config),
      senders: new SenderGate(
        (oin) => oin === config.brpSourceOin || registry.get(oin) !== undefined,
        config.maxInFlightPerSender,
      ),
      bulkLane: new BulkLane(BULK_BODY_BYTES, 1, BULK_WAIT_MS),
      turns: new FairTurns(),
      validators,
      registry,
      batcher,
      wss: {
        requiredByDefault: config.wssRequired,
        certificates: signingCertificates,
        replay: new ReplayGuard(pool, log),
      },
      log,
      signer,
    },
    documents: new ContractDocuments(),
    log,
    publicBaseUrl: () => publicUrl,
    ...(adminServer ? {} : { operator }),
    ...(tls ? { tls } : {}),
    demoReceiver: config.seedDemo,
    connections: {
      max: config.maxConnections,
      perIp: config.maxConnectionsPerIp,
      newPerSecondPerIp: config.maxNewConnectionsPerIp,
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (adminServer && config.admin) {
    const { port: adminPort, host: adminHost } = config.admin;
    await new Promise<void>((resolve, reject) => {
      adminServer.once('error', reject);
      adminServer.listen(adminPort, adminHost, () => resolve());
    });
  }
  const baseUrl = listenUrl({ host: 'localhost', tls: config.tls }, port);
  // PORT=0 (tests) chooses the port only now.
  publicUrl = config.publicUrl ?? listenUrl(config, port);

  return {
    config,
    server,
    port,
    baseUrl,
    adminBaseUrl: adminServer
      ? listenUrl({ host: 'localhost', tls: null }, (adminServer.address() as AddressInfo).port)
      : baseUrl,
    publicUrl,
    pool,
    redis,
    processingQueue,
    secrets,
    registry,
    sweeper,
    enqueuer,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (adminServer) {
        adminServer.closeIdleConnections();
        await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      }
      await sweeper.stop();
      await enqueuer.drain();
      registry.stop();
      await processingQueue.close();
      redis.disconnect();
      for (const validator of validators.values()) validator.dispose();
      await acceptPool.end();
      await outcomePool.end();
      await pool.end();
    },
  };
}
