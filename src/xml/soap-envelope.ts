import { ParseOption, XmlDocument, XmlElement, XmlText, XmlCData } from 'libxml2-wasm';
import { BrokerFault } from '../errors.js';
import { NS } from '../contracts/catalogue.js';

/** One SOAP header block: its qualified name, its text and its child elements' texts. */
export interface HeaderBlock {
  readonly namespace: string;
  readonly localName: string;
  readonly text: string;
  /** Child element local name → text, first occurrence (e.g. wsa:From/wsa:Address). */
  readonly children: ReadonlyMap<string, string>;
}

/** The envelope as the broker uses it, read from the same tree that is validated. */
export interface SoapEnvelope {
  readonly headers: readonly HeaderBlock[];
  /** The one element in soap:Body (valid while the document lives). */
  readonly bodyElement: XmlElement;
  readonly bodyNamespace: string;
  readonly bodyLocalName: string;
  /** The wanted direct children of the body element: local name → text content (first occurrence). */
  readonly bodyFields: ReadonlyMap<string, string>;
}

/** The body fields the broker reads itself (the bedrijfsdocument and the BRIN); the rest is for the workers. */
export const BODY_FIELDS: ReadonlySet<string> = new Set([
  'identificatiecodeBedrijfsdocument', 'verzendendeInstantie', 'ontvangendeInstantie', 'datumTijdBedrijfsdocument', 'brin',
]);

// The gate has already refused DTDs; these keep libxml2 off the network and external entities anyway.
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/**
 * Parses the exact received bytes with libxml2 (after the gate). Bytes, not a string: handing
 * libxml2-wasm a JS string costs a UTF-8 re-encoding per request. The caller disposes the document.
 */
export function parseSoapDocument(bytes: Uint8Array): XmlDocument {
  try {
    return XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS, encoding: 'UTF-8' });
  } catch (error) {
    throw new BrokerFault('BB0003', `XML not well-formed: ${String((error as Error).message).trim()}`);
  }
}

function childElements(element: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let node = element.firstChild; node; node = node.next) if (node instanceof XmlElement) children.push(node);
  return children;
}

function hasText(element: XmlElement): boolean {
  for (let node = element.firstChild; node; node = node.next) {
    if ((node instanceof XmlText || node instanceof XmlCData) && node.content.trim() !== '') return true;
  }
  return false;
}

function firstTexts(elements: readonly XmlElement[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const element of elements) if (!texts.has(element.name)) texts.set(element.name, element.content.trim());
  return texts;
}

/** Texts of the wanted children, walking only as far as needed (each node visit crosses into wasm). */
function wantedTexts(parent: XmlElement, wanted: ReadonlySet<string>): Map<string, string> {
  const texts = new Map<string, string>();
  for (let node = parent.firstChild; node && texts.size < wanted.size; node = node.next) {
    if (!(node instanceof XmlElement)) continue;
    const name = node.name;
    if (wanted.has(name) && !texts.has(name)) texts.set(name, node.content.trim());
  }
  return texts;
}

function readHeaders(header: XmlElement | undefined): HeaderBlock[] {
  if (!header) return [];
  return childElements(header).map((block) => ({
    namespace: block.namespaceUri,
    localName: block.name,
    text: block.content.trim(),
    children: firstTexts(childElements(block)),
  }));
}

/**
 * A SOAP 1.1 Envelope root (else VersionMismatch.DK0001), with an optional soap:Header first and
 * exactly one soap:Body holding exactly one element and no text.
 */
export function readEnvelope(doc: XmlDocument): SoapEnvelope {
  const root = doc.root;
  if (root.name !== 'Envelope' || root.namespaceUri !== NS.soap11) {
    const what = root.namespaceUri === NS.soap12 ? 'a SOAP 1.2 envelope' : `root element {${root.namespaceUri}}${root.name}`;
    throw new BrokerFault('DK0001', `${what} is not a SOAP 1.1 Envelope`, root.name);
  }
  const parts = childElements(root);
  for (const part of parts) {
    if (part.namespaceUri !== NS.soap11 || (part.name !== 'Header' && part.name !== 'Body')) {
      throw new BrokerFault('DK0004', `unexpected element ${part.name} in soap:Envelope`, part.name);
    }
  }
  const names = parts.map((part) => part.name).join(',');
  if (names !== 'Body' && names !== 'Header,Body') {
    throw new BrokerFault('DK0004', 'soap:Envelope must hold an optional soap:Header and then one soap:Body', 'Body');
  }
  const body = parts[parts.length - 1]!;
  const bodyChildren = childElements(body);
  if (bodyChildren.length !== 1) throw new BrokerFault('DK0004', `soap:Body must hold exactly one element, found ${bodyChildren.length}`, 'Body');
  if (hasText(body)) throw new BrokerFault('DK0004', 'soap:Body holds text outside its element', 'Body');
  const bodyElement = bodyChildren[0]!;
  return {
    headers: readHeaders(parts.length === 2 ? parts[0] : undefined),
    bodyElement,
    bodyNamespace: bodyElement.namespaceUri,
    bodyLocalName: bodyElement.name,
    bodyFields: wantedTexts(bodyElement, BODY_FIELDS),
  };
}
