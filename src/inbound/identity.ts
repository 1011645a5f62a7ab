import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { OIN_PATTERN } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import type { Addressing } from './envelope-rules.js';

/** How the request reached the broker: over mutual TLS with the certificate's OIN, or over plain HTTP (development only). */
export type Peer =
  | { readonly transport: 'mutual-tls'; readonly certificateOin: string | null }
  | { readonly transport: 'plain' };

// A kept-alive connection carries many requests: its certificate is read once.
const certificateOins = new WeakMap<TLSSocket, string | null>();

/**
 * The OIN in a client certificate: its subject's serialNumber (PKIoverheid/Digikoppeling), or null
 * when there is none, more than one, or it is not an OIN.
 */
function certificateOin(socket: TLSSocket): string | null {
  const known = certificateOins.get(socket);
  if (known !== undefined) return known;
  const serialNumber: unknown = socket.getPeerCertificate()?.subject?.serialNumber;
  const oin = typeof serialNumber === 'string' && OIN_PATTERN.test(serialNumber) ? serialNumber : null;
  certificateOins.set(socket, oin);
  return oin;
}

/** The peer of a request. The listener refused senders without a trusted certificate in the handshake already. */
export function peerOf(req: IncomingMessage): Peer {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted) return { transport: 'plain' };
  // Never the case with the listener's rejectUnauthorized; checked so that a change there cannot let anyone in.
  if (!socket.authorized) return { transport: 'mutual-tls', certificateOin: null };
  return { transport: 'mutual-tls', certificateOin: certificateOin(req.socket as TLSSocket) };
}

/**
 * The client certificate's OIN, which must be a known party's (else Client.EK0030). Known from the
 * connection alone: the request path checks it before it reads a byte of the body.
 */
export function knownCertificateOin(
  peer: Extract<Peer, { transport: 'mutual-tls' }>,
  isKnownParty: (oin: string) => boolean,
): string {
  const oin = peer.certificateOin;
  if (oin === null)
    throw new BrokerFault('EK0030', 'the TLS client certificate carries no OIN in its subject serialNumber', 'From');
  if (!isKnownParty(oin)) {
    throw new BrokerFault(
      'EK0030',
      `the TLS client certificate's OIN ${oin} is not a registered institution or the population-register source`,
      'From',
    );
  }
  return oin;
}

/**
 * The OIN the request is authenticated as: the one place it comes from. Over mutual TLS it is the client
 * certificate's OIN, which must be a known party's (else Client.EK0030) and the one wsa:From names (else
 * Client.EK0021). Over plain HTTP (development only) it is the OIN claimed in wsa:From.
 */
export function authenticatedSenderOin(
  addressing: Addressing,
  peer: Peer,
  isKnownParty: (oin: string) => boolean,
): string {
  if (peer.transport === 'plain') return addressing.fromOin;
  const oin = knownCertificateOin(peer, isKnownParty);
  if (addressing.fromOin !== oin) {
    throw new BrokerFault(
      'EK0021',
      `wsa:From names OIN ${addressing.fromOin}, not the OIN of the TLS client certificate (${oin})`,
      'From',
    );
  }
  return oin;
}
