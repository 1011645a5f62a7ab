import type https from 'node:https';
import type { Pool } from '../infra/database.js';
import { withoutCredentials } from '../infra/url-credentials.js';
import { insertAuditRow } from '../store/audit.repo.js';
import { checkEndpointUrl, type EndpointPolicy, EndpointUrlError } from './endpoint-url.js';
import { type PingResult, pingEndpoint } from './institutions.js';
import type { Actor } from './operator-actions.js';

/** What the read role learns from a ping: healthy or not, never why (why would make the broker a port scanner). */
export interface GenericPingResult {
  readonly endpoint: string;
  readonly healthy: boolean;
  readonly error: string | null;
}

export interface PingDeps {
  readonly pool: Pick<Pool, 'query'>;
  readonly endpointPolicy: EndpointPolicy;
  /** The delivery transport's https agent (client certificate, trusted CAs); absent with TLS off. */
  readonly httpsAgent?: https.Agent | undefined;
}

/** What the read role is told about an endpoint that is not healthy. */
export const GENERIC_PING_ERROR = 'the endpoint did not answer as a healthy service (the operator role sees why)';

/**
 * Probes an institution's endpoint and records the ping in the audit log. An endpoint the endpoint
 * policy refuses now (registered before it, or its name now resolves inside) is not probed. With
 * `detail` (the operator role, the CLI) the full result comes back; without it only healthy or not.
 */
export async function pingInstitution(
  deps: PingDeps,
  actor: Actor,
  institution: { readonly oin: string; readonly endpointUrl: string },
  options: { timeoutMs: number; detail: boolean },
): Promise<PingResult | GenericPingResult> {
  const endpoint = institution.endpointUrl;
  let result: PingResult;
  try {
    await checkEndpointUrl(endpoint, 'endpoint', deps.endpointPolicy);
    result = await pingEndpoint(endpoint, options.timeoutMs, deps.httpsAgent);
  } catch (error) {
    if (!(error instanceof EndpointUrlError)) throw error;
    result = {
      endpoint,
      reachable: false,
      healthy: false,
      httpStatus: null,
      latencyMs: 0,
      error: `not probed: the ${error.message}`,
    };
  }
  const shown = withoutCredentials(endpoint);
  // The audit is readable by the read role: it keeps only what that role may see.
  await insertAuditRow(deps.pool, {
    actor,
    action: 'institution.ping',
    affected: 0,
    dryRun: false,
    outboundIds: [],
    target: { institution: institution.oin, endpoint: shown, healthy: result.healthy },
  });
  if (options.detail) return { ...result, endpoint: shown };
  return { endpoint: shown, healthy: result.healthy, error: result.healthy ? null : GENERIC_PING_ERROR };
}
