import { X509Certificate } from 'node:crypto';
import { ParseOption, XmlDocument, type XmlElement } from 'libxml2-wasm';
import { SignedXml } from 'xml-crypto';
import { NS, OIN_PATTERN } from '../catalogue.js';
import { WSS } from './wss-names.js';

/** Why a signature is not accepted: a value-free reason (it is logged and stored). */
export class SignatureRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SignatureRefusedError';
  }
}

/** The certificates a signer's token must chain to (a PEM bundle: roots and intermediates). */
export class TrustAnchors {
  private readonly certificates: readonly X509Certificate[];

  constructor(pemBundle: Buffer) {
    const pems = pemBundle.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    this.certificates = pems.map((pem) => new X509Certificate(pem));
  }

  /** Whether `leaf` chains to a certificate in the bundle, every link valid at `at`. */
  trusts(leaf: X509Certificate, at: Date): boolean {
    let current = leaf;
    for (let depth = 0; depth < 8; depth++) {
      if (!validAt(current, at)) return false;
      if (this.certificates.some((anchor) => anchor.raw.equals(current.raw))) return true;
      const issuer = this.certificates.find(
        (candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey) && candidate.ca,
      );
      if (!issuer) return false;
      current = issuer;
    }
    return false;
  }
}

const validAt = (certificate: X509Certificate, at: Date): boolean =>
  new Date(certificate.validFrom) <= at && at <= new Date(certificate.validTo);

/** The OIN in a certificate: its subject's one serialNumber, when that is an OIN (PKIoverheid). */
export function certificateOin(certificate: X509Certificate): string | null {
  const values = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('serialNumber='))
    .map((line) => line.slice('serialNumber='.length));
  return values.length === 1 && OIN_PATTERN.test(values[0]!) ? values[0]! : null;
}

/** A signature that verified: who signed (the token's certificate and OIN). */
export interface VerifiedSignature {
  readonly certificate: X509Certificate;
  readonly oin: string | null;
}

const NAMESPACES = { s: NS.soap11, wsse: NS.wsse, wsu: NS.wsu, ds: 'http://www.w3.org/2000/09/xmldsig#' };
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;
/** RSA-SHA256 (what Digikoppeling asks) or stronger; never SHA-1. */
const STRONG_ENOUGH: ReadonlySet<string> = new Set([
  WSS.rsaSha256,
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
/** Leeway for the clocks of signer and verifier. */
const CLOCK_SKEW_MS = 5 * 60_000;

function one(doc: XmlDocument | XmlElement, xpath: string, what: string): XmlElement {
  const found = doc.find(xpath, NAMESPACES);
  if (found.length === 0) throw new SignatureRefusedError(`no ${what}`);
  if (found.length > 1) throw new SignatureRefusedError(`more than one ${what}`);
  return found[0] as XmlElement;
}

const wsuId = (element: XmlElement): string | undefined =>
  element.attrs.find((a) => a.name === 'Id' && a.namespaceUri === NS.wsu)?.value;

/**
 * Verifies the WS-Security signature of a SOAP envelope the way the broker signs its own: one
 * wsse:Security header holding a wsu:Timestamp that is current, an X.509 BinarySecurityToken whose
 * certificate chains to `trust`, and a ds:Signature (checked by xml-crypto, RSA-SHA256 or stronger) made
 * with that token's key, whose references cover the soap:Body, the Timestamp and every wsa header.
 * Throws SignatureRefusedError with a value-free reason. The caller has already parsed the XML once
 * through the broker's gate (no DTD, limits).
 */
export function verifyEnvelopeSignature(xml: string, trust: TrustAnchors, now: Date): VerifiedSignature {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromString(xml, { option: PARSE_OPTIONS });
  } catch {
    throw new SignatureRefusedError('not well-formed XML');
  }
  try {
    const security = one(doc, '/s:Envelope/s:Header/wsse:Security', 'wsse:Security header');
    const timestamp = one(security, 'wsu:Timestamp', 'wsu:Timestamp');
    checkTimestamp(timestamp, now);
    const signature = one(security, 'ds:Signature', 'ds:Signature in wsse:Security');
    const reference = one(
      signature,
      'ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference',
      'SecurityTokenReference to a token',
    );
    const uri = reference.attrs.find((a) => a.name === 'URI')?.value ?? '';
    const tokens = security
      .find('wsse:BinarySecurityToken', NAMESPACES)
      .filter((token) => `#${wsuId(token as XmlElement)}` === uri) as XmlElement[];
    if (tokens.length !== 1) throw new SignatureRefusedError('the SecurityTokenReference names no one token');
    const token = tokens[0]!;
    if (token.attrs.find((a) => a.name === 'ValueType')?.value !== WSS.x509v3)
      throw new SignatureRefusedError('the token is not an X.509 v3 certificate');
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(token.content.replace(/\s+/g, ''), 'base64'));
    } catch {
      throw new SignatureRefusedError('the token holds no readable certificate');
    }
    if (!trust.trusts(certificate, now))
      throw new SignatureRefusedError('the token is not a valid certificate from a trusted CA');

    const checker = new SignedXml({
      publicCert: certificate.toString(),
      idMode: 'wssecurity',
      // The key is the token's, never a certificate the message carries elsewhere in its KeyInfo.
      getCertFromKeyInfo: () => null,
    });
    // wsu:Id only: xml-crypto looks each reference up once per Id spelling (an XPath over the whole envelope).
    checker.idAttributes = ['Id'];
    checker.loadSignature(signature.toString({ format: false }));
    if (!STRONG_ENOUGH.has(checker.signatureAlgorithm ?? ''))
      throw new SignatureRefusedError('the signature algorithm is not RSA-SHA256');
    let valid = false;
    try {
      valid = checker.checkSignature(xml);
    } catch {
      valid = false;
    }
    if (!valid)
      throw new SignatureRefusedError('the signature does not verify (changed after signing, or another key)');
    const signed = new Set(checker.getReferences().map((ref) => ref.uri?.replace(/^#/, '')));
    const body = one(doc, '/s:Envelope/s:Body', 'soap:Body');
    const required: [XmlElement, string][] = [
      [body, 'soap:Body'],
      [timestamp, 'wsu:Timestamp'],
      ...(doc.find('/s:Envelope/s:Header/*', NAMESPACES) as XmlElement[])
        .filter((header) => header.namespaceUri === NS.wsa)
        .map((header): [XmlElement, string] => [header, `wsa:${header.name}`]),
    ];
    for (const [element, name] of required) {
      const id = wsuId(element);
      if (!id || !signed.has(id)) throw new SignatureRefusedError(`${name} is not signed`);
    }
    return { certificate, oin: certificateOin(certificate) };
  } finally {
    doc.dispose();
  }
}

function checkTimestamp(timestamp: XmlElement, now: Date): void {
  const time = (name: string): number => {
    const element = timestamp.find(`wsu:${name}`, NAMESPACES)[0];
    const value = element ? Date.parse(element.content.trim()) : Number.NaN;
    if (Number.isNaN(value)) throw new SignatureRefusedError(`wsu:Timestamp without a readable wsu:${name}`);
    return value;
  };
  if (time('Created') > now.getTime() + CLOCK_SKEW_MS)
    throw new SignatureRefusedError('wsu:Timestamp is in the future');
  if (time('Expires') < now.getTime() - CLOCK_SKEW_MS) throw new SignatureRefusedError('wsu:Timestamp has expired');
}
