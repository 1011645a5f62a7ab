/** Builds SOAP requests the way a LAS does, and reads the broker's answers. Shared by tests and bench. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import type { AcceptedMessage } from '../../src/store/inbound-messages.repo.js';

export const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');
export const BROKER_OIN = '00000001800866472000';
export const OIN_25BE = '0000000700025BE00000';
/** The population-register source (BRP_SOURCE_OIN's default): the only sender of verwerkenPersoonsmutatie. */
export const BRP_OIN = '00000099000000000100';
export const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

export const CONTRACT_OF: Record<string, string> = {
  aanleverenInschrijvingVO: 'DUO_VOAanlevering_InschrijvingVO_V1',
  aanleverenVerwijderingInschrijvingVO: 'DUO_VOAanlevering_InschrijvingVO_V1',
  aanleverenIdentificerenPersoonVO: 'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1',
  verwerkenPersoonsmutatie: 'DUO_BRP_Persoonsmutaties_V1',
  aanvragenVooropleidingen: 'DUO_MBOAanlevering_Vooropleidingen_V1',
  stoppenAbonnementVooropleidingen: 'DUO_MBOAanlevering_Vooropleidingen_V1',
  aanleverenExamenresultaatVO: 'DUO_VOAanlevering_ExamenresultaatVO_V1',
  aanleverenVerwijderingExamenresultaatVO: 'DUO_VOAanlevering_ExamenresultaatVO_V1',
};

/** Who sends an operation unless a test says otherwise: demo school 25BE, or the BRP source for its mutations. */
export const defaultSenderOin = (operation: string): string =>
  operation === 'verwerkenPersoonsmutatie' ? BRP_OIN : OIN_25BE;

export const actionOf = (operation: string): string => `http://duo.nl/contract/${CONTRACT_OF[operation]}/${operation}`;

/** The operation a fixture file is for: its name up to the first '-'. */
export const operationOfFixture = (file: string): string => path.basename(file, '.xml').split('-')[0]!;

/** A body fixture without its XML declaration, with a fresh identificatiecode unless one is given. */
export function bodyFixture(relative: string, documentId: string = randomUUID()): string {
  const text = fs.readFileSync(path.join(FIXTURES, relative), 'utf8');
  return text.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/00000000-0000-4000-8000-0000000000\d\d/, documentId);
}

export interface EnvelopeOptions {
  action?: string | null;
  messageId?: string | null;
  to?: string | null;
  from?: string | null;
  extraHeaders?: string;
}

/** A SOAP 1.1 envelope with Edukoppeling WS-Addressing headers; null leaves a header out. */
export function envelope(body: string, options: EnvelopeOptions): string {
  const header = (name: string, value: string | null | undefined): string =>
    value === null || value === undefined ? '' : `<wsa:${name}>${value}</wsa:${name}>`;
  const from =
    options.from === null
      ? ''
      : `<wsa:From><wsa:Address>${options.from ?? `${ANONYMOUS}?oin=${OIN_25BE}`}</wsa:Address></wsa:From>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">' +
    '<soapenv:Header>' +
    header('To', options.to === undefined ? `${ANONYMOUS}?oin=${BROKER_OIN}` : options.to) +
    header('Action', options.action) +
    header('MessageID', options.messageId === undefined ? `urn:uuid:${randomUUID()}` : options.messageId) +
    from +
    (options.extraHeaders ?? '') +
    `</soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

/** A complete LAS request for an operation: body, envelope and HTTP SOAPAction. */
export function lasRequest(
  operation: string,
  body: string,
  options: EnvelopeOptions = {},
): { path: string; soapAction: string; xml: string } {
  const action = actionOf(operation);
  return {
    path: `/vo-webservices/${CONTRACT_OF[operation]}`,
    soapAction: `"${action}"`,
    xml: envelope(body, { action, from: `${ANONYMOUS}?oin=${defaultSenderOin(operation)}`, ...options }),
  };
}

/** A message as the accept path stores it, from a body: its operation's contract and default sender, fresh ids. */
export function acceptedMessage(operation: string, body: string): AcceptedMessage {
  return {
    contract: CONTRACT_OF[operation]!,
    operation,
    senderOin: defaultSenderOin(operation),
    brin: elementText(body, 'brin') ?? null,
    documentId: elementText(body, 'identificatiecodeBedrijfsdocument')!,
    documentTime: elementText(body, 'datumTijdBedrijfsdocument')!,
    wsaMessageId: `urn:uuid:${randomUUID()}`,
    requestId: randomUUID(),
    receiptId: randomUUID(),
    receiptAt: new Date(),
    rawXml: lasRequest(operation, body).xml,
  };
}

export interface SoapAnswer {
  status: number;
  text: string;
  faultCode: string | null;
  faultString: string | null;
}

/** POSTs raw bytes to the broker and extracts the fault code when there is one. */
export async function post(
  baseUrl: string,
  pathname: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<SoapAnswer> {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=UTF-8', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    faultCode: /<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(text)?.[1] ?? null,
    faultString: /<faultstring[^>]*>([^<]*)<\/faultstring>/.exec(text)?.[1] ?? null,
  };
}

/** Sends a LAS request built by lasRequest. */
export function send(
  baseUrl: string,
  request: { path: string; soapAction: string; xml: string },
  headers: Record<string, string> = {},
): Promise<SoapAnswer> {
  return post(baseUrl, request.path, request.xml, { soapaction: request.soapAction, ...headers });
}

/** The text of the first element with this local name. */
export function elementText(xml: string, localName: string): string | undefined {
  return new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`).exec(xml)?.[1];
}
