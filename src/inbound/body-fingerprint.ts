import { createHash } from 'node:crypto';
import type { XmlElement } from 'libxml2-wasm';

/**
 * sha256 of the body element's text content without white space: the same message re-indented or
 * re-prefixed has the same fingerprint, so a resubmission can be told from another message reusing
 * its identificatiecode.
 */
export function bodyFingerprint(bodyElement: XmlElement): Buffer {
  return createHash('sha256').update(bodyElement.content.replace(/\s+/g, '')).digest();
}
