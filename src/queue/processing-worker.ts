import { Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { MessageHandler } from '../processing/handler.js';
import { processMessage } from '../processing/process-message.js';
import type { Pool } from '../store/database.js';
import { PROCESSING_QUEUE, type ProcessingJobData } from './processing-queue.js';
import { createConsumerConnection } from './redis.js';

export interface ProcessingWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly pool: Pool;
  readonly handlers: ReadonlyMap<string, MessageHandler>;
  readonly brokerOin: string;
  readonly concurrency: number;
  readonly log: Logger;
  /** Job lock; a killed worker's jobs are picked up again after about this long. */
  readonly lockMs?: number;
  /** Called with the outbound message ids a processed message queued (delivery enqueues them). */
  readonly onOutbound?: (ids: readonly number[]) => void;
}

/**
 * Consumes processing jobs. A job that runs twice (stalled worker, sweeper re-add) is harmless: the
 * outbox claim inside processMessage lets only one run change anything. A worker killed mid-job leaves
 * the job stalled; BullMQ hands it to another worker, and maxStalledCount is high enough that a kill
 * never fails it.
 */
export function startProcessingWorker(options: ProcessingWorkerOptions): Worker<ProcessingJobData> {
  const worker = new Worker<ProcessingJobData>(
    PROCESSING_QUEUE,
    async (job) => {
      const result = await processMessage(options.pool, options.handlers, job.data.messageId, { brokerOin: options.brokerOin });
      if (result.outboundIds.length > 0) options.onOutbound?.(result.outboundIds);
      options.log.info('processed', { messageId: job.data.messageId, outcome: result.outcome ?? 'already-processed', outbound: result.outboundIds.length });
      return result.outcome;
    },
    { connection: createConsumerConnection(options.redisUrl), prefix: options.prefix, concurrency: options.concurrency, maxStalledCount: 10, ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}) },
  );
  worker.on('failed', (job, error) => {
    options.log.warn('processing failed; will retry', { messageId: job?.data.messageId, attempt: job?.attemptsMade, error: error.message });
  });
  worker.on('error', (error) => options.log.warn('processing worker error', { error: error.message }));
  return worker;
}
