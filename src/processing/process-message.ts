import { randomUUID } from 'node:crypto';
import type { Pool } from '../store/database.js';
import { recordPupilTrace } from '../trace/pupil-trace.js';
import { claimForProcessing, insertOutbound, markProcessed } from '../store/register.repo.js';
import type { MessageHandler } from './handler.js';

export interface ProcessOptions {
  readonly brokerOin: string;
  readonly now?: () => Date;
}

/** What one processing run did: nothing (already processed) or an outcome and the outbound messages queued. */
export interface ProcessResult {
  readonly outcome: string | null;
  readonly outboundIds: readonly number[];
}

/**
 * Processes one accepted message in one transaction: claim it from the outbox, apply its handler's
 * register changes, queue every outbound message it causes, and record the outcome. A crash or a
 * second run changes nothing twice: the claim is the outbox row, deleted in the same transaction.
 */
export async function processMessage(pool: Pool, handlers: ReadonlyMap<string, MessageHandler>, messageId: number, options: ProcessOptions): Promise<ProcessResult> {
  const tx = await pool.connect();
  let failure: Error | undefined;
  try {
    await tx.query('BEGIN');
    const message = await claimForProcessing(tx, messageId);
    if (!message) {
      await tx.query('COMMIT');
      return { outcome: null, outboundIds: [] };
    }
    const handler = handlers.get(message.operation);
    if (!handler) throw new Error(`no handler for ${message.operation}`);
    const result = await handler.handle({ tx, message, brokerOin: options.brokerOin, now: options.now?.() ?? new Date(), newId: randomUUID });
    const outboundIds = await insertOutbound(tx, result.outbound);
    await markProcessed(tx, message.id, result.outcome);
    await recordPupilTrace(tx, message, result.outbound);
    await tx.query('COMMIT');
    return { outcome: result.outcome, outboundIds };
  } catch (error) {
    failure = error as Error;
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    tx.release(failure);
  }
}
