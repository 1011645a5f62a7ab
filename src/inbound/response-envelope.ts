import { NS } from '../shared/catalogue.js';
import { escapeXml } from '../shared/xml/escape.js';

/** WS-Addressing headers of a response: From/To swapped relative to the request (docs/domain.md, section 2). */
export interface ResponseAddressing {
  readonly action: string;
  readonly messageId: string;
  readonly relatesTo?: string;
  readonly to?: string;
  readonly fromOin: string;
}

const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

/** A SOAP 1.1 envelope with WS-Addressing response headers around the given body content. */
export function responseEnvelope(addressing: ResponseAddressing, body: string): string {
  const header = [
    `<wsa:Action>${escapeXml(addressing.action)}</wsa:Action>`,
    `<wsa:MessageID>urn:uuid:${addressing.messageId}</wsa:MessageID>`,
    addressing.relatesTo ? `<wsa:RelatesTo>${escapeXml(addressing.relatesTo)}</wsa:RelatesTo>` : '',
    `<wsa:To>${escapeXml(addressing.to ?? ANONYMOUS)}</wsa:To>`,
    `<wsa:From><wsa:Address>${ANONYMOUS}?oin=${addressing.fromOin}</wsa:Address></wsa:From>`,
  ].join('');
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:wsa="${NS.wsa}"><soapenv:Header>${header}</soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}
