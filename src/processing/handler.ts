import type { ClaimedMessage, OutboundDraft, Tx } from '../store/register.repo.js';
import { INBOUND_CONTRACTS } from '../contracts/catalogue.js';

/** What a handler gets: the claimed message and the processing transaction. */
export interface HandlerContext {
  readonly tx: Tx;
  readonly message: ClaimedMessage;
  readonly brokerOin: string;
  readonly now: Date;
  /** Fresh UUIDs (injectable so tests can predict them). */
  readonly newId: () => string;
}

export interface HandlerResult {
  readonly outcome: 'approved' | 'rejected' | 'unchanged' | 'older' | 'identified' | 'not-identified';
  readonly outbound: readonly OutboundDraft[];
}

/** One handler per inbound operation. */
export interface MessageHandler {
  readonly operation: string;
  handle(context: HandlerContext): Promise<HandlerResult>;
}

/** Handlers by operation; refuses a duplicate and an inbound operation without a handler (start-up check). */
export function handlerRegistry(handlers: readonly MessageHandler[]): ReadonlyMap<string, MessageHandler> {
  const byOperation = new Map<string, MessageHandler>();
  for (const handler of handlers) {
    if (byOperation.has(handler.operation)) throw new Error(`two handlers for ${handler.operation}`);
    byOperation.set(handler.operation, handler);
  }
  const missing = INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => o.name)).filter((name) => !byOperation.has(name));
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')}`);
  return byOperation;
}
