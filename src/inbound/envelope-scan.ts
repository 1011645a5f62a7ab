import { SaxesParser, type SaxesTagNS } from 'saxes';
import { BrokerFault } from '../errors.js';
import { NS } from '../contracts/catalogue.js';

/** Structural limits of the gate (ARCHITECTURE.md, inbound gate). */
export interface ScanLimits {
  readonly maxDepth: number;
  readonly maxAttributes: number;
  readonly maxNameLength: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDepth: 64, maxAttributes: 32, maxNameLength: 256 };

/** One SOAP header block: its qualified name, its own text and its child elements' texts. */
export interface HeaderBlock {
  readonly namespace: string;
  readonly localName: string;
  readonly text: string;
  /** Child element local name → text, first occurrence (e.g. wsa:From/wsa:Address). */
  readonly children: ReadonlyMap<string, string>;
}

/** What the envelope rules and the accept step need, read in the same pass as the gate checks. */
export interface ScannedEnvelope {
  readonly headers: readonly HeaderBlock[];
  readonly bodyNamespace: string;
  readonly bodyLocalName: string;
  /** Direct children of the body element: local name → text (first occurrence). */
  readonly bodyFields: ReadonlyMap<string, string>;
}

interface OpenHeader {
  namespace: string;
  localName: string;
  text: string;
  children: Map<string, string>;
  childName: string | null;
  childText: string;
}

const forbidden = (reason: string): BrokerFault => new BrokerFault('BB0002', reason);

const LT = 0x3c, GT = 0x3e, EQ = 0x3d, QUOT = 0x22, APOS = 0x27, BANG = 0x21, QUESTION = 0x3f;

const DECLARED_ENCODING = /^\uFEFF?<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;

/**
 * The XML declaration may name only UTF-8. Read with a regex rather than saxes' 'xmldecl' event:
 * saxes slows down about fivefold once more than five handlers are registered on it.
 */
function refuseOtherEncodings(xml: string): void {
  const declared = DECLARED_ENCODING.exec(xml.slice(0, 200))?.[1];
  if (declared !== undefined && declared.toUpperCase() !== 'UTF-8') {
    throw new BrokerFault('DK0009', `declared encoding '${declared.slice(0, 40)}' is not UTF-8`);
  }
}

/**
 * One linear pass that counts `=` outside quotes inside each start tag, so an element with a flood of
 * attributes is refused before saxes builds them all (100,000 attributes would cost it ~250 ms).
 * Comments, CDATA and declarations (`<!`, `<?`) are skipped; saxes judges their syntax.
 */
export function refuseAttributeFloods(xml: string, maxAttributes: number): void {
  const length = xml.length;
  let i = xml.indexOf('<');
  while (i !== -1 && i < length) {
    const next = xml.charCodeAt(i + 1);
    if (next === BANG || next === QUESTION) {
      const end = xml.startsWith('<!--', i) ? xml.indexOf('-->', i + 4) : xml.startsWith('<![CDATA[', i) ? xml.indexOf(']]>', i + 9) : xml.indexOf('>', i + 2);
      if (end === -1) return;
      i = xml.indexOf('<', end + 1);
      continue;
    }
    let count = 0;
    let j = i + 1;
    for (; j < length; j++) {
      const c = xml.charCodeAt(j);
      if (c === QUOT || c === APOS) {
        const close = xml.indexOf(c === QUOT ? '"' : "'", j + 1);
        if (close === -1) return; // unterminated: saxes reports it
        j = close;
      } else if (c === EQ) {
        if (++count > maxAttributes) throw forbidden(`more than ${maxAttributes} attributes on one element`);
      } else if (c === GT || c === LT) {
        break;
      }
    }
    i = xml.indexOf('<', j);
  }
}

/**
 * Streams once over the decoded text with saxes (a strict, non-validating XML parser that never
 * expands entities) and refuses hostile constructs before any other parser sees the message:
 * DOCTYPE, processing instructions, excessive depth, attribute counts or name lengths, several roots,
 * and a root that is not a SOAP 1.1 Envelope. In the same pass it collects the header blocks, the
 * body element's name and its direct children's texts.
 */
export function scanEnvelope(xml: string, limits: ScanLimits = DEFAULT_SCAN_LIMITS): ScannedEnvelope {
  refuseOtherEncodings(xml);
  refuseAttributeFloods(xml, limits.maxAttributes);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const headers: HeaderBlock[] = [];
  const bodyFields = new Map<string, string>();
  let depth = 0;
  let inHeader = false;
  let headerSeen = false;
  let bodySeen = false;
  let bodyElement: { namespace: string; localName: string } | null = null;
  let bodyElementCount = 0;
  let header: OpenHeader | null = null;
  let field: { name: string; text: string } | null = null;

  parser.on('error', (error) => {
    throw new BrokerFault('BB0003', `XML not well-formed: ${error.message}`);
  });
  parser.on('doctype', () => {
    throw forbidden('DOCTYPE declarations (and so entities) are not allowed');
  });
  parser.on('processinginstruction', (pi) => {
    throw forbidden(`processing instruction '${pi.target.slice(0, 40)}' is not allowed`);
  });
  // Limits are checked on 'opentag' (saxes slows down once more than five handlers are registered);
  // attribute floods are refused earlier by refuseAttributeFloods.
  parser.on('opentag', (tag: SaxesTagNS) => {
    depth += 1;
    if (depth > limits.maxDepth) throw forbidden(`elements nested deeper than ${limits.maxDepth}`);
    if (tag.name.length > limits.maxNameLength) throw forbidden(`element name longer than ${limits.maxNameLength}`);
    for (const name in tag.attributes) {
      if (name.length > limits.maxNameLength) throw forbidden(`attribute name longer than ${limits.maxNameLength}`);
    }
    const namespace = tag.uri;
    const localName = tag.local;
    if (depth === 1) {
      if (localName !== 'Envelope' || namespace !== NS.soap11) {
        const what = namespace === NS.soap12 ? 'a SOAP 1.2 envelope' : `root element {${namespace}}${localName}`;
        throw new BrokerFault('DK0001', `${what} is not a SOAP 1.1 Envelope`, localName);
      }
    } else if (depth === 2) {
      if (namespace !== NS.soap11 || (localName !== 'Header' && localName !== 'Body')) {
        throw new BrokerFault('DK0004', `unexpected element ${localName} in soap:Envelope`, localName);
      }
      if (localName === 'Header' && (bodySeen || headerSeen)) {
        throw new BrokerFault('DK0004', 'soap:Header must come once, before soap:Body', localName);
      }
      if (localName === 'Body' && bodySeen) throw new BrokerFault('DK0004', 'more than one soap:Body', localName);
      inHeader = localName === 'Header';
      headerSeen ||= inHeader;
      bodySeen ||= localName === 'Body';
    } else if (depth === 3) {
      if (inHeader) {
        header = { namespace, localName, text: '', children: new Map(), childName: null, childText: '' };
      } else {
        bodyElementCount += 1;
        if (bodyElementCount > 1) throw new BrokerFault('DK0004', 'soap:Body must hold exactly one element', localName);
        bodyElement = { namespace, localName };
      }
    } else if (depth === 4) {
      if (header) {
        header.childName = localName;
        header.childText = '';
      } else if (!inHeader) {
        field = { name: localName, text: '' };
      }
    }
  });
  parser.on('text', (text) => {
    if (depth === 3 && header) header.text += text;
    else if (depth === 4 && header?.childName) header.childText += text;
    else if (depth === 4 && field) field.text += text;
    else if (depth === 3 && !inHeader && text.trim() !== '') {
      throw new BrokerFault('DK0004', 'soap:Body holds text outside its element');
    }
  });
  parser.on('closetag', () => {
    if (depth === 4 && header?.childName) {
      if (!header.children.has(header.childName)) header.children.set(header.childName, header.childText.trim());
      header.childName = null;
    } else if (depth === 4 && field) {
      if (!bodyFields.has(field.name)) bodyFields.set(field.name, field.text.trim());
      field = null;
    } else if (depth === 3 && header) {
      headers.push({ namespace: header.namespace, localName: header.localName, text: header.text.trim(), children: header.children });
      header = null;
    } else if (depth === 2) {
      inHeader = false;
    }
    depth -= 1;
  });

  parser.write(xml).close();
  if (!bodySeen) throw new BrokerFault('DK0004', 'soap:Body missing', 'Body');
  if (!bodyElement) throw new BrokerFault('DK0004', 'soap:Body holds no element', 'Body');
  const body: { namespace: string; localName: string } = bodyElement;
  return { headers, bodyNamespace: body.namespace, bodyLocalName: body.localName, bodyFields };
}
