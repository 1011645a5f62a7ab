import { createHash } from 'node:crypto';
import { type BodyValue, type SoapEnvelope, storedBodyValues } from '../infra/xml/soap-envelope.js';
import type { SharedId, StoredOriginal, StoredReceipt } from '../store/inbound-messages.repo.js';

/**
 * sha256 of the body element's text content without white space, as rows stored before migration 007
 * carry it. It cannot tell `<a>Berg</a><b>van</b>` from `<a>Bergvan</a>`, so only those rows are compared by it.
 */
export function bodyFingerprint(bodyText: string): Buffer {
  return createHash('sha256').update(bodyText.replace(/\s+/g, '')).digest();
}

const sameValues = (a: readonly BodyValue[], b: readonly BodyValue[]): boolean =>
  a.length === b.length && a.every(([name, value], i) => b[i]![0] === name && b[i]![1] === value);

/**
 * Whether a message whose identificatiecode or MessageID was stored before is that message sent again
 * (same operation, and element for element the same values once white space is normalised as the
 * types say: prefixes and indentation do not count) rather than another message reusing the id. Only
 * duplicates get here, so the original is read from its stored text only now.
 */
export function isResubmission(
  original: StoredOriginal,
  operation: string,
  envelope: Pick<SoapEnvelope, 'bodyText' | 'bodyValues'>,
): boolean {
  if (original.operation !== operation) return false;
  if (original.bodyFingerprint) return original.bodyFingerprint.equals(bodyFingerprint(envelope.bodyText()));
  return sameValues(storedBodyValues(original.rawXml), envelope.bodyValues());
}

/**
 * The id a message reuses from a stored message with other content, if any: its identificatiecode,
 * or its MessageID (also when the identificatiecode's message is this one resent, but another stored
 * message already carries that MessageID). Undefined for a new message and for a true resubmission.
 */
export function reusedId(
  stored: StoredReceipt,
  operation: string,
  envelope: Pick<SoapEnvelope, 'bodyText' | 'bodyValues'>,
): SharedId | undefined {
  if (!stored.original) return undefined;
  if (!isResubmission(stored.original, operation, envelope)) return stored.original.sharedId;
  return stored.messageIdTakenBy ? 'MessageID' : undefined;
}
