import { randomUUID } from 'node:crypto';
import { inTransaction, type Pool } from '../infra/database.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import type { OutboundForDelivery } from '../store/outbound.repo.js';
import { commitLeasing, type LeaseTerms } from '../store/outbound.repo.js';
import { loadReferenceData } from '../store/reference.repo.js';
import {
  claimForProcessing,
  outboundForDelivery,
  type QueuedOutbound,
  type Tx,
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
  /** The delivering process that the first attempts of what a batch queues are leased to, with its COMMIT. */
  readonly firstLeases?: FirstAttemptLeases;
}

/** A delivering process's side of leasing first attempts with the processing COMMIT (Deliverer implements it). */
export interface FirstAttemptLeases {
  readonly terms: LeaseTerms;
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
  const work = async (tx: Tx) => {
    const claimed = await claimForProcessing(tx, messageIds);
    const now = options.now?.() ?? new Date();
    const drafts: OutboundDraft[] = [];
    const outcomes: { messageId: number; outcome: string }[] = [];
    const pupilTrace: PupilTraceEntry[] = [];
    const steps = claimed.map((message) => {
      const handler = handlers.get(message.operation);
      if (!handler) throw new Error(`no handler for ${message.operation}`);
      return { message, handler, parsed: handler.parse(message) };
    });
    // Reference data on another connection while the pupils are locked: one round trip off the transaction's path.
    const register = await RegisterSession.open(
      tx,
      steps.map(({ handler, parsed }) => handler.needs(parsed)),
      (vestigingen, onderwijsnummers) => loadReferenceData(pool, vestigingen, onderwijsnummers),
    );
    for (const { message, handler, parsed } of steps) {
      const result = await handler.handle(
        { register, message, brokerOin: options.brokerOin, now, traceKey: options.traceKey, newId: randomUUID },
        parsed,
      );
      drafts.push(...result.outbound);
      outcomes.push({ messageId: message.id, outcome: result.outcome });
      pupilTrace.push(...pupilTraceEntries(options.traceKey, message, result.outbound));
    }
    return {
      outcomes,
      outbound: await writeProcessingResults(tx, { ...register.changes(), outcomes, outbound: drafts, pupilTrace }),
    };
  };
  // The first attempts of what the batch queued are leased with the COMMIT, in its round trip: they start at the commit.
  let reserved = 0;
  let leased = new Set<number>();
  const commit = async (tx: Tx, written: { readonly outbound: readonly QueuedOutbound[] }): Promise<void> => {
    const leases = options.firstLeases;
    const queued = written.outbound
      .filter((o) => !o.paused)
      .map((o) => ({ id: o.id, institutionOin: o.draft.institutionOin }));
    reserved = leases && queued.length > 0 ? leases.reserve(queued.length) : 0;
    leased = new Set(
      await commitLeasing(
        tx,
        leases && reserved > 0 ? { queued: queued.slice(0, reserved), terms: leases.terms } : null,
      ),
    );
  };
  const { outcomes, outbound } = await inTransaction(pool, work, commit).catch((error: unknown) => {
    if (reserved > 0) options.firstLeases?.release(reserved); // rolled back, or its commit unknown: a lease that did commit expires
    throw error;
  });
  if (reserved > leased.size) options.firstLeases?.release(reserved - leased.size);
  const outcomeOf = new Map(outcomes.map((o) => [o.messageId, o.outcome]));
  return messageIds.map((id) =>
    outcomeOf.has(id)
      ? {
          outcome: outcomeOf.get(id)!,
          outbound: outbound
            .filter((o) => o.draft.causeMessageId === id)
            .map((o) => ({ ...outboundForDelivery(o), ...(leased.has(o.id) ? { leasedAtQueue: true } : {}) })),
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
