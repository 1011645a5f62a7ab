import { createHash } from 'node:crypto';
import { XmlC14NMode, XmlElement } from 'libxml2-wasm';
import { SignedXml } from 'xml-crypto';
import { NS } from '../../shared/catalogue.js';
import { BrokerFault } from '../../shared/errors.js';
import type { SoapEnvelope } from '../../shared/xml/soap-envelope.js';
import { checkTimestamp } from './security-timestamp.js';
import type { SigningCertificates } from './signing-token.js';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
/** Attribute local names xml-crypto resolves a Reference URI by (wsu:Id among them): each value names one element. */
const ID_ATTRIBUTES = new Set(['Id', 'ID', 'id']);

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

const fault = (reason: string, element: string): BrokerFault => new BrokerFault('EK0031', reason, element);

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
  if (found.length !== 1) throw fault(`${what} must hold exactly one ${localName}, found ${found.length}`, localName);
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
        throw fault(`id '${a.value.slice(0, 80)}' occurs more than once`, a.name);
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
  if (actual && /sha1$/i.test(actual)) throw fault(`SHA-1 refused (${element} ${actual})`, element);
  throw fault(`${element} must be ${allowed}, not ${actual ?? 'missing'}`, element);
}

/** A ds:Reference as signed: its same-document URI, digest, and the exclusive C14N transform's prefixes. */
interface SignedReference {
  readonly uri: string;
  readonly digestValue: string;
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
    throw fault('ds:SignedInfo must start with ds:CanonicalizationMethod', 'CanonicalizationMethod');
  requireAlgorithm(attribute(method.element, 'Algorithm'), EXC_C14N, 'CanonicalizationMethod');
  if (!is(signatureMethod, DS, 'SignatureMethod') || childrenOf(signatureMethod.element).length > 0)
    throw fault('ds:SignatureMethod must follow ds:CanonicalizationMethod, empty', 'SignatureMethod');
  requireAlgorithm(attribute(signatureMethod.element, 'Algorithm'), RSA_SHA256, 'SignatureMethod');
  if (references.length === 0) throw fault('ds:SignedInfo holds no ds:Reference', 'Reference');
  return {
    element: signedInfo,
    inclusivePrefixes: inclusivePrefixes(method.element),
    references: references.map((reference) => {
      const { name } = reference;
      if (!is(reference, DS, 'Reference')) throw fault(`ds:SignedInfo holds ${name}`, name);
      const [transforms, digestMethod, digestValue, ...rest] = childrenOf(reference.element);
      const transform = is(transforms, DS, 'Transforms') ? childrenOf(transforms.element) : [];
      if (transform.length !== 1 || !is(transform[0], DS, 'Transform'))
        throw fault('each Reference must have exactly one Transform, exclusive C14N', 'Transform');
      requireAlgorithm(attribute(transform[0].element, 'Algorithm'), EXC_C14N, 'Transform');
      if (!is(digestMethod, DS, 'DigestMethod'))
        throw fault('ds:Reference must hold ds:DigestMethod after ds:Transforms', 'DigestMethod');
      requireAlgorithm(attribute(digestMethod.element, 'Algorithm'), SHA256, 'DigestMethod');
      if (!is(digestValue, DS, 'DigestValue') || rest.length > 0)
        throw fault('ds:Reference must end with one ds:DigestValue', 'DigestValue');
      return {
        uri: attribute(reference.element, 'URI') ?? '',
        digestValue: digestValue.element.content.replace(/\s+/g, ''),
        inclusivePrefixes: inclusivePrefixes(transform[0].element),
      };
    }),
  };
}

/** The parts of the wsse:Security header the broker reads, from libxml2's tree (the one the broker uses). */
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
    if (!known) throw fault(`wsse:Security holds ${name}, which this broker does not process`, name);
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
  if (attribute(token, 'ValueType') !== X509V3)
    throw fault('BinarySecurityToken must be X509v3', 'BinarySecurityToken');
  const encoding = attribute(token, 'EncodingType');
  if (encoding !== undefined && encoding !== BASE64_BINARY)
    throw fault('BinarySecurityToken must be Base64Binary', 'BinarySecurityToken');
  const tokenId = attribute(token, 'Id', NS.wsu);
  const keyInfo = onlyChild(signatureParts, DS, 'KeyInfo', 'ds:Signature');
  const tokenReference = onlyChild(childrenOf(keyInfo), NS.wsse, 'SecurityTokenReference', 'ds:KeyInfo');
  const reference = onlyChild(childrenOf(tokenReference), NS.wsse, 'Reference', 'wsse:SecurityTokenReference');
  if (!tokenId || attribute(reference, 'URI') !== `#${tokenId}`)
    throw fault("ds:KeyInfo must refer to the request's BinarySecurityToken", 'KeyInfo');
  return token.content;
}

/** An element a signature may cover, under the name a fault gives it. */
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
 * Exclusive C14N of an element and its subtree. A node set, not the subtree helper: that one wraps
 * every node of the document in a JS object to ask whether it is inside (~1 ms a message).
 */
const exclusiveC14n = (element: XmlElement, inclusiveNamespacePrefixes: string[]): string =>
  element.doc.canonicalizeToString({
    mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0,
    inclusiveNamespacePrefixes,
    nodeSet: new Set([element]),
  });

/** The prefixes an exclusive C14N method or transform lists as inclusive (InclusiveNamespaces/@PrefixList). */
function inclusivePrefixes(method: XmlElement): string[] {
  const list = childrenOf(method).find((child) => is(child, EXC_C14N, 'InclusiveNamespaces'));
  return (list && attribute(list.element, 'PrefixList')?.split(/\s+/).filter(Boolean)) || [];
}

/**
 * Verifies a request's wsse:Security (docs/security.md): one Security header with a Timestamp, an X.509
 * BinarySecurityToken and one ds:Signature; exclusive C14N and RSA-SHA256, SHA-256 digests (SHA-1 is
 * refused); references, each to a distinct id that occurs once, covering the Body, the Timestamp and
 * every WS-Addressing header; a token that chains to a trusted CA with the sender's OIN; a fresh
 * Timestamp. SignedInfo and every signed part are read and canonicalised from libxml2's tree, the one
 * the broker reads on, so what it uses is what was signed; xml-crypto's algorithms check the signature
 * value and the digests. (xml-crypto's own checkSignature parses the text again with xmldom and finds
 * each reference with XPath: ~25 ms a message here.) Throws Client.EK0031.
 */
export function verifyWsSecurity(
  envelope: SoapEnvelope,
  senderOin: string,
  policy: WsSecurityPolicy,
): WsSecurityOutcome {
  // The header blocks as outlined (plain JS): an unsigned request never walks libxml2's tree here.
  const securityCount = envelope.headers.filter((b) => b.namespace === NS.wsse && b.localName === 'Security').length;
  if (securityCount === 0) {
    if (policy.required) throw fault('this sender must sign its requests: wsse:Security header missing', 'Security');
    return { signed: false };
  }
  if (securityCount > 1) throw fault('more than one wsse:Security header', 'Security');
  const body = envelope.bodyElement.parent!;
  const root = body.parent!;
  const soapHeader = childrenOf(root).find((part) => is(part, NS.soap11, 'Header'))!;
  const headerBlocks = childrenOf(soapHeader.element);
  const securityBlocks = headerBlocks.filter((block) => is(block, NS.wsse, 'Security'));
  if (securityBlocks.length !== 1) throw new Error('libxml2 tree and gate outline disagree on wsse:Security');
  const header = readSecurityHeader(securityBlocks[0]!.element);
  if (signatureElements(root) !== 2)
    throw fault('the request must hold exactly one ds:Signature with one ds:SignedInfo', 'Signature');
  const byId = elementsById(root);

  const signedInfo = readSignedInfo(onlyChild(header.signatureParts, DS, 'SignedInfo', 'ds:Signature'));
  const references = checkReferences(signedInfo.references, byId, signableElements(headerBlocks, body, header));
  const publicKey = policy.certificates.publicKeyFor(tokenText(header), senderOin, policy.now);

  // xml-crypto's algorithms check the signature value and the digests over libxml2's canonical forms.
  const algorithms = new SignedXml();
  const signatureValue = onlyChild(header.signatureParts, DS, 'SignatureValue', 'ds:Signature').content.replace(
    /\s+/g,
    '',
  );
  const rsaSha256 = new algorithms.SignatureAlgorithms[RSA_SHA256]!();
  const canonicalSignedInfo = exclusiveC14n(signedInfo.element, signedInfo.inclusivePrefixes);
  if (!rsaSha256.verifySignature(canonicalSignedInfo, publicKey, signatureValue))
    throw fault('the signature does not verify: another key signed it, or SignedInfo was changed', 'Signature');
  const sha256 = new algorithms.HashAlgorithms[SHA256]!();
  for (const reference of references) {
    if (sha256.getHash(exclusiveC14n(reference.element, reference.inclusivePrefixes)) !== reference.digestValue)
      throw fault(`${reference.name} was changed after signing: its digest does not match`, reference.name);
  }
  const times = childrenOf(header.timestamp);
  const time = (name: string): string | undefined =>
    times.find((child) => is(child, NS.wsu, name))?.element.content.trim();
  checkTimestamp(time('Created'), time('Expires'), policy.now);
  // Of the bytes, not the base64 text: unused bits and line breaks could spell the same signature anew.
  const signatureBytes = Buffer.from(signatureValue, 'base64');
  return { signed: true, signatureDigest: createHash('sha256').update(signatureBytes).digest('base64') };
}

interface CheckedReference {
  readonly element: XmlElement;
  readonly name: string;
  readonly digestValue: string;
  readonly inclusivePrefixes: string[];
}

/**
 * Each reference: SHA-256, exactly the exclusive C14N transform, a same-document id that no other
 * reference names, resolving to an element the signature may cover; and together they cover all that
 * must be signed.
 */
function checkReferences(
  signed: readonly SignedReference[],
  byId: ReadonlyMap<string, XmlElement>,
  signable: readonly Signable[],
): CheckedReference[] {
  // libxml2-wasm hands out a new wrapper per visit: nodes are compared with isSameNode, never by identity.
  const covered: Signable[] = [];
  const checked: CheckedReference[] = [];
  for (const reference of signed) {
    const uri = reference.uri;
    if (!uri.startsWith('#') || uri.length === 1)
      throw fault(`Reference URI '${uri.slice(0, 80)}' is not '#id'`, 'Reference');
    const element = byId.get(uri.slice(1));
    const target = element && signable.find((candidate) => candidate.element.isSameNode(element));
    if (!element || !target) {
      throw fault(
        `Reference ${uri.slice(0, 80)} is not the Body, the Timestamp or a WS-Addressing header of this envelope`,
        'Reference',
      );
    }
    if (covered.includes(target)) throw fault(`${target.name} is referenced more than once`, 'Reference');
    covered.push(target);
    checked.push({
      element,
      name: target.name,
      digestValue: reference.digestValue,
      inclusivePrefixes: reference.inclusivePrefixes,
    });
  }
  for (const { name, required } of signable) {
    if (required && !covered.some((part) => part.name === name)) throw fault(`${name} is not signed`, name);
  }
  return checked;
}
