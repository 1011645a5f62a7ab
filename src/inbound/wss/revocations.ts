import type { X509Certificate } from 'node:crypto';
import { Certificate, CertificateRevocationList } from 'pkijs';
import { StartupError } from '../../infra/startup-failure.js';

/** A serial number as hex without leading zeros, as X509Certificate.serialNumber gives it. */
const normalSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** One CRL: the trusted CA that signed it and the serial numbers it revokes. */
interface RevocationList {
  readonly issuer: X509Certificate;
  readonly serials: ReadonlySet<string>;
}

/** Reads one DER CRL (pkijs), verifying its signature against the trusted CA that issued it. */
async function readCrl(der: Buffer, anchors: readonly X509Certificate[]): Promise<RevocationList> {
  let crl: CertificateRevocationList;
  try {
    crl = CertificateRevocationList.fromBER(der);
  } catch {
    throw new Error('not a CRL');
  }
  let issuer: X509Certificate | undefined;
  for (const ca of anchors) {
    const signedByCa = await crl.verify({ issuerCertificate: Certificate.fromBER(ca.raw) }).catch(() => false);
    if (signedByCa) {
      issuer = ca;
      break;
    }
  }
  if (!issuer) throw new Error('CRL not signed by a CA in TLS_CA_FILE');
  const serials = new Set(
    (crl.revokedCertificates ?? []).map((entry) =>
      normalSerial(Buffer.from(entry.userCertificate.valueBlock.valueHexView).toString('hex')),
    ),
  );
  return { issuer, serials };
}

/**
 * The certificates the CRLs of TLS_CRL_FILE revoke, for checking signing certificates as the TLS
 * handshake checks client certificates. Read once at start-up, like the TLS layer's copy.
 */
export class Revocations {
  private constructor(private readonly lists: readonly RevocationList[]) {}

  static none(): Revocations {
    return new Revocations([]);
  }

  /** Parses a PEM file of CRLs; a CRL that cannot be read or is not signed by a trusted CA stops the start. */
  static async fromPem(pem: Buffer | undefined, anchors: readonly X509Certificate[]): Promise<Revocations> {
    const blocks = pem?.toString('latin1').match(/-----BEGIN X509 CRL-----[^-]+-----END X509 CRL-----/g) ?? [];
    const lists = blocks.map(async (block) => {
      const der = Buffer.from(block.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
      try {
        return await readCrl(der, anchors);
      } catch (error) {
        throw new StartupError(
          `TLS_CRL_FILE: a CRL cannot be used for signing certificates: ${(error as Error).message}`,
        );
      }
    });
    return new Revocations(await Promise.all(lists));
  }

  /** Whether a CRL of `issuer` revokes `certificate`. */
  isRevoked(certificate: X509Certificate, issuer: X509Certificate): boolean {
    const serial = normalSerial(certificate.serialNumber);
    return this.lists.some((list) => list.issuer.fingerprint256 === issuer.fingerprint256 && list.serials.has(serial));
  }
}
