import type { Worker } from 'bullmq';
import type { Config } from './config.js';
import { OUTBOUND_CONTRACT } from './contracts/catalogue.js';
import type { Logger } from './log.js';
import { observeDeliveryLatency } from './metrics/metrics.js';
import { watchDeliveryWorker, watchProcessingWorker } from './metrics/worker-metrics.js';
import { resolveTraceKey } from './operator/secrets.js';
import { createHandlers } from './processing/handlers/index.js';
import { type DeliveryJobData, createDeliveryQueue, deliveryJobId, deliveryJobs } from './queue/delivery-queue.js';
import { DeliveryAttempts } from './queue/delivery-attempts.js';
import { startDeliveryWorker } from './queue/delivery-worker.js';
import { DirectDelivery } from './queue/direct-delivery.js';
import { Enqueuer } from './queue/enqueuer.js';
import { startProcessingWorker } from './queue/processing-worker.js';
import { createProducerConnection } from './queue/redis.js';
import { Sweeper } from './queue/sweeper.js';
import { type Pool, createPool } from './store/database.js';
import { listDuePending } from './store/outbound.repo.js';
import { configurePupilTrace } from './trace/pupil-trace.js';
import { compileSchemas } from './xml/schema-set.js';

/** The workers behind the inbound path: processing, then delivery of what processing queued. */
export interface Pipeline {
  close(): Promise<void>;
}

/** Connections the pipeline uses at most: its processing transactions, the delivery reads and records (2 each), the sweeper. */
export function pipelinePoolSize(config: Config): number {
  return config.processingTransactions + 5;
}

/**
 * The pipeline's own pool. Every statement it runs reaches rows through an index (messages and
 * outbound rows by id, enrolments by pupil or BRIN + volgnummer, people by BSN or name; the sweeper's
 * walk over pending ids), so their plans are cached and held to index paths (`key-lookups`, see
 * createPool); test/integration/query-plans.test.ts explains those its scenario sends.
 */
export function createPipelinePool(databaseUrl: string, config: Config): Pool {
  return createPool(databaseUrl, pipelinePoolSize(config), { plans: 'key-lookups' });
}

export function startPipeline(config: Config, pool: Pool, redisUrl: string, log: Logger, options: { runSweeper: boolean; now?: () => Date }): Pipeline {
  configurePupilTrace(resolveTraceKey(config));
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const redis = createProducerConnection(redisUrl);
  const deliveryQueue = createDeliveryQueue(redis, config.queuePrefix);
  const jobsFor = deliveryJobs(config.deliveryRetries);
  const deliveries = new Enqueuer<DeliveryJobData>(deliveryQueue, jobsFor, log);
  const attempts = new DeliveryAttempts({ pool, brokerOin: config.brokerOin, validator, timeoutMs: config.deliveryTimeoutMs, perInstitution: config.deliveryPerInstitution, log });
  const direct = new DirectDelivery({
    attempts, queue: deliveryQueue, enqueue: (ids) => deliveries.enqueue(...ids), retries: config.deliveryRetries, backoffMs: config.deliveryBackoffMs,
    maxActive: config.deliveryConcurrency, log, onDelivered: observeDeliveryLatency,
    // A message waits for a slot at most a second, and at most half the sweeper's grace before the
    // attempt's own timeout (the sweeper waits SWEEP_GRACE_MS + DELIVERY_TIMEOUT_MS, below).
    maxWaitMs: Math.min(1000, Math.floor(config.sweepGraceMs / 2)),
  });
  const workers: Worker[] = [
    startProcessingWorker({
      redisUrl, prefix: config.queuePrefix, pool, handlers: createHandlers(), brokerOin: config.brokerOin,
      concurrency: config.processingConcurrency, batchSize: config.processingBatchSize, transactions: config.processingTransactions, log,
      ...(options.now ? { now: options.now } : {}), lockMs: config.jobLockMs, onOutbound: (messages) => direct.offer(messages),
    }),
    startDeliveryWorker({
      redisUrl, prefix: config.queuePrefix, pool, attempts, backoffMs: config.deliveryBackoffMs, concurrency: config.deliveryConcurrency, log, lockMs: config.jobLockMs,
    }),
  ];
  watchProcessingWorker(workers[0]!); // metrics from the workers' own events: no metrics code in them
  watchDeliveryWorker(workers[1]!);
  const sweeper = new Sweeper<DeliveryJobData>({
    name: 'delivery', queue: deliveryQueue, jobId: deliveryJobId, jobsFor,
    listDue: async (afterId, graceMs, limit) => (await listDuePending(pool, afterId, graceMs, limit)).map((id) => ({ id })),
  // A message may wait for a slot and then run its direct attempt up to the timeout with no job: the
  // sweeper waits that much longer than its grace.
  }, redis, log, { intervalMs: config.sweepIntervalMs, graceMs: config.sweepGraceMs + config.deliveryTimeoutMs });
  if (options.runSweeper) sweeper.start();
  return {
    async close() {
      await sweeper.stop();
      await workers[0]!.close(); // no new direct attempts once processing has stopped
      await Promise.all([direct.drain(), workers[1]!.close()]);
      await deliveries.drain();
      await deliveryQueue.close();
      redis.disconnect();
      validator.dispose();
    },
  };
}

/**
 * A process that only runs the pipeline (`npm start`'s pipeline process, workers/pipeline.worker): its
 * own pool, and on SIGINT/SIGTERM a clean close (active jobs finish or return to the queue) and exit.
 */
export function runPipelineProcess(config: Config, urls: { databaseUrl: string; redisUrl: string }, log: Logger, pool: Pool = createPipelinePool(urls.databaseUrl, config)): Pipeline {
  const pipeline = startPipeline(config, pool, urls.redisUrl, log, { runSweeper: true });
  const stop = async (): Promise<void> => {
    await pipeline.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return pipeline;
}
