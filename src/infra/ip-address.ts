import { isIP } from 'node:net';

/** What kind of address an IP is, as far as the endpoint policy cares (the operator's check and the send-time check). */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved';

/** Why an address of each kind is refused, as the operator and a failed attempt read it. */
export const KIND_RULE: Record<Exclude<AddressKind, 'public'>, string> = {
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

export function addressAllowed(
  kind: AddressKind,
  policy: { readonly allowLoopback: boolean; readonly allowPrivate: boolean },
): boolean {
  return (
    kind === 'public' || (kind === 'loopback' && policy.allowLoopback) || (kind === 'private' && policy.allowPrivate)
  );
}
