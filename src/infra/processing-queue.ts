import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue of wake-ups for the processing worker: which stored messages to look at. */
export const PROCESSING_QUEUE = 'processing';

/** What a processing job carries: stored messages' ids, never personal data. */
export interface ProcessingJobData {
  readonly messageIds: readonly number[];
  /** Jobs added before batch jobs carried one id here. */
  readonly messageId?: number;
}

/** The messages a job stands for, whichever shape it was added in. */
export const messageIdsOf = (data: ProcessingJobData): readonly number[] =>
  data.messageIds ?? (data.messageId === undefined ? [] : [data.messageId]);

/**
 * A job is a wake-up, not the message's state: it runs once and leaves Redis, whatever happened.
 * The outbox row says whether the message still waits, and the sweeper wakes it again if so.
 */
export const PROCESSING_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: true,
};

/** The job for the messages of one group commit. */
export const processingBatchJobId = (key: string): string => `batch-${key}`;

export function createProcessingQueue(connection: Redis, prefix: string): Queue<ProcessingJobData> {
  return new Queue<ProcessingJobData>(PROCESSING_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: PROCESSING_JOB_OPTIONS,
  });
}

/** The messages one group commit stored, under a key of their own. */
export interface StoredBatch {
  readonly key: string;
  readonly messageIds: readonly number[];
}

/** The addBulk entries for group commits, a job each. */
export function processingBatchJobs(
  batches: readonly StoredBatch[],
): { name: string; data: ProcessingJobData; opts: JobsOptions }[] {
  return batches.map((batch) => ({
    name: 'process',
    data: { messageIds: batch.messageIds },
    opts: { jobId: processingBatchJobId(batch.key) },
  }));
}

/** Wake-up jobs for these stored messages (sweeper, CLI), up to `perJob` messages each; BullMQ names them. */
export function processingWakeUps(
  messageIds: readonly number[],
  perJob = 64,
): { name: string; data: ProcessingJobData; opts: JobsOptions }[] {
  const jobs = [];
  for (let start = 0; start < messageIds.length; start += perJob)
    jobs.push({ name: 'process', data: { messageIds: messageIds.slice(start, start + perJob) }, opts: {} });
  return jobs;
}
