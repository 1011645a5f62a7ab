import type https from 'node:https';
import { HttpPostError, probeStatus } from '../delivery/http-post.js';
import type { Pool } from '../infra/database.js';
import { maskPersonalNumbers } from '../infra/log.js';
import { withoutCredentials } from '../infra/url-credentials.js';
import { listInstitutionActivity } from '../store/institutions.repo.js';

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
  /** Whether its receipts must carry a valid WS-Security signature with its OIN. */
  readonly verifyReceiptSignature: boolean;
  readonly paused: boolean;
  /** Pending, not attempted yet. */
  readonly queued: number;
  /** Pending after one or more attempts: being retried. */
  readonly inDelivery: number;
  readonly deliveredLastHour: number;
  readonly errorQueued: number;
  readonly health: EndpointHealth;
}

/**
 * Per institution: what waits, what is being retried, what was delivered in the last hour, what is in
 * the error queue, and how its endpoint answered lately.
 */
export async function institutionOverview(pool: Pool, oin?: string): Promise<InstitutionOverview[]> {
  return (await listInstitutionActivity(pool, oin)).map((r) => ({
    oin: r.oin,
    name: r.name,
    brins: r.brins,
    // Never a user or password, even from a row stored before endpoint URLs were checked.
    endpointUrl: r.endpointUrl === null ? null : withoutCredentials(r.endpointUrl),
    enabled: r.enabled,
    verifyReceiptSignature: r.verifyReceiptSignature ?? false,
    paused: r.paused,
    queued: r.queued,
    inDelivery: r.inDelivery,
    deliveredLastHour: r.deliveredLastHour,
    errorQueued: r.errorQueued,
    health: {
      state: r.lastOutcome === null ? 'idle' : r.lastOutcome === 'delivered' ? 'ok' : 'failing',
      lastAttemptAt: r.lastAttemptAt,
      lastOutcome: r.lastOutcome,
      lastError: r.lastError === null ? null : maskPersonalNumbers(r.lastError),
      attempts: r.recentAttempts,
      failedAttempts: r.recentFailedAttempts,
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

const unhealthyReason = (status: number): string =>
  status >= 500
    ? `the endpoint answers with a server error (HTTP ${status})`
    : `nothing is registered at this URL (HTTP ${status})`;

/**
 * Probes an endpoint with a GET (never a POST: a probe must not look like a message to the
 * institution), bounded by `timeoutMs`, over the transport deliveries use: `httpsAgent` presents the
 * broker's client certificate and trusts only DELIVERY_CA_FILE, so an endpoint a delivery could not
 * reach is not healthy. Reports status and latency; the body is discarded.
 */
export async function pingEndpoint(endpoint: string, timeoutMs: number, httpsAgent?: https.Agent): Promise<PingResult> {
  const started = performance.now();
  const latency = (): number => Math.round(performance.now() - started);
  try {
    const status = await probeStatus(endpoint, { timeoutMs, ...(httpsAgent ? { httpsAgent } : {}) });
    const healthy = isHealthyAnswer(status);
    return {
      endpoint,
      reachable: true,
      healthy,
      httpStatus: status,
      latencyMs: latency(),
      error: healthy ? null : unhealthyReason(status),
    };
  } catch (error) {
    const reason =
      error instanceof HttpPostError
        ? error.message.slice(0, 200)
        : `connection failed: ${String(error).slice(0, 200)}`;
    return { endpoint, reachable: false, healthy: false, httpStatus: null, latencyMs: latency(), error: reason };
  }
}
