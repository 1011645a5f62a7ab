import { createHash, verify, X509Certificate } from 'node:crypto';
import { ParseOption, XmlC14NMode, XmlDocument, XmlElement } from 'libxml2-wasm';
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
      const issuer = this.certificates.find((candidate) => candidate.ca && issuedBy(current, candidate));
      if (!issuer) return false;
      current = issuer;
    }
    return false;
  }
}

/** Whether `issuer` issued and signed `certificate` (a key of another type is a no, not an error). */
function issuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
  } catch {
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

const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;
/** Leeway for the clocks of signer and verifier. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Prefixes of the paths below. */
const PREFIXES: Readonly<Record<string, string>> = {
  s: NS.soap11,
  wsse: NS.wsse,
  wsu: NS.wsu,
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  ec: 'http://www.w3.org/2001/10/xml-exc-c14n#',
};

/**
 * The elements at a path of `prefix:name` steps from `from` (from the document: the first step is the
 * root). A walk over child elements: cheaper than an XPath, which libxml2-wasm compiles per call.
 */
function elementsAt(from: XmlDocument | XmlElement, path: string): XmlElement[] {
  const steps = path.split('/').map((step) => {
    const [prefix, name] = step.split(':') as [string, string];
    return { namespace: PREFIXES[prefix], name };
  });
  const matches = (element: XmlElement, step: (typeof steps)[number]): boolean =>
    element.name === step.name && element.namespaceUri === step.namespace;
  let current: XmlElement[];
  if (from instanceof XmlDocument) {
    current = matches(from.root, steps[0]!) ? [from.root] : [];
    steps.shift();
  } else current = [from];
  for (const step of steps) {
    const next: XmlElement[] = [];
    for (const parent of current)
      for (let child = parent.firstChild; child; child = child.next)
        if (child instanceof XmlElement && matches(child, step)) next.push(child);
    current = next;
  }
  return current;
}

function one(from: XmlDocument | XmlElement, path: string, what: string): XmlElement {
  const found = elementsAt(from, path);
  if (found.length === 0) throw new SignatureRefusedError(`no ${what}`);
  if (found.length > 1) throw new SignatureRefusedError(`more than one ${what}`);
  return found[0]!;
}

/** The child elements of an element, in order. */
function childElements(parent: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let child = parent.firstChild; child; child = child.next) if (child instanceof XmlElement) children.push(child);
  return children;
}

const wsuId = (element: XmlElement): string | undefined =>
  element.attrs.find((a) => a.name === 'Id' && a.namespaceUri === NS.wsu)?.value;

/**
 * Verifies the WS-Security signature of a SOAP envelope the way the broker signs its own: one
 * wsse:Security header holding a wsu:Timestamp that is current, an X.509 BinarySecurityToken whose
 * certificate chains to `trust`, and a ds:Signature (exclusive C14N, RSA-SHA256 or -SHA512, SHA-256 or
 * -512 digests) made with that token's key, whose references cover the soap:Body, the Timestamp and
 * every wsa header. Throws SignatureRefusedError with a value-free reason. The caller has already
 * parsed the XML once through the broker's gate (no DTD, limits).
 *
 * The references are resolved and canonicalised by libxml2 in the received document (the C14N xmlsec
 * uses), not by xml-crypto, whose XPath lookups cost ~17 ms a receipt; test/unit/wss-signature.test.ts
 * holds it to signatures made by xml-crypto and to the wrapping and tampering cases.
 */
export function verifyEnvelopeSignature(xml: string, trust: TrustAnchors, now: Date): VerifiedSignature {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromString(xml, { option: PARSE_OPTIONS });
  } catch {
    throw new SignatureRefusedError('not well-formed XML');
  }
  try {
    const security = one(doc, 's:Envelope/s:Header/wsse:Security', 'wsse:Security header');
    const timestamp = one(security, 'wsu:Timestamp', 'wsu:Timestamp');
    checkTimestamp(timestamp, now);
    const signature = one(security, 'ds:Signature', 'ds:Signature in wsse:Security');
    const certificate = tokenCertificate(security, signature);
    if (!trust.trusts(certificate, now))
      throw new SignatureRefusedError('the token is not a valid certificate from a trusted CA');
    const signed = checkSignature(doc, signature, certificate);
    const body = one(doc, 's:Envelope/s:Body', 'soap:Body');
    const required: [XmlElement, string][] = [
      [body, 'soap:Body'],
      [timestamp, 'wsu:Timestamp'],
      ...[...elementsAt(doc, 's:Envelope/s:Header')]
        .flatMap((header) => childElements(header))
        .filter((header) => header.namespaceUri === NS.wsa)
        .map((header): [XmlElement, string] => [header, `wsa:${header.name}`]),
    ];
    // Every Id a reference names is unique in the document (checkSignature), so the Id is the element.
    for (const [element, name] of required) {
      const id = wsuId(element);
      if (!id || !signed.has(id)) throw new SignatureRefusedError(`${name} is not signed`);
    }
    return { certificate, oin: certificateOin(certificate) };
  } finally {
    doc.dispose();
  }
}

/** The certificate of the BinarySecurityToken the signature's SecurityTokenReference names. */
function tokenCertificate(security: XmlElement, signature: XmlElement): X509Certificate {
  const reference = one(
    signature,
    'ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference',
    'SecurityTokenReference to a token',
  );
  const uri = attribute(reference, 'URI') ?? '';
  const tokens = elementsAt(security, 'wsse:BinarySecurityToken').filter((token) => `#${wsuId(token)}` === uri);
  if (tokens.length !== 1) throw new SignatureRefusedError('the SecurityTokenReference names no one token');
  const token = tokens[0]!;
  if (attribute(token, 'ValueType') !== WSS.x509v3)
    throw new SignatureRefusedError('the token is not an X.509 v3 certificate');
  const base64 = token.content.replace(/\s+/g, '');
  const known = parsedTokens.get(base64);
  if (known) return known;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    throw new SignatureRefusedError('the token holds no readable certificate');
  }
  // A school signs with one certificate for months: parsing it once saves ~0.5 ms a receipt.
  if (parsedTokens.size >= PARSED_TOKENS_KEPT) parsedTokens.delete(parsedTokens.keys().next().value!);
  parsedTokens.set(base64, certificate);
  return certificate;
}

/** Certificates parsed from tokens, by their base64 (oldest first out). */
const parsedTokens = new Map<string, X509Certificate>();
const PARSED_TOKENS_KEPT = 256;

const attribute = (element: XmlElement, name: string): string | undefined =>
  element.attrs.find((a) => a.name === name && !a.namespaceUri)?.value;

const SIGNATURE_HASHES: ReadonlyMap<string, string> = new Map([
  [WSS.rsaSha256, 'sha256'],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'sha512'],
]);
const DIGEST_HASHES: ReadonlyMap<string, string> = new Map([
  [WSS.sha256, 'sha256'],
  ['http://www.w3.org/2001/04/xmlenc#sha512', 'sha512'],
]);
/** An Id a reference may name: an NCName. */
const ID = /^[A-Za-z_][\w.-]*$/;

/** Every element by each Id it carries (`Id`, `ID` or `id`, in any namespace): one XPath for all references. */
function elementsById(doc: XmlDocument): Map<string, XmlElement[]> {
  const byId = new Map<string, XmlElement[]>();
  for (const node of doc.find("//@*[local-name() = 'Id' or local-name() = 'ID' or local-name() = 'id']")) {
    const element = node.parent;
    if (!element) continue;
    const value = node.content;
    byId.set(value, [...(byId.get(value) ?? []), element]);
  }
  return byId;
}

/** The algorithm of an element (CanonicalizationMethod, Transform) that must be exclusive C14N, with its InclusiveNamespaces. */
function exclusiveC14n(element: XmlElement, what: string): string[] {
  if (attribute(element, 'Algorithm') !== WSS.excC14n) throw new SignatureRefusedError(`${what} is not exclusive C14N`);
  const inclusive = elementsAt(element, 'ec:InclusiveNamespaces')[0];
  return (inclusive ? (attribute(inclusive, 'PrefixList') ?? '') : '').split(/\s+/).filter(Boolean);
}

/** Exclusive C14N of one element where it stands in the document (its ancestors' namespaces count). */
function canonical(doc: XmlDocument, element: XmlElement, inclusive: string[]): string {
  return doc.canonicalizeToString({
    mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0,
    nodeSet: new Set([element]),
    ...(inclusive.length > 0 ? { inclusiveNamespacePrefixes: inclusive } : {}),
  });
}

/**
 * Checks every reference's digest and the SignatureValue over the canonical SignedInfo with the token's
 * key; returns the Ids the signature covers. Only what the broker's profile uses is accepted: same-document
 * references by Id (each Id once in the document), one exclusive C14N transform, SHA-256/512, RSA.
 */
function checkSignature(doc: XmlDocument, signature: XmlElement, certificate: X509Certificate): Set<string> {
  const signedInfo = one(signature, 'ds:SignedInfo', 'ds:SignedInfo');
  const inclusive = exclusiveC14n(
    one(signedInfo, 'ds:CanonicalizationMethod', 'ds:CanonicalizationMethod'),
    'the CanonicalizationMethod',
  );
  const hash = SIGNATURE_HASHES.get(
    attribute(one(signedInfo, 'ds:SignatureMethod', 'ds:SignatureMethod'), 'Algorithm') ?? '',
  );
  if (!hash) throw new SignatureRefusedError('the signature algorithm is not RSA-SHA256');
  const references = elementsAt(signedInfo, 'ds:Reference');
  if (references.length === 0) throw new SignatureRefusedError('the signature has no references');
  const signed = new Set<string>();
  const byId = elementsById(doc);
  for (const reference of references) {
    const id = /^#(.*)$/.exec(attribute(reference, 'URI') ?? '')?.[1] ?? '';
    if (!ID.test(id)) throw new SignatureRefusedError('a reference is not to an element by its Id');
    const targets = byId.get(id) ?? [];
    // Two elements with one Id would let a signed one stand in for another (signature wrapping).
    if (targets.length !== 1)
      throw new SignatureRefusedError(`a reference names ${targets.length === 0 ? 'no' : 'more than one'} element`);
    const transforms = elementsAt(reference, 'ds:Transforms/ds:Transform');
    if (transforms.length !== 1)
      throw new SignatureRefusedError('a reference has other transforms than exclusive C14N');
    const referenceInclusive = exclusiveC14n(transforms[0]!, 'a reference transform');
    const digest = DIGEST_HASHES.get(
      attribute(one(reference, 'ds:DigestMethod', 'ds:DigestMethod'), 'Algorithm') ?? '',
    );
    if (!digest) throw new SignatureRefusedError('a digest algorithm is not SHA-256');
    const expected = Buffer.from(one(reference, 'ds:DigestValue', 'ds:DigestValue').content.trim(), 'base64');
    const actual = createHash(digest)
      .update(canonical(doc, targets[0]!, referenceInclusive), 'utf8')
      .digest();
    if (!actual.equals(expected)) throw new SignatureRefusedError(SIGNATURE_MISMATCH);
    signed.add(id);
  }
  // The algorithm says RSA: a signature by a key of another type must not pass under its name.
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') throw new SignatureRefusedError("the token's key is not RSA");
  const value = Buffer.from(
    one(signature, 'ds:SignatureValue', 'ds:SignatureValue').content.replace(/\s+/g, ''),
    'base64',
  );
  const data = Buffer.from(canonical(doc, signedInfo, inclusive), 'utf8');
  if (!verify(hash, data, certificate.publicKey, value)) throw new SignatureRefusedError(SIGNATURE_MISMATCH);
  return signed;
}

const SIGNATURE_MISMATCH = 'the signature does not verify (changed after signing, or another key)';

function checkTimestamp(timestamp: XmlElement, now: Date): void {
  const time = (name: string): number => {
    const element = elementsAt(timestamp, `wsu:${name}`)[0];
    const value = element ? Date.parse(element.content.trim()) : Number.NaN;
    if (Number.isNaN(value)) throw new SignatureRefusedError(`wsu:Timestamp without a readable wsu:${name}`);
    return value;
  };
  if (time('Created') > now.getTime() + CLOCK_SKEW_MS)
    throw new SignatureRefusedError('wsu:Timestamp is in the future');
  if (time('Expires') < now.getTime() - CLOCK_SKEW_MS) throw new SignatureRefusedError('wsu:Timestamp has expired');
}
