import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '../store/database.js';
import { listDueOutbox } from '../store/inbound-messages.repo.js';
import type { SweptWork } from './sweeper.js';

/** Queue of accepted inbound messages awaiting the processing worker. */
export const PROCESSING_QUEUE = 'processing';

/** What a processing job carries: stored messages' ids, never personal data. */
export interface ProcessingJobData {
  readonly messageIds: readonly number[];
  /** Jobs added before batch jobs carried one id here. */
  readonly messageId?: number;
}

/** The messages a job stands for, whichever shape it was added in. */
export const messageIdsOf = (data: ProcessingJobData): readonly number[] => data.messageIds ?? (data.messageId === undefined ? [] : [data.messageId]);

export const PROCESSING_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // PostgreSQL is the archive; finished jobs leave Redis so its memory stays flat.
  removeOnComplete: true,
  removeOnFail: false,
};

/** A job for one stored message (sweeper, CLI): the id makes a second add a no-op while the job lives. */
export const processingJobId = (messageId: number): string => `msg-${messageId}`;

/** The job for the messages of one group commit; `key` is stored with their outbox rows. */
export const processingBatchJobId = (key: string): string => `batch-${key}`;

export function createProcessingQueue(connection: Redis, prefix: string): Queue<ProcessingJobData> {
  return new Queue<ProcessingJobData>(PROCESSING_QUEUE, { connection, prefix, defaultJobOptions: PROCESSING_JOB_OPTIONS });
}

/** The addBulk entries for these stored messages, a job each. */
export function processingJobs(messageIds: readonly number[]): { name: string; data: ProcessingJobData; opts: JobsOptions }[] {
  return messageIds.map((messageId) => ({ name: 'process', data: { messageIds: [messageId] }, opts: { jobId: processingJobId(messageId) } }));
}

/** The messages one group commit stored, under the key their outbox rows name. */
export interface StoredBatch {
  readonly key: string;
  readonly messageIds: readonly number[];
}

/** The addBulk entries for group commits, a job each. */
export function processingBatchJobs(batches: readonly StoredBatch[]): { name: string; data: ProcessingJobData; opts: JobsOptions }[] {
  return batches.map((batch) => ({ name: 'process', data: { messageIds: batch.messageIds }, opts: { jobId: processingBatchJobId(batch.key) } }));
}

/** The sweeper's view of processing: outbox rows, each held by its group commit's job or by its own. */
export function processingSweptWork(pool: Pool, queue: Queue<ProcessingJobData>): SweptWork<ProcessingJobData> {
  return {
    name: 'processing', queue, jobId: processingJobId, jobsFor: processingJobs,
    listDue: async (afterId, graceMs, limit) => (await listDueOutbox(pool, afterId, graceMs, limit))
      .map((row) => ({ id: row.id, batchJobId: row.jobKey === null ? undefined : processingBatchJobId(row.jobKey) })),
  };
}
