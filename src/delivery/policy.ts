import type { AttemptOutcome } from './soap-client.js';

/** What happens to a message after an attempt: the one place the retry policy lives. */
export type Verdict =
  | { readonly status: 'delivered' }
  | { readonly status: 'pending'; readonly nextAttemptAt: Date }
  | { readonly status: 'error' };

export interface RetryPolicy {
  /** Retries after the first attempt, then the error queue. */
  readonly retries: number;
  /** Waits before retry 1, 2, …; the last repeats. */
  readonly backoffMs: readonly number[];
}

/** The wait before retry n (1-based): the configured list, its last value repeating, ±10 % jitter. */
export function retryDelay(backoffMs: readonly number[], retry: number, random: () => number = Math.random): number {
  const base = backoffMs[Math.min(retry, backoffMs.length) - 1] ?? 0;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/**
 * Classifies the institution's answer to attempt `attempt` (1-based, counted since the message was
 * queued or last replayed): delivered, retry at a time, or the error queue. Only an attempt that
 * reached the endpoint (or timed out on it) gets here: our own failures never use up an attempt.
 */
export function classify(
  outcome: AttemptOutcome,
  attempt: number,
  policy: RetryPolicy,
  now = Date.now(),
  random: () => number = Math.random,
): Verdict {
  if (outcome.kind === 'delivered') return { status: 'delivered' };
  if (outcome.kind === 'failed' || attempt > policy.retries) return { status: 'error' };
  return { status: 'pending', nextAttemptAt: new Date(now + retryDelay(policy.backoffMs, attempt, random)) };
}
