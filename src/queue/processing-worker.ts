import { Worker } from 'bullmq';
import type { Logger } from '../log.js';
import type { MessageHandler } from '../processing/handler.js';
import { type ProcessResult, processBatch } from '../processing/process-message.js';
import type { Pool } from '../store/database.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import { MicroBatcher } from '../store/micro-batcher.js';
import { PROCESSING_QUEUE, type ProcessingJobData, messageIdsOf } from './processing-queue.js';
import { createConsumerConnection } from './redis.js';

export interface ProcessingWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly pool: Pool;
  readonly handlers: ReadonlyMap<string, MessageHandler>;
  readonly brokerOin: string;
  /** Jobs active at once; they share transactions of up to `batchSize` messages. */
  readonly concurrency: number;
  readonly batchSize: number;
  /** Processing transactions running at once. */
  readonly transactions: number;
  readonly log: Logger;
  /** Job lock; a killed worker's jobs are picked up again after about this long. */
  readonly lockMs?: number;
  /** The clock the register rules use (tests fix it; dates such as the peildatum follow it). */
  readonly now?: () => Date;
  /** Called with the outbound messages a processed job queued (committed and pending), for delivery. */
  readonly onOutbound?: (messages: readonly OutboundForDelivery[]) => void;
}

/**
 * Processes a batch in one transaction; when that fails (a message the handlers cannot take, a
 * deadlock with a concurrent batch), processes its messages one by one so only the bad one fails.
 */
function batchProcessor(options: ProcessingWorkerOptions) {
  const processOptions = { brokerOin: options.brokerOin, ...(options.now ? { now: options.now } : {}) };
  return async (ids: readonly number[]): Promise<(ProcessResult | Error)[]> => {
    try {
      return await processBatch(options.pool, options.handlers, ids, processOptions);
    } catch (error) {
      if (ids.length === 1) return [error as Error];
      options.log.warn('processing batch failed; processing its messages one by one', { size: ids.length, error: (error as Error).message });
      const results: (ProcessResult | Error)[] = [];
      for (const id of ids) {
        results.push(await processBatch(options.pool, options.handlers, [id], processOptions).then((r) => r[0]!, (e: Error) => e));
      }
      return results;
    }
  };
}

/**
 * Consumes processing jobs. Jobs active at the same time are processed together, one transaction per
 * batch, so one commit serves many messages. A job that runs twice (stalled worker, sweeper re-add) is
 * harmless: the outbox claim lets only one run change anything. A worker killed mid-job leaves the
 * job stalled; BullMQ hands it to another worker, and maxStalledCount is high enough that a kill never
 * fails it.
 */
export function startProcessingWorker(options: ProcessingWorkerOptions): Worker<ProcessingJobData> {
  const batcher = new MicroBatcher<number, ProcessResult | Error>({ maxBatch: options.batchSize, maxInFlight: options.transactions, run: batchProcessor(options) });
  const worker = new Worker<ProcessingJobData>(
    PROCESSING_QUEUE,
    async (job) => {
      // A job holds one message or a group commit's; all go to the batcher together (so usually into
      // one transaction). A failed message fails the job: its retry redoes only what is still in the outbox.
      // Each message's outbound messages go to delivery as soon as its own transaction has committed,
      // not when the job's last one has (a job's messages may be split over two transactions).
      const messageIds = messageIdsOf(job.data);
      const results = await Promise.all(messageIds.map((id) => batcher.submit(id).then((result) => {
        if (!(result instanceof Error) && result.outbound.length > 0) options.onOutbound?.(result.outbound);
        return result;
      })));
      results.forEach((result, index) => {
        if (!(result instanceof Error)) options.log.debug('processed', { messageId: messageIds[index], outcome: result.outcome ?? 'already-processed', outbound: result.outbound.length });
      });
      const failure = results.find((result): result is Error => result instanceof Error);
      if (failure) throw failure;
      return results.map((result) => (result as ProcessResult).outcome);
    },
    { connection: createConsumerConnection(options.redisUrl), prefix: options.prefix, concurrency: options.concurrency, maxStalledCount: 10, ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}) },
  );
  worker.on('failed', (job, error) => {
    options.log.warn('processing failed; will retry', { messageIds: job ? messageIdsOf(job.data) : undefined, attempt: job?.attemptsMade, error: error.message });
  });
  worker.on('error', (error) => options.log.warn('processing worker error', { error: error.message }));
  return worker;
}
