import { pgnsIn, pupilKey } from '../infra/pupil-key.js';

/** One row of the pupil index: a keyed hash of a PGN and the inbound message that names it. */
export interface PupilTraceEntry {
  readonly pupilKey: Buffer;
  readonly inboundMessageId: number;
}

/**
 * The index rows for a processed message: one per pupil it names, in its own body and in the outbound
 * messages it causes (an assigned onderwijsnummer appears only there), hashed with the broker's trace
 * key. The processing transaction writes them with the outcome, so the index commits with it.
 */
export function pupilTraceEntries(
  traceKey: string,
  message: { readonly id: number; readonly rawXml: string },
  outbound: readonly { readonly bodyXml: string }[] = [],
): PupilTraceEntry[] {
  return pgnsIn(message.rawXml, ...outbound.map((o) => o.bodyXml)).map((pgn) => ({
    pupilKey: pupilKey(traceKey, pgn),
    inboundMessageId: message.id,
  }));
}
