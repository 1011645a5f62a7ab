/**
 * The delivery side of the pipeline for one test file, against a test broker: institutions' endpoints
 * played by the test, the delivery queue, its worker, and the attempts and slots they share.
 */
import { Redis } from 'ioredis';
import type { Queue, Worker } from 'bullmq';
import { OUTBOUND_CONTRACT } from '../../src/contracts/catalogue.js';
import type { Broker } from '../../src/broker.js';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { silentLogger } from '../../src/log.js';
import { DeliveryAttempts } from '../../src/queue/delivery-attempts.js';
import { type DeliveryJobData, createDeliveryQueue, deliveryJobs } from '../../src/queue/delivery-queue.js';
import { startDeliveryWorker } from '../../src/queue/delivery-worker.js';
import { Enqueuer } from '../../src/queue/enqueuer.js';
import { compileSchemas } from '../../src/xml/schema-set.js';
import { type TestEndpoints, startTestEndpoints } from './institution-endpoint.js';

export const TEST_BROKER_OIN = '00000001800866472000';

export interface DeliveryRig {
  readonly endpoints: TestEndpoints;
  readonly queue: Queue<DeliveryJobData>;
  readonly enqueuer: Enqueuer<DeliveryJobData>;
  readonly attempts: DeliveryAttempts;
  /** Closes the worker, the queue and the endpoints (after the caller has drained what uses them). */
  close(): Promise<void>;
}

/** Starts the rig; attempts time out after `timeoutMs`, retries wait 50 ms each. */
export async function startDeliveryRig(broker: Broker, options: { timeoutMs: number; retries: number; perInstitution: number }): Promise<DeliveryRig> {
  const endpoints = await startTestEndpoints();
  await seedDemoPopulation(broker.pool);
  const redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
  const prefix = broker.processingQueue.opts.prefix!;
  const queue = createDeliveryQueue(redis, prefix);
  const enqueuer = new Enqueuer(queue, deliveryJobs(options.retries), silentLogger());
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  const attempts = new DeliveryAttempts({ pool: broker.pool, brokerOin: TEST_BROKER_OIN, validator, timeoutMs: options.timeoutMs, perInstitution: options.perInstitution, log: silentLogger() });
  const worker: Worker<DeliveryJobData> = startDeliveryWorker({ redisUrl: process.env.TEST_REDIS_URL!, prefix, pool: broker.pool, attempts, backoffMs: [50, 50, 50], concurrency: 16, log: silentLogger() });
  return {
    endpoints, queue, enqueuer, attempts,
    async close() {
      await worker.close();
      await queue.close();
      redis.disconnect();
      validator.dispose();
      await endpoints.close();
    },
  };
}
