import { INBOUND_CONTRACTS } from '../infra/catalogue.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import type { ClaimedMessage } from '../store/register.repo.js';
import type { RegisterNeeds, RegisterSession } from './register-session.js';

/** What a handler gets: the claimed message and the batch's register session (its only way to the database). */
export interface HandlerContext {
  readonly register: RegisterSession;
  readonly message: ClaimedMessage;
  readonly brokerOin: string;
  readonly now: Date;
  /** The secret the pupil index is keyed with (a handler that asks the index needs it). */
  readonly traceKey: string;
  /** Fresh UUIDs (injectable so tests can predict them). */
  readonly newId: () => string;
}

/** What building an outbound message needs of the context (also outside a processing transaction). */
export type DraftContext = Pick<HandlerContext, 'message' | 'brokerOin' | 'now' | 'newId'>;

export interface HandlerResult {
  readonly outcome: 'approved' | 'rejected' | 'unchanged' | 'older' | 'identified' | 'not-identified';
  readonly outbound: readonly OutboundDraft[];
}

/**
 * One handler per inbound operation. A batch first parses every message and asks what of the register
 * each needs, loads all of that at once, then handles the messages in order.
 */
export interface MessageHandler<P = unknown> {
  readonly operation: string;
  /** The stored, validated message as typed values. */
  parse(message: ClaimedMessage): P;
  /** What of the register handling this message reads. */
  needs(parsed: P): RegisterNeeds;
  handle(context: HandlerContext, parsed: P): Promise<HandlerResult>;
  /** The sender's feedback when the message cannot be processed at all (it goes to the processing error queue). */
  failureFeedback?(context: DraftContext, parsed: P): readonly OutboundDraft[];
}

/** Handlers by operation; refuses a duplicate and an inbound operation without a handler (start-up check). */
export function handlerRegistry(handlers: readonly MessageHandler[]): ReadonlyMap<string, MessageHandler> {
  const byOperation = new Map<string, MessageHandler>();
  for (const handler of handlers) {
    if (byOperation.has(handler.operation)) throw new Error(`two handlers for ${handler.operation}`);
    byOperation.set(handler.operation, handler);
  }
  const missing = INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => o.name)).filter(
    (name) => !byOperation.has(name),
  );
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')}`);
  return byOperation;
}
