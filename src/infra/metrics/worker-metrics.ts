import type { Job, Worker } from 'bullmq';
import { observeDeliveryLatency, observeProcessing } from './metrics.js';

const seconds = (from: number | undefined, to: number | undefined): number | undefined =>
  from !== undefined && to !== undefined && to >= from ? (to - from) / 1000 : undefined;

/**
 * Processing duration from BullMQ's own job times (started → finished), read from the worker's
 * events so the processing code itself carries no metrics code; a job's messages each count.
 */
export function watchProcessingWorker(worker: Worker): void {
  const observe = (job: Job | undefined, result: string): void => {
    const duration = seconds(job?.processedOn, job?.finishedOn ?? Date.now());
    if (duration !== undefined) observeProcessing(result, duration);
  };
  // A job returns one outcome per message it held; null where the message was processed already (a
  // second wake-up), which did no processing and is not counted.
  const outcomes = (result: unknown): string[] =>
    (Array.isArray(result) ? result : [result]).filter((outcome): outcome is string => typeof outcome === 'string');
  worker.on('completed', (job, result: unknown) => {
    for (const outcome of outcomes(result)) observe(job, outcome);
  });
  worker.on('failed', (job) => observe(job, 'failed'));
}

/**
 * Delivery latency: from the job's creation (the message queued, replayed or its institution
 * resumed) to the receipt, retries and backoff included. Only a delivered message has one.
 */
export function watchDeliveryWorker(worker: Worker): void {
  worker.on('completed', (job, result: unknown) => {
    if (result !== 'delivered') return;
    const latency = seconds(job.timestamp, job.finishedOn ?? Date.now());
    if (latency !== undefined) observeDeliveryLatency(latency);
  });
}
