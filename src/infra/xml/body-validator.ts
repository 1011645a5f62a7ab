import { type XmlElement, XmlValidateError, type XsdValidator } from 'libxml2-wasm';
import { BrokerFault } from '../errors.js';

/**
 * A body that fails its schema. The reason is libxml2's text, which quotes the offending value and goes
 * back only to the sender who sent it; `violation` names the kind of failure without any value, for
 * log lines and stored errors.
 */
export class SchemaFault extends BrokerFault {
  constructor(
    reason: string,
    element: string | undefined,
    line: number | undefined,
    readonly violation: string,
  ) {
    super('DK0004', reason, element, line);
  }
}

// libxml2's schema messages by what they say, tried in order; the facet ones name themselves.
const VIOLATIONS: readonly (readonly [RegExp, string])[] = [
  [/\[facet '(\w+)'\]/, '$1'],
  [/is not a valid value of the (?:local )?(?:atomic|list|union) type/, 'type'],
  [/This element is not expected/, 'unexpected element'],
  [/Missing child element/, 'missing element'],
  [/Character content (?:other than whitespace )?is not allowed/, 'text not allowed'],
  [/Element content is not allowed/, 'element content not allowed'],
  [/The attribute '[^']*' is not allowed/, 'attribute not allowed'],
  [/The attribute '[^']*' is required but missing/, 'attribute missing'],
  [/No matching global declaration available/, 'unknown element'],
  [/Duplicate key-sequence/, 'duplicate key'],
  [/identity-constraint/, 'identity constraint'],
  [/is not nillable|nilled/, 'nil'],
];

/** The kind of a libxml2 schema failure, never its value: `pattern`, `length`, `enumeration`, `type`… */
export function violationOf(message: string): string {
  for (const [pattern, name] of VIOLATIONS) {
    const match = pattern.exec(message);
    if (match) return name === '$1' ? match[1]! : name;
  }
  return 'invalid';
}

/** libxml2 says `Element '{ns}local': reason`; the sender wants the local name and the reason. */
function describe(error: XmlValidateError): SchemaFault {
  const detail = error.details[0];
  const message = (detail?.message ?? error.message).trim();
  const match = /^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?: (.*)$/s.exec(message);
  const element = match?.[1];
  const reason = match ? `${match[2] ? `attribute ${match[2]}: ` : ''}${match[3]}` : message;
  return new SchemaFault(
    element ? `element ${element}: ${reason}` : reason,
    element,
    detail?.line,
    violationOf(match?.[3] ?? message),
  );
}

/**
 * Validates the body element of the received document against a compiled contract schema.
 * Throws SchemaFault (DK0004) naming the element and the reason.
 */
export function validateBody(bodyElement: XmlElement, validator: XsdValidator): void {
  try {
    validator.validate(bodyElement);
  } catch (error) {
    if (error instanceof XmlValidateError) throw describe(error);
    throw error;
  }
}
