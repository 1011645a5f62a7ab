import { ParseOption, XmlDocument } from 'libxml2-wasm';
import type { TrustAnchors } from '../infra/xml/wss-certificates.js';
import { type RefusalKind, SignatureRefusedError } from '../infra/xml/wss-refusal.js';
import { RECEIPT_TIMESTAMP } from '../infra/xml/wss-timestamp.js';
import { type VerifiedSignature, verifySignedEnvelope } from '../infra/xml/wss-verifier.js';

const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/** Why a receipt's signature is refused, by kind: value-free, as it is logged and stored in the error queue. */
const RECEIPT_REASONS: Readonly<Record<Exclude<RefusalKind, 'unsigned'>, string>> = {
  'no-security': 'no wsse:Security header',
  structure: 'the wsse:Security header or ds:Signature is not as the signing profile requires',
  algorithm: 'an algorithm is not exclusive C14N, RSA-SHA256 or SHA-256',
  'duplicate-id': 'a reference names more than one element',
  reference: 'a reference is not to the Body, the Timestamp or a wsa header by its Id',
  mismatch: 'the signature does not verify (changed after signing, or another key)',
  'token-reference': 'the SecurityTokenReference names no one token',
  token: 'the token holds no readable X.509 v3 certificate',
  untrusted: 'the token is not a valid certificate from a trusted CA',
  'not-rsa': "the token's key is not RSA",
  'timestamp-future': 'wsu:Timestamp is in the future',
  'timestamp-expired': 'wsu:Timestamp has expired',
  timestamp: 'wsu:Timestamp without a readable wsu:Created and wsu:Expires',
};

/** A part that must be signed, under its qualified name. */
const qualified = (part: string): string =>
  part === 'Body' ? 'soap:Body' : part === 'Timestamp' ? 'wsu:Timestamp' : `wsa:${part}`;

/**
 * Verifies a school's signed receipt with the shared verifier (src/infra/xml/wss-verifier.ts): chained
 * to DELIVERY_CA_FILE, the Timestamp at most 300 s old with five minutes of skew. The caller compares
 * the returned OIN with the institution's. Throws SignatureRefusedError with a value-free reason; the
 * caller has parsed the XML once through the broker's gate already (no DTD, limits).
 */
export function verifyEnvelopeSignature(
  xml: string,
  trust: TrustAnchors,
  now: Date,
): Pick<VerifiedSignature, 'certificate' | 'oin'> {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromString(xml, { option: PARSE_OPTIONS });
  } catch {
    throw new SignatureRefusedError('structure', 'not well-formed XML', 'Envelope');
  }
  try {
    // The signed elements die with the document: the signer is all a caller keeps.
    const { certificate, oin } = verifySignedEnvelope(doc.root, {
      certificates: trust,
      timestamp: RECEIPT_TIMESTAMP,
      now,
    });
    return { certificate, oin };
  } catch (error) {
    if (!(error instanceof SignatureRefusedError)) throw error;
    const reason =
      error.kind === 'unsigned' ? `${qualified(error.element)} is not signed` : RECEIPT_REASONS[error.kind];
    throw new SignatureRefusedError(error.kind, reason, error.element);
  } finally {
    doc.dispose();
  }
}
