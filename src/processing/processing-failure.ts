import { randomUUID } from 'node:crypto';
import { inTransaction, type Pool } from '../infra/database.js';
import { maskPersonalNumbers } from '../infra/log.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import { lockWaitingMessage, markProcessingFailed } from '../store/processing-outbox.repo.js';
import { insertQueuedOutbound } from '../store/register.repo.js';
import type { MessageHandler } from './handler.js';

/** A failure of ours or of a service (database, network): the message waits and is processed later. */
export type FailureKind = 'transient' | 'permanent';

// Connection, resource and shutdown errors of PostgreSQL (SQLSTATE classes 08, 53, 57, 58), a
// serialization failure or deadlock (40001, 40P01) and a lock not available (55P03) say nothing about
// the message; other class-40 errors (a deferred constraint failing at commit) may.
const TRANSIENT_SQLSTATE = /^(08|53|57|58)|^(40001|40P01|55P03)$/;
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// node-pg's own errors for a lost or unreachable server carry no code.
const TRANSIENT_PG_CLIENT =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Connection ended|the database system is (starting up|shutting down|in recovery mode)/i;

/** Transient: retry without counting; permanent: the message itself cannot be processed (bad data, a bug). */
export function classifyProcessingFailure(error: unknown): FailureKind {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODES.has(code))) return 'transient';
  if (typeof message === 'string' && TRANSIENT_PG_CLIENT.test(message)) return 'transient';
  return 'permanent';
}

/** The reason an operator reads: the error's kind and text, personal numbers masked, bounded. */
export function failureReason(error: unknown): string {
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  const label = [typeof name === 'string' ? name : 'Error', typeof code === 'string' ? code : undefined]
    .filter(Boolean)
    .join(' ');
  return maskPersonalNumbers(`${label}: ${typeof message === 'string' ? message : String(error)}`).slice(0, 500);
}

/**
 * What a failing job hands BullMQ, which keeps its message (`failedReason`, also in the queue's event
 * stream) and its stack in Redis: the masked reason alone, with no stack of the original (whose text
 * and frames could quote a value), so no personal number reaches Redis.
 */
export function maskedJobFailure(error: unknown): Error {
  const masked = new Error(failureReason(error));
  masked.name = 'ProcessingJobFailure';
  masked.stack = `${masked.name}: ${masked.message}`;
  return masked;
}

/**
 * Moves a message that cannot be processed to the processing error queue, in one transaction with the
 * feedback that tells its sender (signal V0001), when its handler gives one. Nothing happens when the
 * message is no longer waiting. Returns the feedback queued, for delivery.
 */
export async function moveToProcessingErrorQueue(
  pool: Pool,
  handlers: ReadonlyMap<string, MessageHandler>,
  messageId: number,
  reason: string,
  options: { brokerOin: string; now?: () => Date },
): Promise<readonly OutboundForDelivery[]> {
  return inTransaction(pool, async (tx) => {
    const message = await lockWaitingMessage(tx, messageId);
    if (!message) return [];
    let drafts: readonly OutboundDraft[] = [];
    const handler = handlers.get(message.operation);
    try {
      if (handler?.failureFeedback)
        drafts = handler.failureFeedback(
          { message, brokerOin: options.brokerOin, now: options.now?.() ?? new Date(), newId: randomUUID },
          handler.parse(message),
        );
    } catch {
      drafts = []; // a message that cannot even be read gets no feedback; the operator sees it
    }
    await markProcessingFailed(tx, messageId, reason);
    return insertQueuedOutbound(tx, drafts);
  });
}
