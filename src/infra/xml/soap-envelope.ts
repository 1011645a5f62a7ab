import { ParseOption, XmlDocument, XmlElement } from 'libxml2-wasm';
import { NS } from '../catalogue.js';
import { BrokerFault } from '../errors.js';
import { isBlank, normaliseValue } from './whitespace.js';
import { DEFAULT_GATE_LIMITS, type GateLimits, gateXml, type OutlineElement, textContent } from './xml-gate.js';

/** One SOAP header block: its qualified name, its text and its child elements' texts. */
export interface HeaderBlock {
  readonly namespace: string;
  readonly localName: string;
  readonly text: string;
  /** Child element `{namespace}localName` → text, first occurrence (e.g. wsa:From/wsa:Address). */
  readonly children: ReadonlyMap<string, string>;
  /** Whether it carries soapenv:mustUnderstand="1" (SOAP 1.1). */
  readonly mustUnderstand: boolean;
}

/** The key of a child element in HeaderBlock.children. */
export const qualifiedName = (namespace: string, localName: string): string => `{${namespace}}${localName}`;

/** The envelope as the broker uses it. */
export interface SoapEnvelope {
  readonly headers: readonly HeaderBlock[];
  /** The one element in soap:Body (valid while the document lives). */
  readonly bodyElement: XmlElement;
  readonly bodyNamespace: string;
  readonly bodyLocalName: string;
  /** The wanted direct children of the body element: local name → value, white space normalised as its type says (first occurrence). */
  readonly bodyFields: ReadonlyMap<string, string>;
  /** The body element's whole text content (computed on call). */
  bodyText(): string;
  /** The first element in the body without a value (empty, or white space only), with its line; computed on call. */
  firstBlankElement(): BlankElement | undefined;
  /** The body's content as values: see `bodyValuesOf` (computed on call). */
  bodyValues(): BodyValue[];
}

/** An element without child elements: its local name and its value, white space normalised as its type says. */
export type BodyValue = readonly [localName: string, value: string];

/** The values of every element without child elements under `element`, in document order: its content, whatever the prefixes and indentation. */
function bodyValuesOf(xml: string, element: OutlineElement, into: BodyValue[] = []): BodyValue[] {
  if (element.children.length === 0)
    into.push([element.localName, normaliseValue(element.localName, textContent(xml, element))]);
  for (const child of element.children) bodyValuesOf(xml, child, into);
  return into;
}

/** An element that holds no value, where it is. */
export interface BlankElement {
  readonly localName: string;
  readonly line: number;
}

/** The body fields the broker reads itself (the bedrijfsdocument and the BRIN); the rest is for the workers. */
const BODY_FIELDS: ReadonlySet<string> = new Set([
  'identificatiecodeBedrijfsdocument',
  'verzendendeInstantie',
  'ontvangendeInstantie',
  'datumTijdBedrijfsdocument',
  'brin',
]);

// The gate has already refused DTDs; these keep libxml2 off the network and external entities anyway.
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/**
 * Parses the exact received bytes with libxml2 (after the gate). Bytes, not a string: handing
 * libxml2-wasm a JS string costs a UTF-8 re-encoding per request. The caller disposes the document.
 */
function parseSoapDocument(bytes: Uint8Array): XmlDocument {
  try {
    return XmlDocument.fromBuffer(bytes, { option: PARSE_OPTIONS, encoding: 'UTF-8' });
  } catch (error) {
    throw new BrokerFault('BB0003', `XML not well-formed: ${String((error as Error).message).trim()}`);
  }
}

function firstElementChild(node: XmlElement): XmlElement | undefined {
  for (let child = node.firstChild; child; child = child.next) if (child instanceof XmlElement) return child;
  return undefined;
}

function lastElementChild(node: XmlElement): XmlElement | undefined {
  for (let child = node.lastChild; child; child = child.prev) if (child instanceof XmlElement) return child;
  return undefined;
}

/** Texts of the header block's children (first occurrence of each qualified name), trimmed. */
function childTexts(xml: string, parent: OutlineElement): Map<string, string> {
  const texts = new Map<string, string>();
  for (const child of parent.children) {
    const name = qualifiedName(child.namespace, child.localName);
    if (!texts.has(name)) texts.set(name, textContent(xml, child).trim());
  }
  return texts;
}

/** Whether each header block (in order) carries soapenv:mustUnderstand="1"; read from libxml2's tree, which resolves the prefix. */
function mustUnderstandFlags(header: XmlElement | undefined): boolean[] {
  const flags: boolean[] = [];
  for (let block = header?.firstChild; block; block = block.next) {
    if (!(block instanceof XmlElement)) continue;
    const attribute = block.attrs.find((a) => a.name === 'mustUnderstand' && a.namespaceUri === NS.soap11);
    const value = attribute?.value.trim();
    flags.push(value === '1' || value === 'true');
  }
  return flags;
}

/** Values of the wanted body fields (first occurrence of each local name), normalised as their types say. */
function fieldValues(xml: string, parent: OutlineElement, wanted: ReadonlySet<string>): Map<string, string> {
  const values = new Map<string, string>();
  for (const child of parent.children) {
    if (wanted.has(child.localName) && !values.has(child.localName))
      values.set(child.localName, normaliseValue(child.localName, textContent(xml, child)));
  }
  return values;
}

/** Depth first, document order: the first element without child elements whose text is blank. */
function firstBlank(xml: string, element: OutlineElement): OutlineElement | undefined {
  if (element.children.length === 0) return isBlank(textContent(xml, element)) ? element : undefined;
  for (const child of element.children) {
    const blank = firstBlank(xml, child);
    if (blank) return blank;
  }
  return undefined;
}

const lineAt = (xml: string, offset: number): number => {
  let line = 1;
  for (let i = xml.indexOf('\n'); i !== -1 && i < offset; i = xml.indexOf('\n', i + 1)) line++;
  return line;
};

/** A header block as the gate's outline shows it, before libxml2 has parsed anything (so without mustUnderstand). */
export type OutlinedHeaderBlock = Omit<HeaderBlock, 'mustUnderstand'>;

function headerBlocks(xml: string, header: OutlineElement | undefined): OutlinedHeaderBlock[] {
  return (header?.children ?? []).map((block) => ({
    namespace: block.namespace,
    localName: block.localName,
    text: textContent(xml, block).trim(),
    children: childTexts(xml, block),
  }));
}

/**
 * A SOAP 1.1 Envelope root (else VersionMismatch.DK0001), with an optional soap:Header first and
 * exactly one soap:Body holding exactly one element and no text. Read from the gate's outline of the
 * text that libxml2 parsed into `doc`; only the body element is taken from libxml2's tree (to validate it).
 */
function readEnvelope(xml: string, root: OutlineElement, doc: XmlDocument): SoapEnvelope {
  if (root.localName !== 'Envelope' || root.namespace !== NS.soap11) {
    const what =
      root.namespace === NS.soap12 ? 'a SOAP 1.2 envelope' : `root element {${root.namespace}}${root.localName}`;
    throw new BrokerFault('DK0001', `${what} is not a SOAP 1.1 Envelope`, root.localName);
  }
  const parts = root.children;
  for (const part of parts) {
    if (part.namespace !== NS.soap11 || (part.localName !== 'Header' && part.localName !== 'Body')) {
      throw new BrokerFault('DK0004', `unexpected element ${part.localName} in soap:Envelope`, part.localName);
    }
  }
  const names = parts.map((part) => part.localName).join(',');
  if (names !== 'Body' && names !== 'Header,Body') {
    throw new BrokerFault('DK0004', 'soap:Envelope must hold an optional soap:Header and then one soap:Body', 'Body');
  }
  const body = parts[parts.length - 1]!;
  if (body.children.length !== 1)
    throw new BrokerFault('DK0004', `soap:Body must hold exactly one element, found ${body.children.length}`, 'Body');
  if (body.hasText) throw new BrokerFault('DK0004', 'soap:Body holds text outside its element', 'Body');
  const bodyOutline = body.children[0]!;
  // What the rules above read and what the schema validates must be the same element.
  const bodyElement = firstElementChild(lastElementChild(doc.root)!);
  if (
    !bodyElement ||
    bodyElement.name !== bodyOutline.localName ||
    bodyElement.namespaceUri !== bodyOutline.namespace
  ) {
    throw new Error('libxml2 tree and gate outline disagree on the body element');
  }
  const header = parts.length === 2 ? parts[0]! : undefined;
  // Only a text that names the attribute can carry it: most requests skip the walk through libxml2's tree.
  const mustUnderstand =
    header && xml.includes('mustUnderstand') ? mustUnderstandFlags(firstElementChild(doc.root)) : [];
  return {
    headers: headerBlocks(xml, header).map((block, index) => ({
      ...block,
      mustUnderstand: mustUnderstand[index] ?? false,
    })),
    bodyElement,
    bodyNamespace: bodyOutline.namespace,
    bodyLocalName: bodyOutline.localName,
    bodyFields: fieldValues(xml, bodyOutline, BODY_FIELDS),
    bodyText: () => textContent(xml, bodyOutline),
    bodyValues: () => bodyValuesOf(xml, bodyOutline),
    firstBlankElement: () => {
      // The body element itself is the schema's to judge (an empty request lacks its children).
      for (const child of bodyOutline.children) {
        const blank = firstBlank(xml, child);
        if (blank) return { localName: blank.localName, line: lineAt(xml, blank.contentStart) };
      }
      return undefined;
    },
  };
}

/** A read envelope and the libxml2 document behind it, which the caller disposes. */
export interface OpenedSoapEnvelope extends SoapEnvelope {
  dispose(): void;
}

/**
 * Gate (lexical limits and outline) → libxml2 parse of the exact bytes → envelope. `bytes` are the
 * UTF-8 bytes of `xml` (given when the caller already has them).
 */
export function openSoapEnvelope(
  xml: string,
  bytes: Uint8Array = Buffer.from(xml),
  limits: GateLimits = DEFAULT_GATE_LIMITS,
): OpenedSoapEnvelope {
  // Every level, so that a blank value deep in the body is found without libxml2's tree (~6 µs a message).
  const outline = gateXml(xml, limits, Infinity);
  const doc = parseSoapDocument(bytes);
  try {
    return { ...readEnvelope(xml, outline, doc), dispose: () => doc.dispose() };
  } catch (error) {
    doc.dispose();
    throw error;
  }
}

/** Ends the gate's pass early, once what `readHeaderBlocks` wants has been read. */
const STOP_SCAN = Symbol('stop scan');

/**
 * The header blocks, read by the gate's pass as far as the end of soap:Header and no further
 * (undefined: the root's first child is no soap:Header). Refuses what the gate refuses up to there;
 * cheap, as soap:Header is held to MAX_HEADER_BYTES: who sends can be known before the body costs
 * anything. The blocks' text is the gate's reading, not yet checked by libxml2 (character references
 * a parser would refuse are left as they are).
 */
export function readHeaderBlocks(
  xml: string,
  limits: GateLimits = DEFAULT_GATE_LIMITS,
): OutlinedHeaderBlock[] | undefined {
  let blocks: OutlinedHeaderBlock[] | undefined;
  try {
    gateXml(
      xml,
      limits,
      Infinity,
      (header) => {
        blocks = headerBlocks(xml, header);
        throw STOP_SCAN;
      },
      () => {
        throw STOP_SCAN;
      },
    );
  } catch (error) {
    if (error !== STOP_SCAN) throw error;
  }
  return blocks;
}

/** No limits: for text the broker accepted itself (it passed the gate's limits when it came in). */
const STORED_MESSAGE_LIMITS: GateLimits = {
  maxDepth: Infinity,
  maxAttributes: Infinity,
  maxNameLength: Infinity,
  maxElements: Infinity,
  maxHeaderBytes: Infinity,
  maxHeaderElements: Infinity,
};

/**
 * The body's values of a message the broker accepted and stored earlier, read as `bodyValues` reads
 * them, from the gate's outline alone: no libxml2 parse, and no limits, so a stored message stays
 * readable if the limits have been tightened since.
 */
export function storedBodyValues(xml: string): BodyValue[] {
  return bodyValuesOf(xml, storedBodyElement(xml));
}

/**
 * The body element of a message the broker accepted and stored earlier, outlined `depth` levels down
 * (unlimited by default: every descendant), read as `storedBodyValues` reads it.
 */
export function storedBodyElement(xml: string, depth = Infinity): OutlineElement {
  const body = gateXml(xml, STORED_MESSAGE_LIMITS, depth).children.at(-1)?.children[0];
  if (!body) throw new Error('stored message has no body element');
  return body;
}
