import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { type AddressKind, addressAllowed, addressKind, KIND_RULE } from '../infra/ip-address.js';

/** Which endpoint addresses a delivery may connect to: the operator's endpoint policy, applied again at send time. */
export interface AddressPolicy {
  readonly allowLoopback: boolean;
  readonly allowPrivate: boolean;
}

/**
 * The send-time check of an endpoint's address. The URL was checked when an operator set it, but a
 * name can resolve elsewhere since (DNS rebinding): every connection resolves the host itself, keeps
 * only the addresses the policy allows and connects to one of those, so no second lookup can swap the
 * address between check and connect. A refusal is a connection failure that says why, never a value
 * of the message.
 */
export interface AddressGuard {
  /** For http(s).request's `lookup`: resolves like dns.lookup, without the refused addresses (none left: an error). */
  readonly lookup: LookupFunction;
  /** Why the endpoint's host, when it is an IP literal (which is connected to without a lookup), is refused; undefined when allowed. */
  refusal(endpoint: string): string | undefined;
}

const refusedBecause = (kinds: readonly AddressKind[]): string =>
  `endpoint address refused at send time: ${KIND_RULE[kinds.find((k) => k !== 'public') as Exclude<AddressKind, 'public'>]}`;

export function addressGuard(policy: AddressPolicy): AddressGuard {
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const usable = found.filter((a) => addressAllowed(addressKind(a.address), policy));
      if (usable.length === 0) {
        // Named for what it is, not with a code: the attempt's error shows this text.
        return callback(new Error(refusedBecause(found.map((a) => addressKind(a.address)))), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
  return {
    lookup,
    refusal(endpoint) {
      let host: string;
      try {
        host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
      } catch {
        return undefined; // not a URL: the request itself fails with a reason
      }
      if (isIP(host) === 0) return undefined;
      const kind = addressKind(host);
      return addressAllowed(kind, policy) ? undefined : refusedBecause([kind]);
    },
  };
}
