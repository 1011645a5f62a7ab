import { NS } from '../infra/catalogue.js';
import { escapeXml } from '../infra/xml/escape.js';
import type { AddressingHeader, EnvelopeSigner } from '../infra/xml/wss-signer.js';

/** WS-Addressing headers of a response: From/To swapped relative to the request (docs/domain.md, section 2). */
export interface ResponseAddressing {
  readonly action: string;
  readonly messageId: string;
  readonly relatesTo?: string | undefined;
  readonly to?: string | undefined;
  readonly fromOin: string;
}

const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

/** The response's wsa headers, in the order they are written. */
function responseHeaders(addressing: ResponseAddressing): AddressingHeader[] {
  return [
    { name: 'Action', value: addressing.action },
    { name: 'MessageID', value: `urn:uuid:${addressing.messageId}` },
    ...(addressing.relatesTo ? [{ name: 'RelatesTo', value: addressing.relatesTo } as const] : []),
    { name: 'To', value: addressing.to ?? ANONYMOUS },
    { name: 'From', value: `${ANONYMOUS}?oin=${addressing.fromOin}` },
  ];
}

/**
 * A SOAP 1.1 envelope with WS-Addressing response headers around the given body content; signed
 * (WS-Security) when a signer is given.
 */
export function responseEnvelope(addressing: ResponseAddressing, body: string, signer?: EnvelopeSigner): string {
  const headers = responseHeaders(addressing);
  if (signer) return signer.envelope(headers, body);
  const header = headers
    .map(({ name, value }) =>
      name === 'From'
        ? `<wsa:From><wsa:Address>${escapeXml(value)}</wsa:Address></wsa:From>`
        : `<wsa:${name}>${escapeXml(value)}</wsa:${name}>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:wsa="${NS.wsa}"><soapenv:Header>${header}</soapenv:Header><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}
