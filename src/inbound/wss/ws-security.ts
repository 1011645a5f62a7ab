import { createHash } from 'node:crypto';
import { NS } from '../../infra/catalogue.js';
import { BrokerFault } from '../../infra/errors.js';
import type { SoapEnvelope } from '../../infra/xml/soap-envelope.js';
import type { SigningCertificates } from '../../infra/xml/wss-certificates.js';
import { SignatureRefusedError } from '../../infra/xml/wss-refusal.js';
import { REQUEST_TIMESTAMP } from '../../infra/xml/wss-timestamp.js';
import { verifySignedEnvelope } from '../../infra/xml/wss-verifier.js';

/** What the broker requires of a request's WS-Security, and what it checks it against. */
export interface WsSecurityPolicy {
  /** Whether this sender must sign (its institution's wss_required, else WSS_REQUIRED). */
  readonly required: boolean;
  /** Signing certificates checked against the trusted CAs (TLS_CA_FILE); without CAs no signature verifies. */
  readonly certificates: SigningCertificates;
  readonly now: Date;
}

/** An unsigned request (allowed when not required), or a verified one with its replay key: sha256 (base64) of the signature's bytes. */
export type WsSecurityOutcome =
  | { readonly signed: false }
  | { readonly signed: true; readonly signatureDigest: string };

/**
 * Verifies a request's wsse:Security with the shared verifier (src/infra/xml/wss-verifier.ts): the
 * token must carry the sender's OIN, the Timestamp be at most 300 s old with 60 s of skew. Every
 * refusal is Client.EK0031 naming the element.
 */
export function verifyWsSecurity(
  envelope: SoapEnvelope,
  senderOin: string,
  policy: WsSecurityPolicy,
): WsSecurityOutcome {
  // The header blocks as outlined (plain JS): an unsigned request never walks libxml2's tree here.
  if (!envelope.headers.some((block) => block.namespace === NS.wsse && block.localName === 'Security')) {
    if (policy.required)
      throw new BrokerFault('EK0031', 'this sender must sign its requests: wsse:Security header missing', 'Security');
    return { signed: false };
  }
  try {
    const { signatureValue } = verifySignedEnvelope(envelope.bodyElement.parent!.parent!, {
      certificates: policy.certificates,
      signerOin: senderOin,
      timestamp: REQUEST_TIMESTAMP,
      now: policy.now,
    });
    // Of the bytes, not the base64 text: unused bits and line breaks could spell the same signature anew.
    return { signed: true, signatureDigest: createHash('sha256').update(signatureValue).digest('base64') };
  } catch (error) {
    if (error instanceof SignatureRefusedError) throw new BrokerFault('EK0031', error.message, error.element);
    throw error;
  }
}
