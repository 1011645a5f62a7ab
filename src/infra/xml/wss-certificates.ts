import { type KeyObject, X509Certificate } from 'node:crypto';
import { OIN_PATTERN } from '../catalogue.js';
import { SignatureRefusedError } from './wss-refusal.js';

/** A certificate revocation check (the CRLs of TLS_CRL_FILE); without one nothing is revoked. */
export interface RevocationCheck {
  isRevoked(certificate: X509Certificate, issuer: X509Certificate): boolean;
}

const NO_REVOCATIONS: RevocationCheck = { isRevoked: () => false };

/** The CA certificates a signing certificate must chain to (a PEM bundle), parsed once at start-up. */
export function parseTrustAnchors(pem: Buffer | undefined): X509Certificate[] {
  const blocks = pem?.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

const tokenFault = (reason: string, kind: 'token' | 'untrusted' | 'not-rsa' = 'token'): SignatureRefusedError =>
  new SignatureRefusedError(kind, reason, 'BinarySecurityToken');

/** The shortest RSA key accepted for signing. */
const MIN_RSA_BITS = 2048;

/** Chains longer than this are refused (PKIoverheid: root, domain, organisation CA, leaf). */
const MAX_CHAIN = 5;

/** The subject's serialNumber attribute, the OIN (PKIoverheid), when there is exactly one and it is an OIN. */
export function certificateOin(certificate: X509Certificate): string | null {
  const values = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('serialNumber='))
    .map((line) => line.slice('serialNumber='.length));
  return values.length === 1 && OIN_PATTERN.test(values[0]!) ? values[0]! : null;
}

/** A signing certificate that passed the checks below, and until when the result holds. */
export interface CheckedCertificate {
  readonly certificate: X509Certificate;
  readonly publicKey: KeyObject;
  readonly oin: string | null;
  /** The latest notBefore and the earliest notAfter along its chain. */
  readonly validFrom: number;
  readonly validTo: number;
}

/** Checked certificates kept at most, by token text: a LAS signs every request with the same one. */
const CACHE_SIZE = 1000;

/**
 * The signing certificates of BinarySecurityTokens, checked against trusted CAs (requests: TLS_CA_FILE
 * and the CRLs of TLS_CRL_FILE; receipts: DELIVERY_CA_FILE). A chain is verified once per certificate
 * (parsing and verifying it cost ~1 ms); the dates and the OIN are checked on every message.
 */
export class SigningCertificates {
  private readonly checked = new Map<string, CheckedCertificate>();

  constructor(
    private readonly anchors: readonly X509Certificate[],
    private readonly revocations: RevocationCheck = NO_REVOCATIONS,
  ) {}

  /**
   * The token's certificate: an RSA end-entity certificate, valid now, that chains (each link's
   * signature and dates checked) to a self-signed CA among the anchors, with `expectedOin` (when given)
   * as its subject's serialNumber. Throws SignatureRefusedError naming BinarySecurityToken.
   */
  check(base64: string, expectedOin: string | undefined, now: Date): CheckedCertificate {
    const text = base64.replace(/\s+/g, '');
    let entry = this.checked.get(text);
    if (!entry) {
      entry = this.checkChain(text);
      if (this.checked.size >= CACHE_SIZE) this.checked.clear();
      this.checked.set(text, entry);
    }
    if (now.getTime() < entry.validFrom || now.getTime() > entry.validTo)
      throw tokenFault('the signing certificate or a CA of its chain is expired or not yet valid', 'untrusted');
    if (expectedOin !== undefined && entry.oin !== expectedOin) {
      throw tokenFault(
        entry.oin === null
          ? 'the signing certificate carries no OIN in its subject serialNumber'
          : `the signing certificate's OIN ${entry.oin} is not the sender's (${expectedOin})`,
      );
    }
    return entry;
  }

  private checkChain(text: string): CheckedCertificate {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw tokenFault('the BinarySecurityToken is not base64');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(text, 'base64'));
    } catch {
      throw tokenFault('the BinarySecurityToken holds no X.509 certificate');
    }
    // The signature method says RSA: a key of another type must not pass under its name.
    if (certificate.publicKey.asymmetricKeyType !== 'rsa')
      throw tokenFault('the signing certificate has no RSA key', 'not-rsa');
    if (certificate.ca) throw tokenFault('the signing certificate is a CA certificate', 'untrusted');
    // PKIoverheid issues 2048 bits and more; a shorter key can be factored.
    if ((certificate.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
      throw tokenFault(`the signing certificate's RSA key is shorter than ${MIN_RSA_BITS} bits`);
    if (this.anchors.length === 0)
      throw tokenFault('the broker has no trusted CA to check signing certificates against', 'untrusted');
    let validFrom = Date.parse(certificate.validFrom);
    let validTo = Date.parse(certificate.validTo);
    let current = certificate;
    for (let links = 0; ; links++) {
      const issuer = this.anchors.find((ca) => ca.ca && current.checkIssued(ca) && current.verify(ca.publicKey));
      if (!issuer || links >= MAX_CHAIN)
        throw tokenFault('the signing certificate does not chain to a trusted CA', 'untrusted');
      if (this.revocations.isRevoked(current, issuer))
        throw tokenFault(
          `certificate serial ${current.serialNumber} of the signing chain is revoked (TLS_CRL_FILE)`,
          'untrusted',
        );
      validFrom = Math.max(validFrom, Date.parse(issuer.validFrom));
      validTo = Math.min(validTo, Date.parse(issuer.validTo));
      if (issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey)) break;
      current = issuer;
    }
    return { certificate, publicKey: certificate.publicKey, oin: certificateOin(certificate), validFrom, validTo };
  }
}

/** The CAs a school's receipt signing certificate must chain to (DELIVERY_CA_FILE, a PEM bundle). */
export class TrustAnchors extends SigningCertificates {
  constructor(pemBundle: Buffer) {
    super(parseTrustAnchors(pemBundle));
  }
}
