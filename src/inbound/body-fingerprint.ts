import { createHash } from 'node:crypto';
import type { StoredOriginal } from '../store/inbound-messages.repo.js';
import { type SoapEnvelope, storedBodyText } from '../xml/soap-envelope.js';

/**
 * sha256 of the body element's text content without white space: the same message re-indented or
 * re-prefixed has the same fingerprint, so a resubmission can be told from another message reusing
 * its identificatiecode.
 */
export function bodyFingerprint(envelope: Pick<SoapEnvelope, 'bodyText'>): Buffer {
  return createHash('sha256').update(envelope.bodyText().replace(/\s+/g, '')).digest();
}

/**
 * Whether a message whose identificatiecode was stored before is that message sent again (same
 * operation, same body content) rather than another message reusing the identificatiecode. Only
 * duplicates get here, so the original is fingerprinted from its stored text only now.
 */
export function isResubmission(original: StoredOriginal, operation: string, envelope: Pick<SoapEnvelope, 'bodyText'>): boolean {
  if (original.operation !== operation) return false;
  return fingerprintOf(original).equals(bodyFingerprint(envelope));
}

function fingerprintOf(original: StoredOriginal): Buffer {
  return original.bodyFingerprint ?? bodyFingerprint({ bodyText: () => storedBodyText(original.rawXml) });
}
