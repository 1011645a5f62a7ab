import type { Worker } from 'bullmq';
import type { Config } from './config.js';
import { OUTBOUND_CONTRACT } from './contracts/catalogue.js';
import type { Logger } from './log.js';
import { watchDeliveryWorker, watchProcessingWorker } from './metrics/worker-metrics.js';
import { resolveTraceKey } from './operator/secrets.js';
import { createHandlers } from './processing/handlers/index.js';
import { type DeliveryJobData, createDeliveryQueue, deliveryJobId, deliveryJobs } from './queue/delivery-queue.js';
import { startDeliveryWorker } from './queue/delivery-worker.js';
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

export function startPipeline(config: Config, pool: Pool, redisUrl: string, log: Logger, options: { runSweeper: boolean; now?: () => Date }): Pipeline {
  configurePupilTrace(resolveTraceKey(config));
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const redis = createProducerConnection(redisUrl);
  const deliveryQueue = createDeliveryQueue(redis, config.queuePrefix);
  const jobsFor = deliveryJobs(config.deliveryRetries);
  const deliveries = new Enqueuer<DeliveryJobData>(deliveryQueue, jobsFor, log);
  const workers: Worker[] = [
    startProcessingWorker({
      redisUrl, prefix: config.queuePrefix, pool, handlers: createHandlers(), brokerOin: config.brokerOin,
      concurrency: config.processingConcurrency, batchSize: config.processingBatchSize, transactions: config.processingTransactions, log,
      ...(options.now ? { now: options.now } : {}), lockMs: config.jobLockMs, onOutbound: (ids) => deliveries.enqueue(...ids),
    }),
    startDeliveryWorker({
      redisUrl, prefix: config.queuePrefix, pool, brokerOin: config.brokerOin, validator, timeoutMs: config.deliveryTimeoutMs,
      backoffMs: config.deliveryBackoffMs, concurrency: config.deliveryConcurrency, perInstitution: config.deliveryPerInstitution, log, lockMs: config.jobLockMs,
    }),
  ];
  watchProcessingWorker(workers[0]!); // metrics from the workers' own events: no metrics code in them
  watchDeliveryWorker(workers[1]!);
  const sweeper = new Sweeper<DeliveryJobData>({
    name: 'delivery', queue: deliveryQueue, jobId: deliveryJobId, jobsFor,
    listDue: async (afterId, graceMs, limit) => (await listDuePending(pool, afterId, graceMs, limit)).map((id) => ({ id })),
  }, redis, log, { intervalMs: config.sweepIntervalMs, graceMs: config.sweepGraceMs });
  if (options.runSweeper) sweeper.start();
  return {
    async close() {
      await sweeper.stop();
      await Promise.all(workers.map((worker) => worker.close()));
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
export function runPipelineProcess(config: Config, urls: { databaseUrl: string; redisUrl: string }, log: Logger, pool: Pool = createPool(urls.databaseUrl, pipelinePoolSize(config))): Pipeline {
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
