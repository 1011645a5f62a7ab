import { BrokerFault } from '../errors.js';

/** Structural limits of the gate (ARCHITECTURE.md, inbound gate). */
export interface GateLimits {
  readonly maxDepth: number;
  readonly maxAttributes: number;
  readonly maxNameLength: number;
}

export const DEFAULT_GATE_LIMITS: GateLimits = { maxDepth: 64, maxAttributes: 32, maxNameLength: 256 };

const forbidden = (reason: string): BrokerFault => new BrokerFault('BB0002', reason);
const malformed = (reason: string): BrokerFault => new BrokerFault('BB0003', `XML not well-formed: ${reason}`);

const QUOT = 0x22, APOS = 0x27, SLASH = 0x2f, EQ = 0x3d, GT = 0x3e, BANG = 0x21, QUESTION = 0x3f;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const DECLARATION = /^\uFEFF?<\?xml\s[^>]*?\?>/;
const DECLARED_ENCODING = /\bencoding\s*=\s*["']([^"']*)["']/;

/** Skips the XML declaration, refusing any encoding but UTF-8; returns where the document starts. */
function skipDeclaration(xml: string): number {
  const declaration = DECLARATION.exec(xml)?.[0];
  if (!declaration) return xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const encoding = DECLARED_ENCODING.exec(declaration)?.[1];
  if (encoding !== undefined && encoding.toUpperCase() !== 'UTF-8') {
    throw new BrokerFault('DK0009', `declared encoding '${encoding.slice(0, 40)}' is not UTF-8`);
  }
  return declaration.length;
}

/** Skips `<!--…-->` and `<![CDATA[…]]>`; any other `<!` (DOCTYPE, ENTITY, …) is refused. */
function skipDeclarationLike(xml: string, at: number, depth: number): number {
  if (xml.startsWith('<!--', at)) {
    const end = xml.indexOf('-->', at + 4);
    if (end === -1) throw malformed('unterminated comment');
    return end + 3;
  }
  if (xml.startsWith('<![CDATA[', at)) {
    if (depth === 0) throw malformed('CDATA outside the root element');
    const end = xml.indexOf(']]>', at + 9);
    if (end === -1) throw malformed('unterminated CDATA section');
    return end + 3;
  }
  throw forbidden('DOCTYPE and other declarations (and so entities) are not allowed');
}

/** Length of the name starting at `from`: up to white space, `=`, `/` or `>`. */
function nameEnd(xml: string, from: number): number {
  let j = from;
  for (let c = xml.charCodeAt(j); j < xml.length && !isSpace(c) && c !== EQ && c !== SLASH && c !== GT; c = xml.charCodeAt(++j));
  return j;
}

function skipSpace(xml: string, from: number): number {
  let j = from;
  while (j < xml.length && isSpace(xml.charCodeAt(j))) j++;
  return j;
}

/**
 * Reads one start tag from `<` at `at`, checking the name and every attribute against the limits.
 * Returns where the tag ends and whether it closes itself.
 */
function readStartTag(xml: string, at: number, limits: GateLimits): { end: number; selfClosing: boolean } {
  let j = nameEnd(xml, at + 1);
  if (j === at + 1) throw malformed(`'<' without an element name at offset ${at}`);
  if (j - at - 1 > limits.maxNameLength) throw forbidden(`element name longer than ${limits.maxNameLength}`);
  let attributes = 0;
  for (;;) {
    j = skipSpace(xml, j);
    const c = xml.charCodeAt(j);
    if (c === GT) return { end: j + 1, selfClosing: false };
    if (c === SLASH && xml.charCodeAt(j + 1) === GT) return { end: j + 2, selfClosing: true };
    if (j >= xml.length) throw malformed('unterminated start tag');
    const nameStart = j;
    j = nameEnd(xml, j);
    if (j === nameStart) throw malformed(`unexpected character in a start tag at offset ${j}`);
    if (j - nameStart > limits.maxNameLength) throw forbidden(`attribute name longer than ${limits.maxNameLength}`);
    if (++attributes > limits.maxAttributes) throw forbidden(`more than ${limits.maxAttributes} attributes on one element`);
    j = skipSpace(xml, j);
    if (xml.charCodeAt(j) !== EQ) throw malformed(`attribute without a value at offset ${j}`);
    j = skipSpace(xml, j + 1);
    const quote = xml.charCodeAt(j);
    if (quote !== QUOT && quote !== APOS) throw malformed(`unquoted attribute value at offset ${j}`);
    const close = xml.indexOf(quote === QUOT ? '"' : "'", j + 1);
    if (close === -1) throw malformed('unterminated attribute value');
    j = close + 1;
  }
}

/**
 * The inbound gate: one linear pass over the decoded text, before any XML parser sees it. It refuses
 * DOCTYPE and every other declaration (so every entity attack), processing instructions, another
 * declared encoding, nesting deeper than `maxDepth`, more than `maxAttributes` attributes on an element,
 * names longer than `maxNameLength`, several roots and text outside the root. It is a lexical scan, not
 * a parser: libxml2 parses what passes (and refuses what is not well-formed), and the envelope reader
 * checks that the root is a SOAP 1.1 Envelope.
 */
export function gateXml(xml: string, limits: GateLimits = DEFAULT_GATE_LIMITS): void {
  let i = skipDeclaration(xml);
  let depth = 0;
  let roots = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (depth === 0 && /\S/.test(lt === -1 ? xml.slice(i) : xml.slice(i, lt))) throw malformed('text outside the root element');
    if (lt === -1) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === BANG) {
      i = skipDeclarationLike(xml, lt, depth);
    } else if (next === QUESTION) {
      throw forbidden('processing instructions are not allowed');
    } else if (next === SLASH) {
      const end = xml.indexOf('>', lt);
      if (end === -1 || --depth < 0) throw malformed('unbalanced end tag');
      i = end + 1;
    } else {
      if (depth === 0 && ++roots > 1) throw malformed('more than one root element');
      if (depth + 1 > limits.maxDepth) throw forbidden(`elements nested deeper than ${limits.maxDepth}`);
      const tag = readStartTag(xml, lt, limits);
      if (!tag.selfClosing) depth += 1;
      i = tag.end;
    }
  }
  if (roots === 0) throw malformed('no root element');
  if (depth !== 0) throw malformed('unclosed elements');
}
