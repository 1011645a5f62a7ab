import { NS } from '../catalogue.js';
import { BrokerFault } from '../errors.js';

/** Structural limits of the gate (docs/protocol.md lists the faults they give). */
export interface GateLimits {
  readonly maxDepth: number;
  readonly maxAttributes: number;
  readonly maxNameLength: number;
  /** Elements in the whole document (MAX_ELEMENTS). */
  readonly maxElements: number;
  /** Characters of the soap:Header element, its tags included (MAX_HEADER_BYTES; the gate counts UTF-16 units, never fewer than bytes for the ASCII a header holds). */
  readonly maxHeaderBytes: number;
  /** Elements inside soap:Header, the Header itself not counted (MAX_HEADER_ELEMENTS). */
  readonly maxHeaderElements: number;
}

export const DEFAULT_GATE_LIMITS: GateLimits = {
  maxDepth: 64,
  maxAttributes: 32,
  maxNameLength: 256,
  maxElements: 20_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaderElements: 100,
};

/**
 * One element of the document's top levels (the SOAP envelope's Envelope, Header/Body, header
 * blocks and body element, and their children), located by offsets into the gated text. Its text is
 * read on demand with `textContent`, and only after libxml2 has found the document well-formed.
 */
export interface OutlineElement {
  readonly localName: string;
  /** Namespace URI ('' for none), resolved from the xmlns declarations in scope. */
  readonly namespace: string;
  /** Offsets of the element's content: after its start tag, up to its end tag. */
  readonly contentStart: number;
  contentEnd: number;
  /** Child elements, recorded down to the outline depth. */
  readonly children: OutlineElement[];
  /** Non-white-space text (or CDATA) directly inside; recorded for the two top levels (soap:Body's is refused). */
  hasText: boolean;
}

/** Levels recorded by default: Envelope (1), Header/Body (2), header blocks/body element (3), their children (4). */
const OUTLINE_DEPTH = 4;

const forbidden = (reason: string, element?: string): BrokerFault => new BrokerFault('BB0002', reason, element);
const malformed = (reason: string): BrokerFault => new BrokerFault('BB0003', `XML not well-formed: ${reason}`);

const QUOT = 0x22,
  APOS = 0x27,
  SLASH = 0x2f,
  EQ = 0x3d,
  GT = 0x3e,
  BANG = 0x21,
  QUESTION = 0x3f,
  COLON = 0x3a;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const NON_SPACE = /\S/;
const DECLARATION = /^\uFEFF?<\?xml\s[^>]*?\?>/;
const DECLARED_ENCODING = /\bencoding\s*=\s*["']([^"']*)["']/;
const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

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

/** Length of the name starting at `from`: up to white space, `=`, `/` or `>`. */
function nameEnd(xml: string, from: number): number {
  let j = from;
  for (
    let c = xml.charCodeAt(j);
    j < xml.length && !isSpace(c) && c !== EQ && c !== SLASH && c !== GT;
    c = xml.charCodeAt(++j)
  );
  return j;
}

function skipSpace(xml: string, from: number): number {
  let j = from;
  while (j < xml.length && isSpace(xml.charCodeAt(j))) j++;
  return j;
}

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const normaliseLineEnds = (raw: string): string => (raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw);

/** A character reference XML allows (libxml2 refuses the others, so they are left for it to refuse). */
const isXmlChar = (code: number): boolean =>
  code === 0x9 ||
  code === 0xa ||
  code === 0xd ||
  (code >= 0x20 && code <= 0xd7ff) ||
  (code >= 0xe000 && code <= 0xfffd) ||
  (code >= 0x10000 && code <= 0x10ffff);

/**
 * Character data as an XML parser reports it: line ends normalised, predefined entities and character
 * references replaced (the gate refuses DTDs, so no others can be declared; libxml2 refuses undeclared
 * ones and references to characters XML does not allow, which are left as they are).
 */
function decodeCharacterData(raw: string): string {
  const text = normaliseLineEnds(raw);
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (all, hex: string | undefined, decimal: string | undefined, name: string | undefined) => {
    if (name) return PREDEFINED[name]!;
    const code = parseInt(hex ?? decimal!, hex ? 16 : 10);
    return isXmlChar(code) ? String.fromCodePoint(code) : all;
  });
}

/** Whether character data holds more than white space once its references are replaced (`&#xD;` is white space). */
const hasNonSpace = (raw: string): boolean => NON_SPACE.test(raw.includes('&') ? decodeCharacterData(raw) : raw);

/** Where the tag starting at `<` at `lt` ends, stepping over quoted attribute values (which may hold `>`). */
function tagEnd(xml: string, lt: number): number {
  for (let j = lt + 1; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (c === GT) return j + 1;
    if (c === QUOT || c === APOS) j = xml.indexOf(c === QUOT ? '"' : "'", j + 1);
    if (j === -1) break;
  }
  return xml.length;
}

/**
 * The text content of an outlined element, as libxml2 would give it: all descendant character data and
 * CDATA in document order, without comments. Only for text that passed the gate and libxml2's parse
 * (it relies on comments and CDATA sections being terminated, as the gate's scan below checks).
 */
export function textContent(xml: string, element: OutlineElement): string {
  let text = '';
  const end = element.contentEnd;
  for (let i = element.contentStart; i < end; ) {
    const lt = xml.indexOf('<', i);
    const stop = lt === -1 || lt > end ? end : lt;
    if (stop > i) text += decodeCharacterData(xml.slice(i, stop));
    if (stop === end) break;
    if (xml.startsWith('<![CDATA[', lt)) {
      const close = xml.indexOf(']]>', lt + 9);
      text += normaliseLineEnds(xml.slice(lt + 9, close)); // CDATA is taken literally
      i = close + 3;
    } else if (xml.startsWith('<!--', lt)) {
      i = xml.indexOf('-->', lt + 4) + 3;
    } else {
      i = tagEnd(xml, lt);
    }
  }
  return text;
}

/** Namespace declarations in scope: prefix ('' for the default) → URI, innermost last. */
type Scope = Array<readonly [string, string]>;

function resolveNamespace(scope: Scope, prefix: string): string | undefined {
  for (let k = scope.length - 1; k >= 0; k--) if (scope[k]![0] === prefix) return scope[k]![1];
  if (prefix === 'xml') return XML_NAMESPACE;
  return prefix === '' ? '' : undefined;
}

/**
 * Reads one start tag from `<` at `at`, checking the name and every attribute against the limits;
 * with `scope`, its xmlns declarations are added to it. Returns where the tag ends, where its name ends
 * and whether it closes itself.
 */
function readStartTag(
  xml: string,
  at: number,
  limits: GateLimits,
  scope: Scope | null,
): { end: number; nameEnd: number; selfClosing: boolean } {
  const elementNameEnd = nameEnd(xml, at + 1);
  let j = elementNameEnd;
  if (j === at + 1) throw malformed(`'<' without an element name at offset ${at}`);
  if (j - at - 1 > limits.maxNameLength) throw forbidden(`element name longer than ${limits.maxNameLength}`);
  let attributes = 0;
  for (;;) {
    j = skipSpace(xml, j);
    const c = xml.charCodeAt(j);
    if (c === GT) return { end: j + 1, nameEnd: elementNameEnd, selfClosing: false };
    if (c === SLASH && xml.charCodeAt(j + 1) === GT) return { end: j + 2, nameEnd: elementNameEnd, selfClosing: true };
    if (j >= xml.length) throw malformed('unterminated start tag');
    const nameStart = j;
    j = nameEnd(xml, j);
    if (j === nameStart) throw malformed(`unexpected character in a start tag at offset ${j}`);
    if (j - nameStart > limits.maxNameLength) throw forbidden(`attribute name longer than ${limits.maxNameLength}`);
    if (++attributes > limits.maxAttributes)
      throw forbidden(`more than ${limits.maxAttributes} attributes on one element`);
    const attributeNameEnd = j;
    j = skipSpace(xml, j);
    if (xml.charCodeAt(j) !== EQ) throw malformed(`attribute without a value at offset ${j}`);
    j = skipSpace(xml, j + 1);
    const quote = xml.charCodeAt(j);
    if (quote !== QUOT && quote !== APOS) throw malformed(`unquoted attribute value at offset ${j}`);
    const close = xml.indexOf(quote === QUOT ? '"' : "'", j + 1);
    if (close === -1) throw malformed('unterminated attribute value');
    if (scope && xml.startsWith('xmlns', nameStart)) {
      const declares =
        attributeNameEnd === nameStart + 5
          ? ''
          : xml.charCodeAt(nameStart + 5) === COLON
            ? xml.slice(nameStart + 6, attributeNameEnd)
            : null;
      if (declares !== null) scope.push([declares, decodeCharacterData(xml.slice(j + 1, close))]);
    }
    j = close + 1;
  }
}

/**
 * The inbound gate: one linear pass over the decoded text, before any XML parser sees it. It refuses
 * DOCTYPE and every other declaration (so every entity attack), processing instructions, another
 * declared encoding, nesting deeper than `maxDepth`, more than `maxAttributes` attributes on an element,
 * names longer than `maxNameLength`, several roots and text outside the root. It is a lexical scan, not
 * a parser: libxml2 parses what passes (and refuses what is not well-formed).
 *
 * In the same pass it outlines the top `outlineDepth` levels (names, namespaces, content offsets), so the
 * SOAP envelope can be read without walking libxml2's tree node by node (each step crosses into wasm).
 * An undeclared namespace prefix on those levels is refused here (BB0003), before limits further on.
 * The outline holds one small object per element of those levels, bounded by `maxElements`.
 * A soap:Header (a SOAP 1.1 Header child of the root) is held to `maxHeaderBytes` and
 * `maxHeaderElements`, and `onHeader` gets its outline as soon as it ends, before the body is scanned:
 * the sender can be checked before the rest of the message costs anything. `onBody` is called when
 * a child of the root that is no soap:Header starts (the body, with no header before it).
 * Returns the root element's outline.
 */
export function gateXml(
  xml: string,
  limits: GateLimits = DEFAULT_GATE_LIMITS,
  outlineDepth = OUTLINE_DEPTH,
  onHeader?: (header: OutlineElement) => void,
  onBody?: () => void,
): OutlineElement {
  let i = skipDeclaration(xml);
  let depth = 0;
  let root: OutlineElement | undefined;
  let elements = 0;
  // Offset of the open soap:Header's '<' (-1: not in it), and the elements seen inside it.
  let headerStart = -1;
  let headerElements = 0;
  const headerTooLarge = (): BrokerFault =>
    forbidden(`soap:Header larger than ${limits.maxHeaderBytes} bytes (MAX_HEADER_BYTES)`, 'Header');
  const scope: Scope = [];
  // Per outlined level: the open element and the scope length before its declarations.
  const open: OutlineElement[] = [];
  const scopeMarks: number[] = [];
  const outline = (
    lt: number,
    tag: { end: number; nameEnd: number; selfClosing: boolean },
    scopeMark: number,
  ): void => {
    const qname = xml.slice(lt + 1, tag.nameEnd);
    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? '' : qname.slice(0, colon);
    const namespace = resolveNamespace(scope, prefix);
    if (namespace === undefined)
      throw malformed(`namespace prefix '${prefix.slice(0, 60)}' of element ${qname.slice(0, 120)} is not declared`);
    const element: OutlineElement = {
      localName: colon === -1 ? qname : qname.slice(colon + 1),
      namespace,
      contentStart: tag.end,
      contentEnd: tag.end,
      children: [],
      hasText: false,
    };
    if (depth === 0) root = element;
    else open[depth - 1]!.children.push(element);
    if (tag.selfClosing) {
      scope.length = scopeMark;
    } else {
      open[depth] = element;
      scopeMarks[depth] = scopeMark;
    }
  };
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (headerStart !== -1 && (lt === -1 ? xml.length : lt) - headerStart > limits.maxHeaderBytes)
      throw headerTooLarge();
    if (depth <= 2 && (lt === -1 || lt > i) && hasNonSpace(lt === -1 ? xml.slice(i) : xml.slice(i, lt))) {
      if (depth === 0) throw malformed('text outside the root element');
      open[depth - 1]!.hasText = true;
    }
    if (lt === -1) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === BANG) {
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end === -1) throw malformed('unterminated comment');
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        if (depth === 0) throw malformed('CDATA outside the root element');
        const end = xml.indexOf(']]>', lt + 9);
        if (end === -1) throw malformed('unterminated CDATA section');
        if (depth <= 2 && NON_SPACE.test(xml.slice(lt + 9, end))) open[depth - 1]!.hasText = true; // CDATA is literal
        i = end + 3;
      } else {
        throw forbidden('DOCTYPE and other declarations (and so entities) are not allowed');
      }
    } else if (next === QUESTION) {
      throw forbidden('processing instructions are not allowed');
    } else if (next === SLASH) {
      const end = xml.indexOf('>', lt);
      if (end === -1 || --depth < 0) throw malformed('unbalanced end tag');
      if (depth < outlineDepth) {
        open[depth]!.contentEnd = lt;
        scope.length = scopeMarks[depth]!;
      }
      if (depth === 1 && headerStart !== -1) {
        if (end + 1 - headerStart > limits.maxHeaderBytes) throw headerTooLarge();
        headerStart = -1;
        onHeader?.(open[1]!);
      }
      i = end + 1;
    } else {
      if (depth === 0 && root) throw malformed('more than one root element');
      if (depth + 1 > limits.maxDepth) throw forbidden(`elements nested deeper than ${limits.maxDepth}`);
      if (++elements > limits.maxElements)
        throw forbidden(`more than ${limits.maxElements} elements in the message (MAX_ELEMENTS)`);
      if (headerStart !== -1 && ++headerElements > limits.maxHeaderElements)
        throw forbidden(
          `more than ${limits.maxHeaderElements} elements in soap:Header (MAX_HEADER_ELEMENTS)`,
          'Header',
        );
      const outlined = depth < outlineDepth;
      const scopeMark = scope.length;
      const tag = readStartTag(xml, lt, limits, outlined ? scope : null);
      if (outlined) outline(lt, tag, scopeMark);
      if (depth === 1 && outlined) {
        const part = open[0]!.children.at(-1)!;
        if (part.localName === 'Header' && part.namespace === NS.soap11) {
          if (tag.selfClosing) onHeader?.(part);
          else headerStart = lt;
        } else onBody?.();
      }
      if (!tag.selfClosing) depth += 1;
      i = tag.end;
    }
  }
  if (!root) throw malformed('no root element');
  if (depth !== 0) throw malformed('unclosed elements');
  return root;
}
