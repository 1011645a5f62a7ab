import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DEMO_RECEIVER_PATH } from '../delivery/demo-receiver.js';
import type { Config } from '../infra/config.js';
import { type AddressKind, addressAllowed, addressKind, KIND_RULE } from '../infra/ip-address.js';
import { OperatorInputError } from './input.js';

/**
 * Which institution endpoint URLs the broker accepts: it POSTs every push there, so an endpoint that
 * points inside the broker's own network (its admin API, cloud metadata, a database) would be a way in.
 */
export interface EndpointPolicy {
  /** Plain `http://` is allowed besides `https://`. */
  readonly allowHttp: boolean;
  /** Loopback addresses (127/8, ::1) and names that resolve only to them are allowed. */
  readonly allowLoopback: boolean;
  /** Private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) and names that resolve only to them are allowed. */
  readonly allowPrivate: boolean;
  /** This broker's own ports (its listener, embedded PostgreSQL and Redis): refused on an address of this machine. */
  readonly ownPorts: readonly number[];
  /** Paths on the broker's own port that may be an endpoint all the same: the demo receiver's, while the demo is on. */
  readonly ownPathPrefixes: readonly string[];
}

export { type AddressKind, addressKind };

/** The policy the settings give. */
export function endpointPolicy(config: Config): EndpointPolicy {
  return {
    allowHttp: config.allowHttpEndpoints,
    allowLoopback: config.allowLoopbackEndpoints,
    allowPrivate: config.allowPrivateEndpoints,
    ownPorts: [config.port, config.admin?.port ?? 0, config.embeddedPgPort, config.embeddedRedisPort].filter(
      (port) => port > 0,
    ),
    ownPathPrefixes: config.seedDemo ? [DEMO_RECEIVER_PATH] : [],
  };
}

/** An endpoint URL the policy refuses; the message names the field and the rule. */
export class EndpointUrlError extends OperatorInputError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
    this.name = 'EndpointUrlError';
  }
}

/** The addresses a host name resolves to; none when it does not resolve (in time). */
export type Resolve = (hostname: string) => Promise<string[]>;

const RESOLVE_TIMEOUT_MS = 3000;

export const resolveHost: Resolve = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), RESOLVE_TIMEOUT_MS);
  });
  try {
    const found = lookup(hostname, { all: true, verbatim: true }).then(
      (addresses) => addresses.map((a) => a.address),
      () => [],
    );
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** This machine's own addresses: an endpoint there on one of the broker's ports is the broker itself. */
function isOwnAddress(address: string): boolean {
  const kind = addressKind(address);
  if (kind === 'loopback' || kind === 'unspecified') return true;
  const own = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address.toLowerCase());
  return own.includes(address.toLowerCase());
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks an institution endpoint URL against the policy and returns it normalised (WHATWG URL href),
 * as it is stored. Throws EndpointUrlError naming `field` and the rule it breaks.
 */
export async function checkEndpointUrl(
  raw: string,
  field: string,
  policy: EndpointPolicy,
  resolve: Resolve = resolveHost,
): Promise<string> {
  const refuse = (rule: string): never => {
    throw new EndpointUrlError(field, rule);
  };
  // The URL parser silently drops tabs and newlines: refuse them before it can.
  if (CONTROL.test(raw)) refuse('must not contain control characters (CR, LF, tab, ...)');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return refuse('is not a URL');
  }
  if (url.protocol === 'http:') {
    if (!policy.allowHttp) refuse('must use https:// (plain http:// is allowed only with ALLOW_HTTP_ENDPOINTS=true)');
  } else if (url.protocol !== 'https:') {
    refuse(`must be an https:// URL, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') refuse('must not contain credentials (user:password@)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) !== 0;
  const localName = host === 'localhost' || host.endsWith('.localhost');
  const addresses = literal ? [host] : localName ? ['127.0.0.1'] : await resolve(host);
  const kinds = addresses.map(addressKind);
  if (kinds.length > 0 && !kinds.some((kind) => addressAllowed(kind, policy))) {
    const rule = KIND_RULE[kinds.find((kind) => kind !== 'public') as Exclude<AddressKind, 'public'>];
    refuse(literal ? `must not be ${rule}` : `must not name a host that resolves only to ${rule}`);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (
    addresses.length > 0 &&
    addresses.every(isOwnAddress) &&
    policy.ownPorts.includes(port) &&
    !policy.ownPathPrefixes.some((prefix) => url.pathname.startsWith(prefix))
  ) {
    refuse(`must not be this broker's own port ${port} (its admin API, SOAP endpoints or services)`);
  }
  return url.href;
}
