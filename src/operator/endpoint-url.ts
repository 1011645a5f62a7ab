import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DEMO_RECEIVER_PATH } from '../delivery/demo-receiver.js';
import type { Config } from '../shared/config.js';
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

/** The policy the settings give. */
export function endpointPolicy(config: Config): EndpointPolicy {
  return {
    allowHttp: config.allowHttpEndpoints,
    allowLoopback: config.allowLoopbackEndpoints,
    allowPrivate: config.allowPrivateEndpoints,
    ownPorts: [config.port, config.embeddedPgPort, config.embeddedRedisPort].filter((port) => port > 0),
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

/** What kind of address an IP is, as far as the policy cares. */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved';

const KIND_RULE: Record<Exclude<AddressKind, 'public'>, string> = {
  loopback: 'a loopback address (allowed only with ALLOW_LOOPBACK_ENDPOINTS=true)',
  private: 'a private address (allowed only with ALLOW_PRIVATE_ENDPOINTS=true)',
  'link-local': 'a link-local address (169.254/16, fe80::/10, e.g. cloud metadata): never an institution',
  unspecified: 'the unspecified address (0.0.0.0, ::): never an institution',
  reserved: 'a multicast, broadcast or reserved address: never an institution',
};

function ipv4Kind(address: string): AddressKind {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127))
    return 'private';
  if (a >= 224) return 'reserved';
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function ipv6Kind(address: string): AddressKind {
  const g = ipv6Groups(address);
  const first = g[0]!;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
    return ipv4Kind(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfec0) return 'private';
  if ((first & 0xff00) === 0xff00) return 'reserved';
  return 'public';
}

/** The kind of an IPv4 or IPv6 address. */
export function addressKind(address: string): AddressKind {
  return isIP(address) === 6 ? ipv6Kind(address) : ipv4Kind(address);
}

function allowed(kind: AddressKind, policy: EndpointPolicy): boolean {
  return (
    kind === 'public' || (kind === 'loopback' && policy.allowLoopback) || (kind === 'private' && policy.allowPrivate)
  );
}

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
  if (kinds.length > 0 && !kinds.some((kind) => allowed(kind, policy))) {
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
