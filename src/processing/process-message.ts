import { randomUUID } from 'node:crypto';
import { inTransaction, type Pool } from '../infra/database.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import { claimDeliveries, type LeaseTerms, type OutboundForDelivery } from '../store/outbound.repo.js';
import { claimForProcessing, outboundForDelivery, writeProcessingResults } from '../store/register.repo.js';
import type { MessageHandler } from './handler.js';
import { type PupilTraceEntry, pupilTraceEntries } from './pupil-trace.js';
import { RegisterSession } from './register-session.js';

export interface ProcessOptions {
  readonly brokerOin: string;
  /** The secret the pupil index hashes PGNs with (resolveTraceKey); every processed message is indexed. */
  readonly traceKey: string;
  readonly now?: () => Date;
  /** Leases first attempts in the processing transaction itself, so delivery starts at commit without a claim of its own. */
  readonly firstAttempts?: FirstAttemptLeases;
}

/** This process's room for delivery attempts, which a processing transaction may take for the messages it queues. */
export interface FirstAttemptLeases {
  readonly terms: LeaseTerms;
  /** Takes room for up to `wanted` attempts; returns how many it got. */
  reserve(wanted: number): number;
  /** Gives back room that was taken and not leased. */
  release(count: number): void;
}

/** A message just queued, as delivery takes it, and whether its first attempt is leased to this process already. */
export interface QueuedForDelivery extends OutboundForDelivery {
  /** Absent: not leased. */
  readonly leased?: boolean;
}

/** What one processing run did: nothing (already processed) or an outcome and the outbound messages queued. */
export interface ProcessResult {
  readonly outcome: string | null;
  /** Committed and pending, with where they go: delivery can start without reading them back. */
  readonly outbound: readonly QueuedForDelivery[];
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
  const leases = new FirstAttemptClaim(options.firstAttempts);
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
    const register = await RegisterSession.open(
      tx,
      work.map(({ handler, parsed }) => handler.needs(parsed)),
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
    const outbound = await writeProcessingResults(tx, {
      ...register.changes(),
      outcomes,
      outbound: drafts,
      pupilTrace,
    });
    const leased = await leases.claim(
      tx,
      outbound.filter((o) => !o.paused).map((o) => o.id),
    );
    return { outcomes, outbound, leased };
  });
  const { outcomes, outbound, leased } = await leases.settle(transaction);
  const outcomeOf = new Map(outcomes.map((o) => [o.messageId, o.outcome]));
  return messageIds.map((id) =>
    outcomeOf.has(id)
      ? {
          outcome: outcomeOf.get(id)!,
          outbound: outbound
            .filter((o) => o.draft.causeMessageId === id)
            .map((o) => ({ ...outboundForDelivery(o), leased: leased.has(o.id) })),
        }
      : ALREADY_PROCESSED,
  );
}

/**
 * The first-attempt leases of one processing transaction: room taken in this process, leases taken in the
 * transaction (claim_deliveries, so the per-institution limit holds across processes), and the room not
 * leased given back once the commit's outcome is known (all of it when the transaction fails).
 */
class FirstAttemptClaim {
  private reserved = 0;
  private leased: number[] = [];

  constructor(private readonly room: FirstAttemptLeases | undefined) {}

  async claim(tx: Parameters<typeof claimDeliveries>[0], ids: readonly number[]): Promise<ReadonlySet<number>> {
    if (!this.room || ids.length === 0) return new Set();
    this.reserved = this.room.reserve(ids.length);
    if (this.reserved === 0) return new Set();
    this.leased = await claimDeliveries(tx, ids, this.reserved, this.room.terms);
    return new Set(this.leased);
  }

  async settle<T>(transaction: Promise<T>): Promise<T> {
    try {
      const result = await transaction;
      this.room?.release(this.reserved - this.leased.length);
      return result;
    } catch (error) {
      this.room?.release(this.reserved);
      throw error;
    }
  }
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
