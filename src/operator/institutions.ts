import { maskPersonalNumbers } from '../shared/log.js';
import type { Pool } from '../shared/database.js';

/** How deliveries to an institution went lately (the last 15 minutes of attempts). */
export interface EndpointHealth {
  /** `ok`: the last attempt delivered; `failing`: it did not; `idle`: no attempt lately. */
  readonly state: 'ok' | 'failing' | 'idle';
  readonly lastAttemptAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
  readonly attempts: number;
  readonly failedAttempts: number;
}

/** One institution as the overview shows it. */
export interface InstitutionOverview {
  readonly oin: string;
  readonly name: string;
  readonly brins: readonly string[];
  readonly endpointUrl: string | null;
  readonly enabled: boolean;
  readonly paused: boolean;
  /** Pending, not attempted yet. */
  readonly queued: number;
  /** Pending after one or more attempts: being retried. */
  readonly inDelivery: number;
  readonly deliveredLastHour: number;
  readonly errorQueued: number;
  readonly health: EndpointHealth;
}

const HEALTH_WINDOW = "interval '15 minutes'";

interface OverviewRow {
  oin: string; name: string; brins: string[]; endpoint_url: string | null; enabled: boolean; paused: boolean;
  queued: number; in_delivery: number; delivered_last_hour: number; error_queued: number;
  last_at: Date | null; last_outcome: string | null; last_error: string | null; attempts: number; failed: number;
}

/**
 * Per institution: what waits, what is being retried, what was delivered in the last hour, what is in
 * the error queue, and how its endpoint answered lately. Each part reads only open messages or a
 * recent time span (BRIN indexes), so the cost does not grow with the archive.
 */
export async function institutionOverview(pool: Pool, oin?: string): Promise<InstitutionOverview[]> {
  const result = await pool.query<OverviewRow>(
    `WITH open AS (
       SELECT institution_oin,
         count(*) FILTER (WHERE status = 'pending' AND attempts = 0)::int AS queued,
         count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::int AS in_delivery,
         count(*) FILTER (WHERE status = 'error')::int AS error_queued
       FROM outbound_messages WHERE status IN ('pending', 'error') GROUP BY institution_oin),
     delivered AS (
       SELECT institution_oin, count(*)::int AS n FROM outbound_messages
       WHERE delivered_at > now() - interval '1 hour' AND status = 'delivered' GROUP BY institution_oin),
     recent AS (
       SELECT o.institution_oin, a.started_at, a.outcome, a.error
       FROM delivery_attempts a JOIN outbound_messages o ON o.id = a.outbound_id
       WHERE a.started_at > now() - ${HEALTH_WINDOW}),
     last AS (SELECT DISTINCT ON (institution_oin) * FROM recent ORDER BY institution_oin, started_at DESC),
     tally AS (SELECT institution_oin, count(*)::int AS attempts, count(*) FILTER (WHERE outcome <> 'delivered')::int AS failed FROM recent GROUP BY institution_oin)
     SELECT i.oin, i.name, i.brins, i.endpoint_url, i.enabled, i.paused,
       coalesce(open.queued, 0) AS queued, coalesce(open.in_delivery, 0) AS in_delivery,
       coalesce(delivered.n, 0) AS delivered_last_hour, coalesce(open.error_queued, 0) AS error_queued,
       last.started_at AS last_at, last.outcome AS last_outcome, last.error AS last_error,
       coalesce(tally.attempts, 0) AS attempts, coalesce(tally.failed, 0) AS failed
     FROM institutions i
     LEFT JOIN open ON open.institution_oin = i.oin
     LEFT JOIN delivered ON delivered.institution_oin = i.oin
     LEFT JOIN last ON last.institution_oin = i.oin
     LEFT JOIN tally ON tally.institution_oin = i.oin
     ${oin ? 'WHERE i.oin = $1' : ''}
     ORDER BY i.oin`,
    oin ? [oin] : [],
  );
  return result.rows.map((r) => ({
    oin: r.oin, name: r.name, brins: r.brins, endpointUrl: r.endpoint_url, enabled: r.enabled, paused: r.paused,
    queued: r.queued, inDelivery: r.in_delivery, deliveredLastHour: r.delivered_last_hour, errorQueued: r.error_queued,
    health: {
      state: r.last_outcome === null ? 'idle' : r.last_outcome === 'delivered' ? 'ok' : 'failing',
      lastAttemptAt: r.last_at, lastOutcome: r.last_outcome, lastError: r.last_error === null ? null : maskPersonalNumbers(r.last_error), attempts: r.attempts, failedAttempts: r.failed,
    },
  }));
}

/** What a probe of an endpoint found. Any HTTP answer means the endpoint is reachable. */
export interface PingResult {
  readonly endpoint: string;
  readonly reachable: boolean;
  /** Reachable, and the answer says a service is there (see `isHealthyAnswer`). */
  readonly healthy: boolean;
  readonly httpStatus: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
}

/**
 * Whether an answer to a GET says a service is there. SOAP endpoints often refuse a GET (400, 405),
 * which still proves them alive; 404/410 mean nothing is at that URL, 5xx that the service is failing.
 */
export function isHealthyAnswer(status: number): boolean {
  return status < 500 && status !== 404 && status !== 410;
}

const unhealthyReason = (status: number): string => (status >= 500 ? `the endpoint answers with a server error (HTTP ${status})` : `nothing is registered at this URL (HTTP ${status})`);

/**
 * Probes an endpoint with a GET (never a POST: a probe must not look like a message to the
 * institution), bounded by `timeoutMs`. Reports status and latency; the body is discarded.
 */
export async function pingEndpoint(endpoint: string, timeoutMs: number): Promise<PingResult> {
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  try {
    const response = await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    const healthy = isHealthyAnswer(response.status);
    return { endpoint, reachable: true, healthy, httpStatus: response.status, latencyMs: latency(), error: healthy ? null : unhealthyReason(response.status) };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `connection failed: ${String((error as Error).cause ?? (error as Error).message).slice(0, 200)}`;
    return { endpoint, reachable: false, healthy: false, httpStatus: null, latencyMs: latency(), error: reason };
  }
}
