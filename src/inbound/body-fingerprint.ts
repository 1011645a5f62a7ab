import { createHash } from 'node:crypto';
import type { SoapEnvelope } from '../xml/soap-envelope.js';

/**
 * sha256 of the body element's text content without white space: the same message re-indented or
 * re-prefixed has the same fingerprint, so a resubmission can be told from another message reusing
 * its identificatiecode.
 */
export function bodyFingerprint(envelope: Pick<SoapEnvelope, 'bodyText'>): Buffer {
  return createHash('sha256').update(envelope.bodyText().replace(/\s+/g, '')).digest();
}
