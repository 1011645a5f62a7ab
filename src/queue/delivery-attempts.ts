import type { XsdValidator } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../contracts/catalogue.js';
import type { Logger } from '../log.js';
import { observeDeliveryAttempt } from '../metrics/metrics.js';
import { type AttemptOutcome, attemptDelivery, outboundEnvelope } from '../outbound/soap-client.js';
import type { Pool } from '../store/database.js';
import { MicroBatcher } from '../store/micro-batcher.js';
import { type AttemptRecord, type OutboundForDelivery, recordAttempts } from '../store/outbound.repo.js';

export interface DeliveryAttemptsOptions {
  readonly pool: Pool;
  readonly brokerOin: string;
  readonly validator: XsdValidator;
  readonly timeoutMs: number;
  /** Attempts to one institution running at once, over both delivery paths of the process. */
  readonly perInstitution: number;
  readonly log: Logger;
}

type RecordedAttempt = AttemptRecord & { readonly status: 'delivered' | 'error' | 'pending' };

/**
 * Single attempts at delivering an outbound message, and the per-institution slots they run in. Both
 * delivery paths (direct after processing, BullMQ jobs for the rest) use one instance, so a hung
 * institution holds at most `perInstitution` attempts of the process, whichever path started them.
 */
export class DeliveryAttempts {
  private readonly inFlight = new Map<string, number>();
  private readonly attempting = new Set<number>();
  /** Messages direct delivery holds in memory, waiting for a slot: a job for one steps aside as well. */
  private readonly held = new Set<number>();
  private readonly slotFreed: (() => void)[] = [];
  // Concurrent attempts share their record: one statement, one commit for many.
  private readonly recorder: MicroBatcher<RecordedAttempt, void>;

  constructor(private readonly options: DeliveryAttemptsOptions) {
    this.recorder = new MicroBatcher<RecordedAttempt, void>({
      maxBatch: 128, maxInFlight: 2, run: async (attempts) => { await recordAttempts(options.pool, attempts); return attempts.map(() => undefined); },
    });
  }

  /**
   * Takes one of the message's institution's slots and returns its release (safe to call more than
   * once); undefined when all are busy, or when an attempt at this very message is under way or held
   * (a job a sweeper or resume added while its direct attempt waits or runs must not run beside it).
   * A slot stands for an HTTP exchange with the institution: `attempt` releases it when the answer is
   * in, before the attempt is recorded; the caller releases it in any case when done.
   */
  reserve(message: { readonly id: number; readonly institutionOin: string }): (() => void) | undefined {
    const busy = this.inFlight.get(message.institutionOin) ?? 0;
    if (busy >= this.options.perInstitution || this.attempting.has(message.id) || this.held.has(message.id)) return undefined;
    this.inFlight.set(message.institutionOin, busy + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(message.institutionOin);
    };
  }

  /** Marks a message as waiting in memory for a slot (true) or no longer (false). */
  hold(messageId: number, held: boolean): void {
    if (held) this.held.add(messageId);
    else this.held.delete(messageId);
  }

  private release(institutionOin: string): void {
    const busy = (this.inFlight.get(institutionOin) ?? 1) - 1;
    if (busy > 0) this.inFlight.set(institutionOin, busy);
    else this.inFlight.delete(institutionOin);
    for (const listener of this.slotFreed) {
      try {
        listener();
      } catch (error) {
        // The caller is a delivery's `finally`: a listener's failure must not become that delivery's.
        this.options.log.warn('slot listener failed', { error: (error as Error).message });
      }
    }
  }

  /** Calls `listener` each time a slot is released (direct delivery starts what waited for it). */
  whenSlotFreed(listener: () => void): void {
    this.slotFreed.push(listener);
  }

  /**
   * One attempt in the institution's slot that `releaseSlot` (from `reserve`, or a wrapper of it) frees
   * as soon as the institution has answered or the attempt has failed, so the next message's HTTP
   * exchange need not wait for this one's record. Recorded in PostgreSQL before it returns: delivered,
   * or still pending, or in the error queue when the failure is final or `last` is set; until then the
   * message counts as under way, so no job attempts it beside. Rejects only when the record could not
   * be written.
   */
  async attempt(message: OutboundForDelivery & { readonly endpointUrl: string }, attemptNumber: number, last: boolean, releaseSlot: () => void): Promise<AttemptOutcome> {
    const startedAt = new Date();
    const action = `http://duo.nl/contract/${OUTBOUND_CONTRACT.name}/${message.operation}`;
    const envelope = outboundEnvelope(message.bodyXml, message.operation, message.wsaMessageId, message.institutionOin, this.options.brokerOin);
    this.attempting.add(message.id);
    let outcome: AttemptOutcome;
    let latencyMs: number;
    try {
      try {
        outcome = await attemptDelivery(message.endpointUrl, envelope, action, this.options.timeoutMs, this.options.validator, message.wsaMessageId);
      } finally {
        releaseSlot();
      }
      latencyMs = Date.now() - startedAt.getTime();
      const status = outcome.kind === 'delivered' ? 'delivered' : outcome.kind === 'failed' || last ? 'error' : 'pending';
      await this.recorder.submit({
        status, outboundId: message.id, startedAt, endpoint: message.endpointUrl, latencyMs, outcome: outcome.kind,
        ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
        ...(outcome.kind !== 'delivered' ? { error: outcome.error, ...(outcome.faultCode ? { faultCode: outcome.faultCode } : {}) } : {}),
      });
    } finally {
      this.attempting.delete(message.id);
    }
    observeDeliveryAttempt(message.institutionOin, outcome.kind, latencyMs);
    if (outcome.kind !== 'delivered') {
      this.options.log.warn('delivery attempt failed', { outboundId: message.id, institution: message.institutionOin, attempt: attemptNumber, outcome: outcome.kind, error: outcome.error });
    }
    return outcome;
  }
}
