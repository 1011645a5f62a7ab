import type { XsdValidator } from 'libxml2-wasm';
import { BrokerFault } from '../infra/errors.js';
import { validateBody } from '../infra/xml/body-validator.js';
import type { SoapEnvelope } from '../infra/xml/soap-envelope.js';

/** The bedrijfsdocument fields the broker stores, checked beyond what the XSD can say. */
export interface CheckedDocumentHeader {
  readonly documentId: string;
  /** ISO instant in UTC (a time without offset is taken as UTC). */
  readonly documentTime: string;
  readonly verzendendeInstantie: string;
  readonly ontvangendeInstantie: string;
}

const XS_DATETIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

/** xs:dateTime → UTC instant; years outside 1900–9999 cannot be a real business document time. */
function normaliseDateTime(value: string): string | null {
  const match = XS_DATETIME.exec(value);
  if (!match) return null;
  const year = Number(match[1]);
  if (year < 1900 || year > 9999) return null;
  const millis = Date.parse(
    `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${match[7] ?? 'Z'}`,
  );
  return Number.isFinite(millis) ? new Date(millis).toISOString() : null;
}

/**
 * Every element sent holds a value: a blank one (white space only) passes a schema whose type keeps
 * spaces, or fails it with a pattern message that hides the cause; either way the sender is told plainly.
 */
export function checkNoBlankValues(envelope: SoapEnvelope): void {
  const blank = envelope.firstBlankElement();
  if (blank) {
    throw new BrokerFault(
      'EK0035',
      `element ${blank.localName} has no value (empty or only white space); send a value, or leave an optional element out`,
      blank.localName,
      blank.line,
    );
  }
}

/**
 * `ontvangendeInstantie` must be DUO or this broker, and `datumTijdBedrijfsdocument` a storable
 * instant (the newest stand wins on it later, so it is normalised to UTC here).
 */
export function checkBedrijfsdocument(envelope: SoapEnvelope, brokerOin: string): CheckedDocumentHeader {
  const field = (name: string): string => envelope.bodyFields.get(name) ?? '';
  const ontvangendeInstantie = field('ontvangendeInstantie');
  if (ontvangendeInstantie !== 'DUO' && ontvangendeInstantie !== brokerOin) {
    throw new BrokerFault(
      'DK0004',
      `element ontvangendeInstantie: must be DUO or ${brokerOin}, got '${ontvangendeInstantie}'`,
      'ontvangendeInstantie',
    );
  }
  const documentTime = normaliseDateTime(field('datumTijdBedrijfsdocument'));
  if (!documentTime) {
    throw new BrokerFault(
      'DK0004',
      `element datumTijdBedrijfsdocument: '${field('datumTijdBedrijfsdocument')}' is not a date-time between 1900 and 9999`,
      'datumTijdBedrijfsdocument',
    );
  }
  return {
    documentId: field('identificatiecodeBedrijfsdocument'),
    documentTime,
    verzendendeInstantie: field('verzendendeInstantie'),
    ontvangendeInstantie,
  };
}

/** The body's checks in the order a sender learns of them: every value present, the schema, the bedrijfsdocument. */
export function checkBody(envelope: SoapEnvelope, validator: XsdValidator, brokerOin: string): CheckedDocumentHeader {
  checkNoBlankValues(envelope);
  validateBody(envelope.bodyElement, validator);
  return checkBedrijfsdocument(envelope, brokerOin);
}
