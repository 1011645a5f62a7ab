import { verify, type X509Certificate } from 'node:crypto';
import { StartupError } from '../../infra/startup-failure.js';

/** One DER element: its tag, where its content starts and ends. */
interface Der {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
  /** Where the element itself starts (its tag byte). */
  readonly at: number;
}

function readDer(bytes: Buffer, at: number): Der {
  const tag = bytes[at]!;
  let length = bytes[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[start + i]!;
    start += octets;
  }
  if (start + length > bytes.length) throw new Error('DER element runs past its end');
  return { tag, start, end: start + length, at };
}

function childrenOf(bytes: Buffer, parent: Der): Der[] {
  const children: Der[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readDer(bytes, at);
    children.push(child);
    at = child.end;
  }
  return children;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;
const TIMES = new Set([0x17, 0x18]);

/** The hash of the CRL signature algorithms a CA uses (RSA PKCS#1 v1.5 and ECDSA, SHA-2). */
const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '2a864886f70d01010b': 'sha256',
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040302': 'sha256',
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
};

/** A serial number as hex without leading zeros, as DER and X509Certificate.serialNumber both reduce to. */
const normalSerial = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** One CRL: whose it is and the serial numbers it revokes. */
interface RevocationList {
  readonly issuer: X509Certificate;
  readonly serials: ReadonlySet<string>;
}

/** Reads one DER CRL, verifying its signature against the trusted CA that issued it. */
function readCrl(der: Buffer, anchors: readonly X509Certificate[]): RevocationList {
  const [tbs, algorithm, signature] = childrenOf(der, readDer(der, 0));
  if (!tbs || !algorithm || !signature || tbs.tag !== SEQUENCE) throw new Error('not a CRL');
  const oid = childrenOf(der, algorithm).find((part) => part.tag === OID);
  const hash = oid && SIGNATURE_HASHES[der.subarray(oid.start, oid.end).toString('hex')];
  if (!hash) throw new Error('CRL signed with an algorithm other than RSA or ECDSA with SHA-2');
  const signed = der.subarray(tbs.at, tbs.end);
  const value = der.subarray(signature.start + 1, signature.end); // a BIT STRING: its first byte counts unused bits
  const issuer = anchors.find((ca) => verify(hash, signed, ca.publicKey, value));
  if (!issuer) throw new Error('CRL not signed by a CA in TLS_CA_FILE');
  const parts = childrenOf(der, tbs);
  // version (optional), signature, issuer, thisUpdate, nextUpdate (optional), revokedCertificates (optional)…
  let next = parts[0]?.tag === INTEGER ? 4 : 3;
  if (parts[next] && TIMES.has(parts[next]!.tag)) next += 1;
  const revoked = parts[next]?.tag === SEQUENCE ? childrenOf(der, parts[next]!) : [];
  const serials = new Set(
    revoked.map((entry) => {
      const serial = childrenOf(der, entry)[0]!;
      return normalSerial(der.subarray(serial.start, serial.end).toString('hex'));
    }),
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
  static fromPem(pem: Buffer | undefined, anchors: readonly X509Certificate[]): Revocations {
    const blocks = pem?.toString('latin1').match(/-----BEGIN X509 CRL-----[^-]+-----END X509 CRL-----/g) ?? [];
    return new Revocations(
      blocks.map((block) => {
        const der = Buffer.from(block.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
        try {
          return readCrl(der, anchors);
        } catch (error) {
          throw new StartupError(
            `TLS_CRL_FILE: a CRL cannot be used for signing certificates: ${(error as Error).message}`,
          );
        }
      }),
    );
  }

  /** Whether a CRL of `issuer` revokes `certificate`. */
  isRevoked(certificate: X509Certificate, issuer: X509Certificate): boolean {
    const serial = normalSerial(certificate.serialNumber);
    return this.lists.some((list) => list.issuer.fingerprint256 === issuer.fingerprint256 && list.serials.has(serial));
  }
}
