import { BrokerFault } from '../infra/errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes the body as UTF-8, refusing invalid byte sequences and any other charset named in the
 * Content-Type. A UTF-8 byte-order mark is dropped. (A declared encoding inside the XML is checked by
 * the envelope scan.)
 */
export function decodeUtf8(body: Buffer, contentType: string | undefined): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw new BrokerFault('DK0009', `Content-Type charset '${charset.slice(0, 40)}' is not UTF-8`);
  }
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new BrokerFault('DK0009', 'body contains bytes that are not valid UTF-8');
  }
}
