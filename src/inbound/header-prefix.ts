import { BrokerFault } from '../infra/errors.js';
import { type OutlinedHeaderBlock, readHeaderBlocks } from '../infra/xml/soap-envelope.js';
import type { GateLimits } from '../infra/xml/xml-gate.js';

/**
 * soap:Header read from the first bytes of a large body, when they hold it whole (it is at most
 * MAX_HEADER_BYTES): over plain HTTP the sender can then be checked before the rest is read. Undefined
 * when the prefix does not settle it; the whole body is read and judged as any other then. A header
 * limit passed in the prefix is passed for good: that fault is thrown at once.
 */
export function headerBlocksOfPrefix(prefix: Buffer, limits: GateLimits): OutlinedHeaderBlock[] | undefined {
  let text: string;
  try {
    // `stream`: a character cut in two at the prefix's end is no error.
    text = new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true });
  } catch {
    return undefined; // not UTF-8: the whole body's decoding refuses it
  }
  try {
    return readHeaderBlocks(text, limits);
  } catch (error) {
    if (error instanceof BrokerFault && error.code === 'BB0002') throw error;
    return undefined; // perhaps only the cut (an unclosed element): left for the whole body
  }
}
