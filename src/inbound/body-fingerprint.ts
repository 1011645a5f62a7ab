import { createHash } from 'node:crypto';
import type { SharedId, StoredOriginal, StoredReceipt } from '../store/inbound-messages.repo.js';
import { type SoapEnvelope, storedBodyText } from '../xml/soap-envelope.js';

/**
 * sha256 of the body element's text content without white space: the same message re-indented or
 * re-prefixed has the same fingerprint, so a resubmission can be told from another message reusing
 * its identificatiecode.
 */
export function bodyFingerprint(bodyText: string): Buffer {
  return createHash('sha256').update(bodyText.replace(/\s+/g, '')).digest();
}

/**
 * Whether a message whose identificatiecode was stored before is that message sent again (same
 * operation, same body content) rather than another message reusing the identificatiecode. Only
 * duplicates get here, so the original is fingerprinted from its stored text only now.
 */
export function isResubmission(original: StoredOriginal, operation: string, envelope: Pick<SoapEnvelope, 'bodyText'>): boolean {
  if (original.operation !== operation) return false;
  const stored = original.bodyFingerprint ?? bodyFingerprint(storedBodyText(original.rawXml));
  return stored.equals(bodyFingerprint(envelope.bodyText()));
}

/**
 * The id a message reuses from a stored message with other content, if any: its identificatiecode,
 * or its MessageID (also when the identificatiecode's message is this one resent, but another stored
 * message already carries that MessageID). Undefined for a new message and for a true resubmission.
 */
export function reusedId(stored: StoredReceipt, operation: string, envelope: Pick<SoapEnvelope, 'bodyText'>): SharedId | undefined {
  if (!stored.original) return undefined;
  if (!isResubmission(stored.original, operation, envelope)) return stored.original.sharedId;
  return stored.messageIdTakenBy ? 'MessageID' : undefined;
}
