import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import { addressGuard } from './delivery/address-check.js';
import { Deliverer } from './delivery/deliverer.js';
import { httpsAgentFor } from './delivery/http-post.js';
import { OUTBOUND_CONTRACT } from './infra/catalogue.js';
import type { Config } from './infra/config.js';
import { createPool, type Pool } from './infra/database.js';
import type { Logger } from './infra/log.js';
import { observeDeliveryLatency } from './infra/metrics/metrics.js';
import { watchProcessingWorker } from './infra/metrics/worker-metrics.js';
import { resolveTraceKey } from './infra/secrets.js';
import { loadEnvelopeSigner } from './infra/signing.js';
import { clientTlsOptions, loadTlsMaterial } from './infra/tls.js';
import { compileSchemas } from './infra/xml/schema-set.js';
import { TrustAnchors } from './infra/xml/wss-certificates.js';
import { createHandlers } from './processing/handlers/index.js';
import { startProcessingWorker } from './processing/processing-worker.js';
import { startQualityScheduler } from './processing/quality/quality-scheduler.js';
import { startSubscriptionExpiry } from './processing/subscription-expiry.js';

/** The workers behind the inbound path: processing, then delivery of what processing queued. */
export interface Pipeline {
  close(): Promise<void>;
}

/**
 * The pipeline's own pool. Every statement it runs reaches rows through an index (messages and
 * outbound rows by id, enrolments by pupil (PGN + BRIN + volgnummer), pupil links by either number, people by BSN or name; the sweeper's
 * walk over pending ids), so their plans are cached and held to index paths (`key-lookups`, see
 * createPool); test/integration/query-plans.test.ts explains those its scenario sends.
 */
export function createPipelinePool(databaseUrl: string, config: Config): Pool {
  return createPool(databaseUrl, config.limits.pipelinePoolSize, { plans: 'key-lookups', dataKeys: config.dataKeys });
}

export function startPipeline(
  config: Config,
  pool: Pool,
  redisUrl: string,
  log: Logger,
  options: { now?: () => Date },
): Pipeline {
  // Mutual TLS to schools' https endpoints; read first, so a bad file stops the start with one line.
  const tls = config.tls ? loadTlsMaterial(config.tls) : undefined;
  const httpsAgent = tls ? httpsAgentFor(clientTlsOptions(tls)) : undefined;
  // Schools' receipt signatures chain to the same CAs as their server certificates.
  const receiptTrust = tls ? new TrustAnchors(tls.deliveryCa) : undefined;
  // Every push is signed per attempt (its Timestamp is the attempt's); the stored message stays unsigned.
  const signer = loadEnvelopeSigner(config.signing);
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const deliverer = new Deliverer({
    pool,
    brokerOin: config.brokerOin,
    validator,
    timeoutMs: config.deliveryTimeoutMs,
    policy: { retries: config.deliveryRetries, backoffMs: config.deliveryBackoffMs },
    lease: {
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      perInstitution: config.deliveryPerInstitution,
      leaseMs: config.limits.deliveryLeaseMs,
      handoffMs: config.limits.deliveryHandoffMs,
    },
    maxActive: config.deliveryConcurrency,
    pollMs: config.deliveryPollMs,
    log,
    onDelivered: observeDeliveryLatency,
    ...(httpsAgent ? { httpsAgent } : {}),
    addressGuard: addressGuard({
      allowLoopback: config.allowLoopbackEndpoints,
      allowPrivate: config.allowPrivateEndpoints,
    }),
    ...(signer ? { signer } : {}),
    ...(receiptTrust ? { receiptTrust } : {}),
  });
  const processing: Worker = startProcessingWorker({
    redisUrl,
    prefix: config.queuePrefix,
    pool,
    handlers: createHandlers(),
    brokerOin: config.brokerOin,
    traceKey: resolveTraceKey(config),
    concurrency: config.processingConcurrency,
    batchSize: config.processingBatchSize,
    transactions: config.processingTransactions,
    log,
    ...(options.now ? { now: options.now } : {}),
    lockMs: config.jobLockMs,
    firstLeases: deliverer.firstAttemptLeases(),
    onOutbound: (messages) => deliverer.offer(messages),
  });
  watchProcessingWorker(processing); // metrics from the worker's own events: no metrics code in it
  deliverer.start();
  // Its reports are pending outbound rows: the deliverer's pollers take them.
  const quality = config.qualitySchedule
    ? startQualityScheduler({
        pool,
        brokerOin: config.brokerOin,
        log,
        schedule: config.qualitySchedule,
        ...(options.now ? { now: options.now } : {}),
      })
    : undefined;
  const expiry = startSubscriptionExpiry({ pool, log, ...(options.now ? { now: options.now } : {}) });
  return {
    async close() {
      await expiry.close();
      await quality?.close();
      await processing.close(); // nothing new is offered once processing has stopped
      await deliverer.close();
      validator.dispose();
    },
  };
}

/** Said on stdout once a ROLE=pipeline process has started its workers (supervisors and tests wait for it). */
export const PIPELINE_READY_LINE = 'bron-broker pipeline running: processing and delivery';

/**
 * A process that only runs the pipeline (ROLE=pipeline, or the pipeline process ROLE=all forks): its
 * own pool, and on SIGINT/SIGTERM a clean close (active jobs finish or return to the queue) and exit.
 */
export function runPipelineProcess(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
  log: Logger,
  afterClose = async (): Promise<void> => undefined,
): Pipeline {
  const pool = createPipelinePool(urls.databaseUrl, config);
  const pipeline = startPipeline(config, pool, urls.redisUrl, log, {});
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await pipeline.close();
    await pool.end();
    await afterClose();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return pipeline;
}
