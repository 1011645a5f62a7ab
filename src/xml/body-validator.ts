import { ParseOption, XmlDocument, XmlElement, XmlValidateError, type XsdValidator } from 'libxml2-wasm';
import { BrokerFault } from '../errors.js';
import { NS } from '../contracts/catalogue.js';

// The gate has already refused DTDs; these keep libxml2 off the network and external entities anyway.
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

function firstElementChild(element: XmlElement): XmlElement | null {
  for (let node = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) return node;
  }
  return null;
}

function findBodyChild(doc: XmlDocument): XmlElement | null {
  for (let node = doc.root.firstChild; node; node = node.next) {
    if (node instanceof XmlElement && node.name === 'Body' && node.namespaceUri === NS.soap11) {
      return firstElementChild(node);
    }
  }
  return null;
}

/** libxml2 says `Element '{ns}local': reason`; the sender wants the local name and the reason. */
function describe(error: XmlValidateError): BrokerFault {
  const detail = error.details[0];
  const message = (detail?.message ?? error.message).trim();
  const match = /^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?: (.*)$/s.exec(message);
  const element = match?.[1];
  const reason = match ? `${match[2] ? `attribute ${match[2]}: ` : ''}${match[3]}` : message;
  return new BrokerFault('DK0004', element ? `element ${element}: ${reason}` : reason, element, detail?.line);
}

/**
 * Validates the one child of soap:Body of the exact bytes the broker will store, against a compiled
 * contract schema. Throws BrokerFault DK0004 naming the element and the reason.
 * Takes bytes, not a string: handing libxml2 a JS string costs a UTF-8 re-encoding per request.
 */
export function validateBody(xml: Uint8Array, validator: XsdValidator): void {
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(xml, { option: PARSE_OPTIONS, encoding: 'UTF-8' });
  } catch (error) {
    // The gate's parser accepted it, so this is a construct only libxml2 refuses.
    throw new BrokerFault('BB0003', `XML not well-formed: ${String((error as Error).message).trim()}`);
  }
  try {
    const body = findBodyChild(doc);
    if (!body) throw new BrokerFault('DK0004', 'soap:Body holds no element');
    validator.validate(body);
  } catch (error) {
    if (error instanceof XmlValidateError) throw describe(error);
    throw error;
  } finally {
    doc.dispose();
  }
}
