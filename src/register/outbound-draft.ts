/** A message for an institution that handling an inbound message (or a quality run) causes, before it is queued. */
export interface OutboundDraft {
  readonly institutionOin: string;
  /** The BRIN it concerns; null when its cause named none (an identification sent without a BRIN). */
  readonly brin: string | null;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly documentId: string;
  readonly bodyXml: string;
  /** The inbound message that caused it; null for one no message caused (a quality report). */
  readonly causeMessageId: number | null;
}
