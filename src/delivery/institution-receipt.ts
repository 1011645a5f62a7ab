import { randomUUID } from 'node:crypto';
import { NS, OUTBOUND_CONTRACT } from '../infra/catalogue.js';
import { escapeXml } from '../infra/xml/escape.js';
import type { EnvelopeSigner } from '../infra/xml/wss-signer.js';

/** The request's elements a receipt echoes, compiled once (a receiver answers every message with one). */
const PICKED = new Map(
  ['ontvangendeInstantie', 'verzendendeInstantie', 'Action', 'MessageID'].map((name) => [
    name,
    // Attributes allowed: a signed message's headers carry wsu:Id.
    new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${name}>`),
  ]),
);

/**
 * What a well-behaved institution endpoint answers to one of the broker's messages: the operation's
 * `_Response` with a new bedrijfsdocument (instanties swapped) and ontvangstBevestiging `J`, related to
 * the request's wsa:MessageID; signed with the institution's key when a signer is given. Used by the
 * built-in demo receiver and by tests that play institutions.
 */
export function institutionReceipt(requestXml: string, signer?: EnvelopeSigner): string {
  const pick = (name: string): string => PICKED.get(name)!.exec(requestXml)?.[1] ?? '';
  const operation = /<(?:[\w.-]+:)?(\w+)_Request[\s>]/.exec(requestXml)?.[1] ?? 'terugkoppelenInschrijvingVO';
  const ns = OUTBOUND_CONTRACT.schemaNamespace;
  const el = (name: string, value: string): string => `<t:${name}>${escapeXml(value)}</t:${name}>`;
  const body =
    `<t:${operation}_Response xmlns:t="${ns}">${el('identificatiecodeBedrijfsdocument', randomUUID())}` +
    `${el('verzendendeInstantie', pick('ontvangendeInstantie'))}${el('ontvangendeInstantie', pick('verzendendeInstantie'))}` +
    `${el('datumTijdBedrijfsdocument', new Date().toISOString())}${el('ontvangstBevestiging', 'J')}</t:${operation}_Response>`;
  if (signer) {
    return signer.envelope(
      [
        { name: 'Action', value: pick('Action') },
        { name: 'MessageID', value: `urn:uuid:${randomUUID()}` },
        { name: 'RelatesTo', value: pick('MessageID') },
      ],
      body,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:wsa="${NS.wsa}"><soapenv:Header>` +
    `<wsa:Action>${escapeXml(pick('Action'))}</wsa:Action><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:RelatesTo>${escapeXml(pick('MessageID'))}</wsa:RelatesTo></soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}
