import { type XmlElement, XmlValidateError, type XsdValidator } from 'libxml2-wasm';
import { BrokerFault } from '../errors.js';

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
 * Validates the body element of the received document against a compiled contract schema.
 * Throws BrokerFault DK0004 naming the element and the reason.
 */
export function validateBody(bodyElement: XmlElement, validator: XsdValidator): void {
  try {
    validator.validate(bodyElement);
  } catch (error) {
    if (error instanceof XmlValidateError) throw describe(error);
    throw error;
  }
}
