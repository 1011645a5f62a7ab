import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { XsdValidator } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../contracts/catalogue.js';
import type { Logger } from '../log.js';
import { observeDeliveryAttempt } from '../metrics/metrics.js';
import { attemptDelivery, outboundEnvelope } from '../outbound/soap-client.js';
import type { Pool } from '../store/database.js';
import { MicroBatcher } from '../store/micro-batcher.js';
import { type AttemptRecord, type OutboundForDelivery, loadForDelivery, markUndeliverable, recordAttempts } from '../store/outbound.repo.js';
import { DELIVERY_QUEUE, type DeliveryJobData, retryDelay } from './delivery-queue.js';
import { createConsumerConnection } from './redis.js';

export interface DeliveryWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly pool: Pool;
  readonly brokerOin: string;
  readonly validator: XsdValidator;
  readonly timeoutMs: number;
  readonly backoffMs: readonly number[];
  readonly concurrency: number;
  readonly perInstitution: number;
  readonly log: Logger;
  /** Job lock; a killed worker's jobs are picked up again after about this long. */
  readonly lockMs?: number;
}

/**
 * Delivers outbound messages to institutions' endpoints: one attempt and up to DELIVERY_RETRIES more,
 * each with a timeout, then the error queue (status `error` in PostgreSQL, the job in BullMQ's failed
 * set). A slow institution holds at most `perInstitution` of the worker's slots; its other jobs step
 * aside (delayed briefly, without using an attempt) so other institutions keep flowing.
 */
export function startDeliveryWorker(options: DeliveryWorkerOptions): Worker<DeliveryJobData> {
  const inFlight = new Map<string, number>();
  // Concurrent jobs share their reads and their attempt records: one round trip, one commit for many.
  const loader = new MicroBatcher<number, OutboundForDelivery | null>({ maxBatch: 128, maxInFlight: 2, run: (ids) => loadForDelivery(options.pool, ids) });
  type Attempt = AttemptRecord & { readonly status: 'delivered' | 'error' | 'pending' };
  const recorder = new MicroBatcher<Attempt, void>({
    maxBatch: 128, maxInFlight: 2, run: async (attempts) => { await recordAttempts(options.pool, attempts); return attempts.map(() => undefined); },
  });

  async function deliver(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    const message = await loader.submit(job.data.outboundId);
    if (!message || message.status !== 'pending') return `skipped (${message?.status ?? 'missing'})`;
    if (message.paused) return 'paused'; // resuming the institution enqueues its pending messages again
    if (!message.endpointUrl) {
      await markUndeliverable(options.pool, message.id, 'institution has no endpoint registered');
      throw new UnrecoverableError('institution has no endpoint registered');
    }
    const busy = inFlight.get(message.institutionOin) ?? 0;
    if (busy >= options.perInstitution) {
      await job.moveToDelayed(Date.now() + 50 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    inFlight.set(message.institutionOin, busy + 1);
    try {
      const startedAt = new Date();
      const action = `http://duo.nl/contract/${OUTBOUND_CONTRACT.name}/${message.operation}`;
      const envelope = outboundEnvelope(message.bodyXml, message.operation, message.wsaMessageId, message.institutionOin, options.brokerOin);
      const outcome = await attemptDelivery(message.endpointUrl, envelope, action, options.timeoutMs, options.validator, message.wsaMessageId);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const status = outcome.kind === 'delivered' ? 'delivered' : outcome.kind === 'failed' || lastAttempt ? 'error' : 'pending';
      await recorder.submit({
        status, outboundId: message.id, startedAt, endpoint: message.endpointUrl, latencyMs: Date.now() - startedAt.getTime(), outcome: outcome.kind,
        ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
        ...(outcome.kind !== 'delivered' ? { error: outcome.error, ...(outcome.faultCode ? { faultCode: outcome.faultCode } : {}) } : {}),
      });
      observeDeliveryAttempt(message.institutionOin, outcome.kind, Date.now() - startedAt.getTime());
      if (outcome.kind === 'delivered') return 'delivered';
      options.log.warn('delivery attempt failed', { outboundId: message.id, institution: message.institutionOin, attempt: job.attemptsMade + 1, outcome: outcome.kind, error: outcome.error });
      if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.error);
      throw new Error(outcome.error);
    } finally {
      inFlight.set(message.institutionOin, (inFlight.get(message.institutionOin) ?? 1) - 1);
    }
  }

  const worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, deliver, {
    connection: createConsumerConnection(options.redisUrl),
    prefix: options.prefix,
    concurrency: options.concurrency,
    maxStalledCount: 10,
    ...(options.lockMs ? { lockDuration: options.lockMs, stalledInterval: options.lockMs } : {}),
    settings: { backoffStrategy: (attemptsMade: number) => retryDelay(options.backoffMs, attemptsMade) },
  });
  worker.on('error', (error) => options.log.warn('delivery worker error', { error: error.message }));
  return worker;
}
