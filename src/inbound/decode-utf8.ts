import { BrokerFault } from '../infra/errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const charsetOf = (contentType: string | undefined): string | undefined =>
  /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];

/** Whether the Content-Type names UTF-8 or no charset. */
export function isUtf8ContentType(contentType: string | undefined): boolean {
  const charset = charsetOf(contentType)?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * Decodes the body as UTF-8, refusing invalid byte sequences and any other charset named in the
 * Content-Type. A UTF-8 byte-order mark is dropped. (A declared encoding inside the XML is checked by
 * the envelope scan.)
 */
export function decodeUtf8(body: Buffer, contentType: string | undefined): string {
  if (!isUtf8ContentType(contentType)) {
    throw new BrokerFault('DK0009', `Content-Type charset '${charsetOf(contentType)!.slice(0, 40)}' is not UTF-8`);
  }
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new BrokerFault('DK0009', 'body contains bytes that are not valid UTF-8');
  }
}
