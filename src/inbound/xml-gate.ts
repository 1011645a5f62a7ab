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

const forbidden = (reason: string): BrokerFault => new BrokerFault('BB0002', reason);

const LT = 0x3c, GT = 0x3e, EQ = 0x3d, QUOT = 0x22, APOS = 0x27, BANG = 0x21, QUESTION = 0x3f;

const DECLARED_ENCODING = /^\uFEFF?<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;

/** The XML declaration may name only UTF-8 (read with a regex: one saxes handler fewer). */
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

/** Walks saxes' events, keeping only what the limits and the root check need. */
function gateHandlers(parser: SaxesParser<{ xmlns: true }>, limits: ScanLimits): void {
  let depth = 0;
  parser.on('error', (error) => {
    throw new BrokerFault('BB0003', `XML not well-formed: ${error.message}`);
  });
  parser.on('doctype', () => {
    throw forbidden('DOCTYPE declarations (and so entities) are not allowed');
  });
  parser.on('processinginstruction', (pi) => {
    throw forbidden(`processing instruction '${pi.target.slice(0, 40)}' is not allowed`);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    depth += 1;
    if (depth > limits.maxDepth) throw forbidden(`elements nested deeper than ${limits.maxDepth}`);
    if (tag.name.length > limits.maxNameLength) throw forbidden(`element name longer than ${limits.maxNameLength}`);
    for (const name in tag.attributes) {
      if (name.length > limits.maxNameLength) throw forbidden(`attribute name longer than ${limits.maxNameLength}`);
    }
    if (depth === 1 && (tag.local !== 'Envelope' || tag.uri !== NS.soap11)) {
      const what = tag.uri === NS.soap12 ? 'a SOAP 1.2 envelope' : `root element {${tag.uri}}${tag.local}`;
      throw new BrokerFault('DK0001', `${what} is not a SOAP 1.1 Envelope`, tag.local);
    }
  });
  parser.on('closetag', () => {
    depth -= 1;
  });
}

/**
 * The inbound gate: streams once over the decoded text with saxes (a strict, non-validating XML parser
 * that never expands entities) before any other parser sees the message, and refuses DOCTYPE,
 * processing instructions, other declared encodings, excessive depth, attribute counts or name
 * lengths, anything not well-formed (several roots, text after the root), and a root that is not a
 * SOAP 1.1 Envelope. It reads no values: those come from the libxml2 tree that is validated.
 * (saxes slows down about fivefold once more than five handlers are registered; this uses four.)
 */
export function gateXml(xml: string, limits: ScanLimits = DEFAULT_SCAN_LIMITS): void {
  refuseOtherEncodings(xml);
  refuseAttributeFloods(xml, limits.maxAttributes);
  const parser = new SaxesParser({ xmlns: true });
  gateHandlers(parser, limits);
  parser.write(xml).close();
}
