import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue of accepted inbound messages awaiting the processing worker. */
export const PROCESSING_QUEUE = 'processing';

/** What a processing job carries: the stored message's id, never personal data. */
export interface ProcessingJobData {
  readonly messageId: number;
}

export const PROCESSING_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  // PostgreSQL is the archive; finished jobs leave Redis so its memory stays flat.
  removeOnComplete: true,
  removeOnFail: false,
};

/** One job per stored message: the id makes a second add (sweeper, retry) a no-op while the job lives. */
export const processingJobId = (messageId: number): string => `msg-${messageId}`;

export function createProcessingQueue(connection: Redis, prefix: string): Queue<ProcessingJobData> {
  return new Queue<ProcessingJobData>(PROCESSING_QUEUE, { connection, prefix, defaultJobOptions: PROCESSING_JOB_OPTIONS });
}

/** The addBulk entries for these stored messages. */
export function processingJobs(messageIds: readonly number[]): { name: string; data: ProcessingJobData; opts: JobsOptions }[] {
  return messageIds.map((messageId) => ({ name: 'process', data: { messageId }, opts: { jobId: processingJobId(messageId) } }));
}
