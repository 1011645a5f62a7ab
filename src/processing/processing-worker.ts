import { Worker } from 'bullmq';
import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { MicroBatcher } from '../infra/micro-batcher.js';
import { messageIdsOf, PROCESSING_QUEUE, type ProcessingJobData } from '../infra/processing-queue.js';
import { createConsumerConnection } from '../infra/redis.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import type { MessageHandler } from './handler.js';
import { type FirstAttemptLeases, type ProcessOptions, type ProcessResult, processBatch } from './process-message.js';
import {
  classifyProcessingFailure,
  failureReason,
  maskedJobFailure,
  moveToProcessingErrorQueue,
} from './processing-failure.js';

export interface ProcessingWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly pool: Pool;
  readonly handlers: ReadonlyMap<string, MessageHandler>;
  readonly brokerOin: string;
  /** The secret the pupil index hashes PGNs with: every message this worker processes is indexed. */
  readonly traceKey: string;
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
  /** The delivering process that first attempts are leased to with the processing COMMIT (their messages reach onOutbound leased). */
  readonly firstLeases?: FirstAttemptLeases;
}

/**
 * Processes a batch in one transaction. When that fails for the messages' sake (not an outage),
 * processes them one by one so only the bad one fails; an outage fails them all at once, untried.
 */
function batchProcessor(options: ProcessingWorkerOptions) {
  const processOptions: ProcessOptions = {
    brokerOin: options.brokerOin,
    traceKey: options.traceKey,
    ...(options.now ? { now: options.now } : {}),
    ...(options.firstLeases && options.onOutbound ? { firstLeases: options.firstLeases } : {}),
  };
  return async (ids: readonly number[]): Promise<(ProcessResult | Error)[]> => {
    try {
      return await processBatch(options.pool, options.handlers, ids, processOptions);
    } catch (error) {
      if (ids.length === 1 || classifyProcessingFailure(error) === 'transient') return ids.map(() => error as Error);
      options.log.warn('processing batch failed; processing its messages one by one', {
        size: ids.length,
        error: failureReason(error),
      });
      const results: (ProcessResult | Error)[] = [];
      for (const id of ids) {
        results.push(
          await processBatch(options.pool, options.handlers, [id], processOptions).then(
            (r) => r[0]!,
            (e: Error) => e,
          ),
        );
      }
      return results;
    }
  };
}

/**
 * Consumes processing jobs, which are only wake-ups: the outbox row in PostgreSQL is the message's
 * state. Jobs active at the same time are processed together, one transaction per batch. A job never
 * fails: a message that hit an outage stays in the outbox for the sweeper to wake again (no attempt is
 * used up), and one that cannot be processed goes to the processing error queue with its reason and
 * its sender's feedback. A job that runs twice is harmless: the outbox claim lets only one run change
 * anything.
 */
export function startProcessingWorker(options: ProcessingWorkerOptions): Worker<ProcessingJobData> {
  const batcher = new MicroBatcher<number, ProcessResult | Error>({
    maxBatch: options.batchSize,
    maxInFlight: options.transactions,
    run: batchProcessor(options),
  });
  const processOptions = { brokerOin: options.brokerOin, ...(options.now ? { now: options.now } : {}) };

  async function settleFailure(messageId: number, error: Error): Promise<string> {
    const reason = failureReason(error);
    if (classifyProcessingFailure(error) === 'transient') {
      options.log.warn(
        'processing interrupted by an outage; the message waits in the outbox and the sweeper wakes it again',
        { messageId, error: reason },
      );
      return 'interrupted';
    }
    try {
      const feedback = await moveToProcessingErrorQueue(
        options.pool,
        options.handlers,
        messageId,
        reason,
        processOptions,
      );
      options.log.error('processing failed; the message is in the processing error queue', {
        messageId,
        error: reason,
        feedback: feedback.length,
      });
      if (feedback.length > 0) options.onOutbound?.(feedback);
      return 'failed';
    } catch (moveError) {
      options.log.warn(
        'processing failed and the move to the error queue was interrupted; the sweeper wakes the message again',
        { messageId, error: reason, moveError: failureReason(moveError) },
      );
      return 'interrupted';
    }
  }

  const worker = new Worker<ProcessingJobData>(
    PROCESSING_QUEUE,
    async (job) => {
      // Each message's outbound messages go to delivery as soon as its own transaction has committed.
      const messageIds = messageIdsOf(job.data);
      try {
        return await Promise.all(
          messageIds.map(async (id) => {
            const result = await batcher.submit(id).catch((error: Error) => error);
            if (result instanceof Error) return settleFailure(id, result);
            if (result.outbound.length > 0) options.onOutbound?.(result.outbound);
            options.log.debug('processed', {
              messageId: id,
              outcome: result.outcome ?? 'already-processed',
              outbound: result.outbound.length,
            });
            return result.outcome;
          }),
        );
      } catch (error) {
        // Whatever BullMQ is handed, it keeps in Redis: the masked reason only.
        throw maskedJobFailure(error);
      }
    },
    {
      connection: createConsumerConnection(options.redisUrl),
      prefix: options.prefix,
      concurrency: options.concurrency,
      maxStalledCount: 10,
      ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}),
    },
  );
  worker.on('failed', (job, error) => {
    options.log.warn('processing job failed; its messages wait in the outbox for the sweeper', {
      messageIds: job ? messageIdsOf(job.data).length : undefined,
      error: failureReason(error),
    });
  });
  worker.on('error', (error) => options.log.warn('processing worker error', { error: error.message }));
  return worker;
}
