import { randomUUID } from 'node:crypto';
import { inTransaction, type Pool } from '../infra/database.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import { loadReferenceData } from '../store/reference.repo.js';
import {
  claimForProcessing,
  type FirstLeaseTerms,
  outboundForDelivery,
  writeProcessingResults,
} from '../store/register.repo.js';
import type { MessageHandler } from './handler.js';
import { type PupilTraceEntry, pupilTraceEntries } from './pupil-trace.js';
import { RegisterSession } from './register-session.js';

export interface ProcessOptions {
  readonly brokerOin: string;
  /** The secret the pupil index hashes PGNs with (resolveTraceKey); every processed message is indexed. */
  readonly traceKey: string;
  readonly now?: () => Date;
  /** The delivering process that leases the first attempts of what a batch queues, in its write. */
  readonly firstLeases?: FirstAttemptLeases;
}

/** A delivering process's side of leasing first attempts in the processing write (Deliverer implements it). */
export interface FirstAttemptLeases {
  readonly terms: Omit<FirstLeaseTerms, 'most'>;
  /** Takes room for up to `wanted` attempts in that process; returns how many it got. */
  reserve(wanted: number): number;
  /** Gives back room reserved and not leased. */
  release(count: number): void;
}

/** What one processing run did: nothing (already processed) or an outcome and the outbound messages queued. */
export interface ProcessResult {
  readonly outcome: string | null;
  /** Committed and pending, with where they go: delivery can start without reading them back. */
  readonly outbound: readonly OutboundForDelivery[];
}

const ALREADY_PROCESSED: ProcessResult = { outcome: null, outbound: [] };

/**
 * Processes accepted messages in one transaction: claim them from the outbox, apply each handler's
 * register changes in message order (a later message sees an earlier one's changes), queue every
 * outbound message they cause, and record the outcomes. A crash or a second run changes nothing
 * twice: the claim is the outbox row, deleted in the same transaction. Results are in `messageIds` order.
 */
export async function processBatch(
  pool: Pool,
  handlers: ReadonlyMap<string, MessageHandler>,
  messageIds: readonly number[],
  options: ProcessOptions,
): Promise<ProcessResult[]> {
  let reserved = 0;
  const transaction = inTransaction(pool, async (tx) => {
    const claimed = await claimForProcessing(tx, messageIds);
    const now = options.now?.() ?? new Date();
    const drafts: OutboundDraft[] = [];
    const outcomes: { messageId: number; outcome: string }[] = [];
    const pupilTrace: PupilTraceEntry[] = [];
    const work = claimed.map((message) => {
      const handler = handlers.get(message.operation);
      if (!handler) throw new Error(`no handler for ${message.operation}`);
      return { message, handler, parsed: handler.parse(message) };
    });
    // Reference data on another connection while the pupils are locked: one round trip off the transaction's path.
    const register = await RegisterSession.open(
      tx,
      work.map(({ handler, parsed }) => handler.needs(parsed)),
      (vestigingen, onderwijsnummers) => loadReferenceData(pool, vestigingen, onderwijsnummers),
    );
    for (const { message, handler, parsed } of work) {
      const result = await handler.handle(
        { register, message, brokerOin: options.brokerOin, now, traceKey: options.traceKey, newId: randomUUID },
        parsed,
      );
      drafts.push(...result.outbound);
      outcomes.push({ messageId: message.id, outcome: result.outcome });
      pupilTrace.push(...pupilTraceEntries(options.traceKey, message, result.outbound));
    }
    // First attempts leased in the write itself: delivery starts at the commit, with no claim round trip.
    const leases = options.firstLeases;
    reserved = leases && drafts.length > 0 ? leases.reserve(drafts.length) : 0;
    const firstLeases = leases && reserved > 0 ? { ...leases.terms, most: reserved } : undefined;
    return {
      outcomes,
      outbound: await writeProcessingResults(tx, {
        ...register.changes(),
        outcomes,
        outbound: drafts,
        pupilTrace,
        ...(firstLeases ? { firstLeases } : {}),
      }),
    };
  });
  const { outcomes, outbound } = await transaction.catch((error: unknown) => {
    options.firstLeases?.release(reserved); // rolled back, or its commit unknown: a lease that did commit expires
    throw error;
  });
  options.firstLeases?.release(reserved - outbound.filter((o) => o.leased).length);
  const outcomeOf = new Map(outcomes.map((o) => [o.messageId, o.outcome]));
  return messageIds.map((id) =>
    outcomeOf.has(id)
      ? {
          outcome: outcomeOf.get(id)!,
          outbound: outbound.filter((o) => o.draft.causeMessageId === id).map(outboundForDelivery),
        }
      : ALREADY_PROCESSED,
  );
}

/** Processes one accepted message (see processBatch). */
export async function processMessage(
  pool: Pool,
  handlers: ReadonlyMap<string, MessageHandler>,
  messageId: number,
  options: ProcessOptions,
): Promise<ProcessResult> {
  return (await processBatch(pool, handlers, [messageId], options))[0]!;
}
