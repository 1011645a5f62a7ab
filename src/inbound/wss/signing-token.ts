import { X509Certificate } from 'node:crypto';
import { OIN_PATTERN } from '../../shared/catalogue.js';
import { BrokerFault } from '../../shared/errors.js';

/** The CA certificates a signing certificate must chain to (TLS_CA_FILE), parsed once at start-up. */
export function parseTrustAnchors(pem: Buffer | undefined): X509Certificate[] {
  const blocks = pem?.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

const tokenFault = (reason: string): BrokerFault => new BrokerFault('EK0031', reason, 'BinarySecurityToken');

/** Chains longer than this are refused (PKIoverheid: root, domain, organisation CA, leaf). */
const MAX_CHAIN = 5;

function validAt(certificate: X509Certificate, now: Date): boolean {
  return Date.parse(certificate.validFrom) <= now.getTime() && now.getTime() <= Date.parse(certificate.validTo);
}

/** The subject's serialNumber attribute, the OIN (PKIoverheid), when there is exactly one and it is an OIN. */
export function certificateSubjectOin(certificate: X509Certificate): string | null {
  const values = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('serialNumber='))
    .map((line) => line.slice('serialNumber='.length));
  return values.length === 1 && OIN_PATTERN.test(values[0]!) ? values[0]! : null;
}

/**
 * Reads the BinarySecurityToken's certificate and checks it: an RSA end-entity certificate, valid now,
 * that chains (each link's signature and dates checked) to a self-signed CA among `anchors`, with the
 * sender's OIN as its subject's serialNumber. Throws Client.EK0031 naming BinarySecurityToken.
 */
export function checkSigningCertificate(
  base64: string,
  anchors: readonly X509Certificate[],
  senderOin: string,
  now: Date,
): X509Certificate {
  const text = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw tokenFault('the BinarySecurityToken is not base64');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(text, 'base64'));
  } catch {
    throw tokenFault('the BinarySecurityToken holds no X.509 certificate');
  }
  if (certificate.ca) throw tokenFault('the signing certificate is a CA certificate');
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') throw tokenFault('the signing certificate has no RSA key');
  if (anchors.length === 0) throw tokenFault('the broker has no trusted CA to check signing certificates against');
  let current = certificate;
  for (let links = 0; ; links++) {
    if (!validAt(current, now)) {
      throw tokenFault(`certificate '${current.subject.replace(/\n/g, ', ')}' is expired or not yet valid`);
    }
    const issuer = anchors.find((ca) => ca.ca && current.checkIssued(ca) && current.verify(ca.publicKey));
    if (!issuer || links >= MAX_CHAIN) {
      throw tokenFault('the signing certificate does not chain to a trusted CA');
    }
    if (issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey)) {
      if (!validAt(issuer, now)) throw tokenFault('the CA of the signing certificate is expired or not yet valid');
      break;
    }
    current = issuer;
  }
  const oin = certificateSubjectOin(certificate);
  if (oin !== senderOin) {
    throw tokenFault(
      oin === null
        ? 'the signing certificate carries no OIN in its subject serialNumber'
        : `the signing certificate's OIN ${oin} is not the sender's (${senderOin})`,
    );
  }
  return certificate;
}
