import { NS } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import { type OutlinedHeaderBlock, qualifiedName } from '../infra/xml/soap-envelope.js';
import { oinFromAddress } from './envelope-rules.js';
import { knownCertificateOin, type Peer } from './identity.js';

const WSA_ADDRESS = qualifiedName(NS.wsa, 'Address');

/** Gives back a sender's slot; safe to call more than once. */
export type Release = () => void;

/** A sender's place among its requests in flight, and what became of the request it holds. */
export interface SenderSlot {
  /** The OIN whose place it is. */
  readonly oin: string;
  /** Whether its last DISTRUST_AFTER requests all got Client faults: it gets no place for a large body. */
  readonly distrusted: boolean;
  readonly release: Release;
  /** The request was accepted (a receipt): the sender's record is clean again. */
  accepted(): void;
  /** The request got a Client fault: the sender's fault of another one in a row. */
  refused(): void;
}

/** Client faults in a row after which a sender gets one request in flight at a time, until one is accepted. */
export const DISTRUST_AFTER = 10;

/**
 * Work in proportion to trust: the sender is checked before its message costs anything, and each
 * sender OIN gets at most `maxInFlight` requests in flight in this HTTP process (more: a quick
 * Server.BB0006, nothing read further); a sender whose last DISTRUST_AFTER requests all got Client
 * faults gets one at a time, and no body over the bulk lane's threshold, until one of its messages is accepted. Over mutual TLS the sender is known from the connection, before
 * the body is read; over plain HTTP (development) from the wsa:From the gate outlines as soon as
 * soap:Header has been scanned, before the body is.
 */
export class SenderGate {
  private readonly inFlight = new Map<string, number>();
  /** Client faults in a row per known OIN (so bounded by the registry). */
  private readonly faultsInARow = new Map<string, number>();

  constructor(
    private readonly isKnownParty: (oin: string) => boolean,
    private readonly maxInFlight: number,
  ) {}

  /** Mutual TLS: the certificate's OIN must be a known party's (else Client.EK0030); takes its slot. */
  admitCertificate(peer: Extract<Peer, { transport: 'mutual-tls' }>): SenderSlot {
    return this.admit(knownCertificateOin(peer, this.isKnownParty));
  }

  /**
   * Plain HTTP: the OIN wsa:From claims must be a known party's (else Client.DK0002, as authorisation
   * would answer after the body); takes its slot. Without a readable wsa:From OIN nothing is decided
   * here: the envelope rules refuse that request with their own fault.
   */
  admitClaimed(headers: readonly OutlinedHeaderBlock[]): SenderSlot | undefined {
    const from = headers.filter((block) => block.namespace === NS.wsa && block.localName === 'From');
    if (from.length !== 1) return undefined;
    const oin = oinFromAddress(from[0]!.children.get(WSA_ADDRESS) ?? '');
    if (oin === null) return undefined;
    if (!this.isKnownParty(oin))
      throw new BrokerFault('DK0002', `OIN ${oin} is not registered as an enabled institution`, 'From');
    return this.admit(oin);
  }

  /** Requests of `oin` in flight now (for tests and metrics). */
  inFlightOf(oin: string): number {
    return this.inFlight.get(oin) ?? 0;
  }

  private admit(oin: string): SenderSlot {
    const count = this.inFlight.get(oin) ?? 0;
    const distrusted = (this.faultsInARow.get(oin) ?? 0) >= DISTRUST_AFTER;
    const cap = distrusted ? 1 : this.maxInFlight;
    if (count >= cap) {
      throw new BrokerFault(
        'BB0006',
        distrusted
          ? `OIN ${oin} had its last ${DISTRUST_AFTER} or more messages refused, and has one request in flight here, as many as it gets until one is accepted; nothing was stored, send again in a moment`
          : `OIN ${oin} already has ${cap} requests in flight here; nothing was stored, send again in a moment`,
        'From',
      );
    }
    this.inFlight.set(oin, count + 1);
    let released = false;
    return {
      oin,
      distrusted,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(oin) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(oin);
        else this.inFlight.set(oin, left);
      },
      accepted: () => this.faultsInARow.delete(oin),
      refused: () => this.faultsInARow.set(oin, (this.faultsInARow.get(oin) ?? 0) + 1),
    };
  }
}
