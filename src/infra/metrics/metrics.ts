import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The broker's event metrics (counters and histograms), in one registry per process. The pipeline's
 * code reports through the small functions below — one line at each place where something happens —
 * so the metric names and labels live here only. Scrape-time gauges (queue depths, error queue) are
 * in store-gauges.ts; cluster aggregation in cluster-metrics.ts.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const inboundRequests = new Counter({
  name: 'bron_inbound_requests_total',
  help: 'SOAP requests, by outcome (accepted, duplicate, rejected, unanswered), operation and fault code (rejected only)',
  labelNames: ['outcome', 'operation', 'fault_code'] as const,
  registers: [metricsRegistry],
});

const processingDuration = new Histogram({
  name: 'bron_processing_duration_seconds',
  help: 'Time a processing job ran (claim, business rules, outbound messages, commit), by result',
  labelNames: ['result'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

const deliveryAttempts = new Counter({
  name: 'bron_delivery_attempts_total',
  help: 'Delivery attempts to institution endpoints, by institution OIN and outcome (delivered, retry, failed)',
  labelNames: ['institution', 'outcome'] as const,
  registers: [metricsRegistry],
});

const attemptDuration = new Histogram({
  name: 'bron_delivery_attempt_duration_seconds',
  help: 'Duration of one delivery attempt (connect, send, read the answer), by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

const deliveryLatency = new Histogram({
  name: 'bron_delivery_latency_seconds',
  help: 'From queueing an outbound message to its receipt by the institution, retries, waits and time in the error queue included',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

const sweeperReenqueued = new Counter({
  name: 'bron_sweeper_reenqueued_total',
  help: 'Wake-ups the sweeper sent for outbox rows still waiting after the grace period (jobs lost, an outage, a replay), by work',
  labelNames: ['work'] as const,
  registers: [metricsRegistry],
});

/** A SOAP request answered with a receipt (`accepted`, or `duplicate` for a resubmission) or a fault. */
export function countInboundRequest(
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'unanswered',
  operation: string | undefined,
  faultCode = '',
): void {
  inboundRequests.inc({ outcome, operation: operation ?? 'unknown', fault_code: faultCode });
}

/** A processing job finished: `result` is the outcome or `failed`. */
export function observeProcessing(result: string, seconds: number): void {
  processingDuration.observe({ result }, seconds);
}

/** One delivery attempt ended. */
export function observeDeliveryAttempt(institutionOin: string, outcome: string, latencyMs: number): void {
  deliveryAttempts.inc({ institution: institutionOin, outcome });
  attemptDuration.observe({ outcome }, latencyMs / 1000);
}

/** An outbound message was delivered `seconds` after it was queued. */
export function observeDeliveryLatency(seconds: number): void {
  deliveryLatency.observe(seconds);
}

/** The sweeper woke `count` waiting messages. */
export function countSweeperReenqueued(work: string, count: number): void {
  sweeperReenqueued.inc({ work }, count);
}
