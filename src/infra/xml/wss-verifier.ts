import { createHash, verify, type X509Certificate } from 'node:crypto';
import { XmlC14NMode, XmlElement } from 'libxml2-wasm';
import { NS } from '../catalogue.js';
import type { SigningCertificates } from './wss-certificates.js';
import { WSS } from './wss-names.js';
import { type RefusalKind, SignatureRefusedError } from './wss-refusal.js';
import { checkTimestamp, type TimestampRules } from './wss-timestamp.js';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
/** Attribute local names a Reference URI may resolve by (wsu:Id among them): each value names one element. */
const ID_ATTRIBUTES = new Set(['Id', 'ID', 'id']);

/** What a signed envelope is checked against, and how fresh it must be. */
export interface SignaturePolicy {
  /** The trusted CAs (and CRLs) the token's certificate must chain to; checked chains are cached there. */
  readonly certificates: SigningCertificates;
  /** The OIN the token's certificate must carry; absent: the caller compares the returned OIN itself. */
  readonly signerOin?: string;
  readonly timestamp: TimestampRules;
  readonly now: Date;
}

/** A signature that verified: who signed, the elements it covers, and the signature value's bytes. */
export interface VerifiedSignature {
  readonly certificate: X509Certificate;
  readonly oin: string | null;
  /** The signed elements of the envelope (Body, Timestamp, wsa headers, maybe the token), as referenced. */
  readonly signedElements: readonly XmlElement[];
  readonly signatureValue: Buffer;
}

const fault = (kind: RefusalKind, reason: string, element: string): SignatureRefusedError =>
  new SignatureRefusedError(kind, reason, element);

/** A child element with its name read once (each read of a libxml2-wasm node property crosses into wasm). */
interface Child {
  readonly element: XmlElement;
  readonly namespace: string;
  readonly name: string;
}

function childrenOf(parent: XmlElement): Child[] {
  const children: Child[] = [];
  for (let node = parent.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) children.push({ element: node, namespace: node.namespaceUri, name: node.name });
  }
  return children;
}

const is = (child: Child | undefined, namespace: string, localName: string): child is Child =>
  child !== undefined && child.namespace === namespace && child.name === localName;

/** The one child with this name; none or several is refused naming it. */
function onlyChild(children: readonly Child[], namespace: string, localName: string, what: string): XmlElement {
  const found = children.filter((child) => is(child, namespace, localName));
  if (found.length !== 1)
    throw fault('structure', `${what} must hold exactly one ${localName}, found ${found.length}`, localName);
  return found[0]!.element;
}

const attribute = (element: XmlElement, localName: string, namespace = ''): string | undefined =>
  element.attrs.find((a) => a.name === localName && a.namespaceUri === namespace)?.value;

/** Elements with an id attribute, found by libxml2's XPath (walking the tree from JS costs a wasm call per node). */
const WITH_ID = "//*[@*[local-name()='Id' or local-name()='ID' or local-name()='id']]";

/** Every element carrying an id attribute, by id; an id on two elements is refused (signature wrapping). */
function elementsById(root: XmlElement): Map<string, XmlElement> {
  const byId = new Map<string, XmlElement>();
  for (const element of root.find(WITH_ID)) {
    if (!(element instanceof XmlElement)) continue;
    for (const a of element.attrs) {
      if (!ID_ATTRIBUTES.has(a.name)) continue;
      const other = byId.get(a.value);
      if (other && !other.isSameNode(element))
        throw fault('duplicate-id', `id '${a.value.slice(0, 80)}' occurs more than once`, a.name);
      byId.set(a.value, element);
    }
  }
  return byId;
}

/** How many ds:Signature and ds:SignedInfo elements the whole document holds. */
const signatureElements = (root: XmlElement): number =>
  root.find('//ds:Signature | //ds:SignedInfo', { ds: DS }).length;

/** SHA-1 anywhere in the signature is refused by name; anything else but the one allowed algorithm too. */
function requireAlgorithm(actual: string | undefined, allowed: string, element: string): void {
  if (actual === allowed) return;
  if (actual && /sha1$/i.test(actual)) throw fault('algorithm', `SHA-1 refused (${element} ${actual})`, element);
  throw fault('algorithm', `${element} must be ${allowed}, not ${actual ?? 'missing'}`, element);
}

/** A ds:Reference as signed: its same-document URI, digest, and the exclusive C14N transform's prefixes. */
interface SignedReference {
  readonly uri: string;
  readonly digestValue: Buffer;
  readonly inclusivePrefixes: string[];
}

/** ds:SignedInfo read from libxml2's tree; its canonical form is what the signature value covers. */
interface SignedInfo {
  readonly element: XmlElement;
  readonly inclusivePrefixes: string[];
  readonly references: SignedReference[];
}

/**
 * Exclusive C14N and RSA-SHA256 for SignedInfo; per Reference exactly one transform, exclusive C14N, and
 * a SHA-256 digest. Nothing else is allowed in SignedInfo (no HMAC output length, no other transforms).
 */
function readSignedInfo(signedInfo: XmlElement): SignedInfo {
  const [method, signatureMethod, ...references] = childrenOf(signedInfo);
  if (!is(method, DS, 'CanonicalizationMethod'))
    throw fault('structure', 'ds:SignedInfo must start with ds:CanonicalizationMethod', 'CanonicalizationMethod');
  requireAlgorithm(attribute(method.element, 'Algorithm'), WSS.excC14n, 'CanonicalizationMethod');
  if (!is(signatureMethod, DS, 'SignatureMethod') || childrenOf(signatureMethod.element).length > 0)
    throw fault('structure', 'ds:SignatureMethod must follow ds:CanonicalizationMethod, empty', 'SignatureMethod');
  requireAlgorithm(attribute(signatureMethod.element, 'Algorithm'), WSS.rsaSha256, 'SignatureMethod');
  if (references.length === 0) throw fault('structure', 'ds:SignedInfo holds no ds:Reference', 'Reference');
  return {
    element: signedInfo,
    inclusivePrefixes: inclusivePrefixes(method.element),
    references: references.map((reference) => {
      const { name } = reference;
      if (!is(reference, DS, 'Reference')) throw fault('structure', `ds:SignedInfo holds ${name}`, name);
      const [transforms, digestMethod, digestValue, ...rest] = childrenOf(reference.element);
      const transform = is(transforms, DS, 'Transforms') ? childrenOf(transforms.element) : [];
      if (transform.length !== 1 || !is(transform[0], DS, 'Transform'))
        throw fault('algorithm', 'each Reference must have exactly one Transform, exclusive C14N', 'Transform');
      requireAlgorithm(attribute(transform[0].element, 'Algorithm'), WSS.excC14n, 'Transform');
      if (!is(digestMethod, DS, 'DigestMethod'))
        throw fault('structure', 'ds:Reference must hold ds:DigestMethod after ds:Transforms', 'DigestMethod');
      requireAlgorithm(attribute(digestMethod.element, 'Algorithm'), WSS.sha256, 'DigestMethod');
      if (!is(digestValue, DS, 'DigestValue') || rest.length > 0)
        throw fault('structure', 'ds:Reference must end with one ds:DigestValue', 'DigestValue');
      return {
        uri: attribute(reference.element, 'URI') ?? '',
        digestValue: Buffer.from(digestValue.element.content.replace(/\s+/g, ''), 'base64'),
        inclusivePrefixes: inclusivePrefixes(transform[0].element),
      };
    }),
  };
}

/** The parts of the wsse:Security header the verifier reads. */
interface SecurityHeader {
  readonly timestamp: XmlElement;
  readonly token: XmlElement;
  readonly signature: XmlElement;
  readonly signatureParts: readonly Child[];
}

function readSecurityHeader(security: XmlElement): SecurityHeader {
  const children = childrenOf(security);
  for (const child of children) {
    const { name } = child;
    const known =
      is(child, NS.wsu, 'Timestamp') || is(child, NS.wsse, 'BinarySecurityToken') || is(child, DS, 'Signature');
    if (!known) throw fault('structure', `wsse:Security holds ${name}, which this broker does not process`, name);
  }
  const signature = onlyChild(children, DS, 'Signature', 'wsse:Security');
  return {
    timestamp: onlyChild(children, NS.wsu, 'Timestamp', 'wsse:Security'),
    token: onlyChild(children, NS.wsse, 'BinarySecurityToken', 'wsse:Security'),
    signature,
    signatureParts: childrenOf(signature),
  };
}

/** The token must be an X.509v3 certificate in base64, and the signature's KeyInfo must point at it. */
function tokenText(header: SecurityHeader): string {
  const { token, signatureParts } = header;
  if (attribute(token, 'ValueType') !== WSS.x509v3)
    throw fault('token', 'BinarySecurityToken must be X509v3', 'BinarySecurityToken');
  const encoding = attribute(token, 'EncodingType');
  if (encoding !== undefined && encoding !== WSS.base64Binary)
    throw fault('token', 'BinarySecurityToken must be Base64Binary', 'BinarySecurityToken');
  const tokenId = attribute(token, 'Id', NS.wsu);
  const keyInfo = onlyChild(signatureParts, DS, 'KeyInfo', 'ds:Signature');
  const tokenReference = onlyChild(childrenOf(keyInfo), NS.wsse, 'SecurityTokenReference', 'ds:KeyInfo');
  const reference = onlyChild(childrenOf(tokenReference), NS.wsse, 'Reference', 'wsse:SecurityTokenReference');
  if (!tokenId || attribute(reference, 'URI') !== `#${tokenId}`)
    throw fault('token-reference', "ds:KeyInfo must refer to the message's BinarySecurityToken", 'KeyInfo');
  return token.content;
}

/** An element a signature may cover, under the name a refusal gives it. */
interface Signable {
  readonly element: XmlElement;
  readonly name: string;
  /** Whether the signature must cover it (the token it may). */
  readonly required: boolean;
}

/** What a signature must cover: the Body, the Timestamp and every WS-Addressing header; it may cover the token. */
function signableElements(headerBlocks: readonly Child[], body: XmlElement, header: SecurityHeader): Signable[] {
  return [
    { element: body, name: 'Body', required: true },
    { element: header.timestamp, name: 'Timestamp', required: true },
    { element: header.token, name: 'BinarySecurityToken', required: false },
    ...headerBlocks
      .filter((block) => block.namespace === NS.wsa)
      .map((block) => ({ element: block.element, name: block.name, required: true })),
  ];
}

/**
 * Exclusive C14N of an element where it stands in the document (its ancestors' namespaces count). A
 * node set, not the subtree helper: that one wraps every node of the document in a JS object (~1 ms).
 */
const exclusiveC14n = (element: XmlElement, inclusiveNamespacePrefixes: string[]): string =>
  element.doc.canonicalizeToString({
    mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0,
    inclusiveNamespacePrefixes,
    nodeSet: new Set([element]),
  });

/** The prefixes an exclusive C14N method or transform lists as inclusive (InclusiveNamespaces/@PrefixList). */
function inclusivePrefixes(method: XmlElement): string[] {
  const list = childrenOf(method).find((child) => is(child, WSS.excC14n, 'InclusiveNamespaces'));
  return (list && attribute(list.element, 'PrefixList')?.split(/\s+/).filter(Boolean)) || [];
}

/**
 * Verifies the WS-Security signature of a SOAP 1.1 envelope, read from libxml2's tree (docs/security.md):
 * one Security header holding only a Timestamp, an X.509 BinarySecurityToken and one ds:Signature; one
 * ds:Signature and ds:SignedInfo in the document; exclusive C14N and RSA-SHA256, SHA-256 digests (SHA-1
 * is refused by name); references, each to a distinct id that occurs once in the document, covering the
 * Body, the Timestamp and every WS-Addressing header; a token that chains to a trusted CA (with the
 * expected OIN, when given); a fresh Timestamp. SignedInfo and every signed part are canonicalised in
 * the tree the caller reads on, so what it uses is what was signed; node:crypto checks the digests and
 * the RSA signature (xml-crypto's checkSignature parses again with xmldom and looks each reference up
 * with XPath: ~17–25 ms a message). Throws SignatureRefusedError.
 */
export function verifySignedEnvelope(root: XmlElement, policy: SignaturePolicy): VerifiedSignature {
  if (!(root.namespaceUri === NS.soap11 && root.name === 'Envelope'))
    throw fault('structure', 'not a SOAP 1.1 Envelope', 'Envelope');
  const parts = childrenOf(root);
  const soapHeader = parts.find((part) => is(part, NS.soap11, 'Header'));
  const headerBlocks = soapHeader ? childrenOf(soapHeader.element) : [];
  const securityBlocks = headerBlocks.filter((block) => is(block, NS.wsse, 'Security'));
  if (securityBlocks.length === 0) throw fault('no-security', 'wsse:Security header missing', 'Security');
  if (securityBlocks.length > 1) throw fault('structure', 'more than one wsse:Security header', 'Security');
  const body = onlyChild(parts, NS.soap11, 'Body', 'soap:Envelope');
  const header = readSecurityHeader(securityBlocks[0]!.element);
  if (signatureElements(root) !== 2)
    throw fault('structure', 'the request must hold exactly one ds:Signature with one ds:SignedInfo', 'Signature');
  const byId = elementsById(root);

  const signedInfo = readSignedInfo(onlyChild(header.signatureParts, DS, 'SignedInfo', 'ds:Signature'));
  const references = checkReferences(signedInfo.references, byId, signableElements(headerBlocks, body, header));
  // The Timestamp before the token: a message from a skewed clock is refused as such, not as a certificate not yet valid.
  const times = childrenOf(header.timestamp);
  const time = (name: string): string | undefined =>
    times.find((child) => is(child, NS.wsu, name))?.element.content.trim();
  checkTimestamp(time('Created'), time('Expires'), policy.now, policy.timestamp);
  const token = policy.certificates.check(tokenText(header), policy.signerOin, policy.now);

  const signatureValue = Buffer.from(
    onlyChild(header.signatureParts, DS, 'SignatureValue', 'ds:Signature').content.replace(/\s+/g, ''),
    'base64',
  );
  const canonicalSignedInfo = Buffer.from(exclusiveC14n(signedInfo.element, signedInfo.inclusivePrefixes), 'utf8');
  if (!verify('sha256', canonicalSignedInfo, token.publicKey, signatureValue))
    throw fault(
      'mismatch',
      'the signature does not verify: another key signed it, or SignedInfo was changed',
      'Signature',
    );
  for (const reference of references) {
    const digest = createHash('sha256').update(exclusiveC14n(reference.element, reference.inclusivePrefixes), 'utf8');
    if (!digest.digest().equals(reference.digestValue))
      throw fault('mismatch', `${reference.name} was changed after signing: its digest does not match`, reference.name);
  }
  return {
    certificate: token.certificate,
    oin: token.oin,
    signedElements: references.map((reference) => reference.element),
    signatureValue,
  };
}

interface CheckedReference {
  readonly element: XmlElement;
  readonly name: string;
  readonly digestValue: Buffer;
  readonly inclusivePrefixes: string[];
}

/**
 * Each reference: a same-document id that no other reference names, resolving to an element the
 * signature may cover; together they cover all that must be signed. Coverage is checked before
 * reaching: a Body moved aside and referenced where it now stands is an unsigned Body.
 */
function checkReferences(
  signed: readonly SignedReference[],
  byId: ReadonlyMap<string, XmlElement>,
  signable: readonly Signable[],
): CheckedReference[] {
  // libxml2-wasm hands out a new wrapper per visit: nodes are compared with isSameNode, never by identity.
  const resolved = signed.map((reference) => {
    const uri = reference.uri;
    if (!uri.startsWith('#') || uri.length === 1)
      throw fault('reference', `Reference URI '${uri.slice(0, 80)}' is not '#id'`, 'Reference');
    const element = byId.get(uri.slice(1));
    const target = element && signable.find((candidate) => candidate.element.isSameNode(element));
    return { reference, element, target };
  });
  for (const { name, required } of signable) {
    if (required && !resolved.some(({ target }) => target?.name === name))
      throw fault('unsigned', `${name} is not signed`, name);
  }
  const covered: Signable[] = [];
  return resolved.map(({ reference, element, target }) => {
    if (!element || !target) {
      throw fault(
        'reference',
        `Reference ${reference.uri.slice(0, 80)} is not the Body, the Timestamp or a WS-Addressing header of this envelope`,
        'Reference',
      );
    }
    if (covered.includes(target)) throw fault('reference', `${target.name} is referenced more than once`, 'Reference');
    covered.push(target);
    return {
      element,
      name: target.name,
      digestValue: reference.digestValue,
      inclusivePrefixes: reference.inclusivePrefixes,
    };
  });
}
