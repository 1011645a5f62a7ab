import type https from 'node:https';
import type { XsdValidator } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../infra/catalogue.js';
import type { Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { observeDeliveryAttempt } from '../infra/metrics/metrics.js';
import { MicroBatcher } from '../infra/micro-batcher.js';
import { withoutCredentials } from '../infra/url-credentials.js';
import type { TrustAnchors } from '../infra/xml/wss-certificates.js';
import type { EnvelopeSigner } from '../infra/xml/wss-signer.js';
import {
  type AttemptRecord,
  claimDeliveries,
  type LeaseTerms,
  loadForDelivery,
  markUndeliverable,
  type OutboundForDelivery,
  recordAttempts,
  releaseLeases,
} from '../store/outbound.repo.js';
import type { AddressGuard } from './address-check.js';
import { LeaseVacuum } from './lease-vacuum.js';
import { OfferedMessages } from './offered-messages.js';
import { classify, type RetryPolicy } from './policy.js';
import { attemptDelivery, outboundEnvelope } from './soap-client.js';

export interface DelivererOptions {
  readonly pool: Pool;
  readonly brokerOin: string;
  readonly validator: XsdValidator;
  /** Timeout of one attempt. */
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
  readonly lease: LeaseTerms;
  /** Attempts under way in this process at once (HTTP exchange and record). */
  readonly maxActive: number;
  /** How often to look in PostgreSQL for due messages (retries, another process's, resumed, replayed). */
  readonly pollMs: number;
  readonly log: Logger;
  /** Called with the seconds from queued to delivered. */
  readonly onDelivered?: (seconds: number) => void;
  /** Mutual TLS to https endpoints: the broker's client certificate and the trusted CAs (absent: Node's defaults). */
  readonly httpsAgent?: https.Agent;
  /** The send-time check of endpoint addresses (absent: any address). */
  readonly addressGuard?: AddressGuard;
  /** Signs every attempt's envelope (WS-Security); absent: unsigned (SIGNING=off). */
  readonly signer?: EnvelopeSigner;
  /** CAs an institution's receipt signature must chain to, for institutions that have it checked (DELIVERY_CA_FILE). */
  readonly receiptTrust?: TrustAnchors;
}

/** Most due messages one poll leases. */
const POLL_BATCH = 64;
/** Claims of offered messages under way at once: a new batch need not wait for the one before. */
const MAX_CLAIMS = 2;
/** How long an institution whose leases were all taken is left out of this process's claims. */
const BUSY_PAUSE_MS = 100;

/**
 * The one delivery path. Every attempt runs under a lease in PostgreSQL (claim_deliveries), which
 * keeps one attempt per message and DELIVERY_PER_INSTITUTION per institution across all processes;
 * the attempt's record sets the message's next state (policy.classify) and frees the lease in one
 * statement. Work arrives two ways, both only wake-ups: messages this process's processing just
 * queued (offered with their rows in hand, leased at once, so the first attempt needs no read back),
 * and a poll of PostgreSQL for whatever is due. An offered message that cannot be leased (its
 * institution is busy) waits in memory for a lease to free here, for at most the hand-off time;
 * then it is the pollers' like any other. A crash anywhere loses nothing: the row stays pending and
 * its lease, if any, expires.
 */
export class Deliverer {
  /** Attempts leased or in an HTTP exchange (DELIVERY_CONCURRENCY counts these). */
  private active = 0;
  /** Attempts answered whose record is not written yet. */
  private recording = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly offered = new OfferedMessages();
  /** Institutions whose leases were all taken at the last claim, until when this process leaves them be. */
  private readonly busy = new Map<string, number>();
  /** Claims of offered messages under way, and the ids they hold. */
  private claims = 0;
  private readonly claiming = new Set<number>();
  private claimAgain = false;
  private claimScheduled = false;
  private polling: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The last poll found due messages: more may be due, so a finished attempt polls again at once. */
  private backlog = false;
  private pollAgain = false;
  private pollingEnabled = false;
  private closed = false;
  // Concurrent attempts share their record: one statement, one commit for many.
  private readonly recorder: MicroBatcher<AttemptRecord, void>;
  private readonly leaseVacuum: LeaseVacuum;

  constructor(private readonly options: DelivererOptions) {
    this.leaseVacuum = new LeaseVacuum(options.pool, options.log);
    this.recorder = new MicroBatcher<AttemptRecord, void>({
      maxBatch: 128,
      maxInFlight: 2,
      run: async (records) => {
        await recordAttempts(options.pool, records, options.lease.owner);
        return records.map(() => undefined);
      },
    });
  }

  /** Starts polling PostgreSQL for due messages. */
  start(): void {
    this.pollingEnabled = true;
    this.pollTimer = setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    this.pollTimer = undefined;
    this.polling = this.pollOnce().finally(() => {
      this.polling = undefined;
      if (this.closed) return;
      // The poll held the room it might use: offered messages that found none meanwhile get it now.
      if (this.offered.size > 0) this.claimOffered();
      if (this.pollAgain) {
        this.pollAgain = false;
        this.tick();
        return;
      }
      this.pollTimer = setTimeout(() => this.tick(), this.options.pollMs);
    });
  }

  /** Polls now, or right after the poll under way: an attempt freed room while due messages wait. */
  private pollSoon(): void {
    if (this.closed || !this.pollingEnabled) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.tick();
  }

  /**
   * How a processing transaction leases first attempts to this process (ProcessOptions.firstLeases):
   * it reserves room here, leases at most that many with its COMMIT, releases what it did not lease,
   * and hands what it leased back through offer.
   */
  firstAttemptLeases() {
    return {
      terms: this.options.lease,
      reserve: (wanted: number): number => {
        if (this.closed) return 0;
        const got = Math.max(0, Math.min(wanted, this.room()));
        this.active += got;
        return got;
      },
      release: (count: number): void => {
        this.active -= count;
      },
    };
  }

  /**
   * Messages a processing transaction of this process just committed: those it leased here are
   * attempted at once; the others are attempted now if their leases can be had.
   */
  offer(messages: readonly OutboundForDelivery[]): void {
    const leased = messages.filter((message) => message.leasedAtQueue);
    if (this.closed) {
      this.active -= leased.length;
      const ids = leased.map((message) => message.id);
      void releaseLeases(this.options.pool, ids, this.options.lease.owner).catch(() => undefined);
      return;
    }
    const now = Date.now();
    for (const message of leased) this.run(message, now);
    for (const message of messages) {
      if (!message.paused && !message.leasedAtQueue) this.offered.add(message, now);
    }
    if (leased.length === messages.length) return;
    // A processing transaction hands its messages on one by one in the same turn: one claim for all.
    if (this.claimScheduled) return;
    this.claimScheduled = true;
    setImmediate(() => {
      this.claimScheduled = false;
      this.claimOffered();
    });
  }

  /** Stops taking work and waits for the attempts under way (their records included). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    this.offered.clear();
    await this.polling;
    while (this.running.size > 0) await Promise.all([...this.running]);
    await this.leaseVacuum.idle();
  }

  /**
   * Room for more attempts: HTTP exchanges count until the answer is in, and with their records until
   * those are written at most twice as many (a slow database slows delivery down, not piles it up).
   */
  private room(): number {
    return Math.min(this.options.maxActive - this.active, 2 * this.options.maxActive - this.active - this.recording);
  }

  /**
   * Leases offered messages, oldest first within each institution and institutions in turn, one claim
   * at a time (calls meanwhile join the next). An institution whose leases were all taken is left out
   * for a moment, or until an attempt of this process frees one of its leases: asking again at once
   * would only cost PostgreSQL a refusal.
   */
  private claimOffered(): void {
    if (this.claims >= MAX_CLAIMS) {
      this.claimAgain = true;
      return;
    }
    const now = Date.now();
    const ids = this.offered.pick({
      room: this.room(),
      perInstitution: this.options.lease.perInstitution,
      expiredAt: now - this.options.lease.handoffMs,
      claiming: this.claiming,
      busy: (oin) => (this.busy.get(oin) ?? 0) > now,
    });
    if (ids.length === 0 || this.closed) return;
    this.claims += 1;
    for (const id of ids) this.claiming.add(id);
    this.active += ids.length; // room held while the claim runs
    claimDeliveries(this.options.pool, ids, ids.length, this.options.lease)
      .then(
        (leased) => {
          const granted = new Set(leased);
          for (const id of ids) {
            const entry = this.offered.get(id);
            if (granted.has(id) && entry) {
              this.offered.delete(id);
              this.run(entry.message, entry.queuedAt);
            } else {
              this.active -= 1;
              if (!entry)
                void releaseLeases(this.options.pool, granted.has(id) ? [id] : [], this.options.lease.owner).catch(
                  () => undefined,
                ); // dropped meanwhile (close)
              else this.busy.set(entry.message.institutionOin, Date.now() + BUSY_PAUSE_MS);
            }
          }
        },
        (error: Error) => {
          this.active -= ids.length;
          this.options.log.warn('delivery claim failed; the message stays pending for a poller', {
            count: ids.length,
            error: error.message,
          });
        },
      )
      .finally(() => {
        this.claims -= 1;
        for (const id of ids) this.claiming.delete(id);
        if (this.claimAgain) {
          this.claimAgain = false;
          this.claimOffered();
        }
      });
  }

  /** Leases and starts due messages while there is room, a batch at a time, then waits for the next tick. */
  private async pollOnce(): Promise<void> {
    for (let rounds = 0; rounds < 20 && !this.closed; rounds++) {
      const limit = Math.min(this.room(), POLL_BATCH);
      if (limit <= 0) return;
      this.active += limit;
      let started = 0;
      try {
        const ids = await claimDeliveries(this.options.pool, null, limit, this.options.lease);
        if (ids.length > 0) {
          for (const message of await this.loadLeased(ids)) {
            if (!message) continue;
            this.offered.delete(message.id); // attempted here now: its offer must not lease it again
            started += 1;
            this.run(message, message.createdAt.getTime());
          }
        }
        this.active -= limit - started;
        // Found work: more may be due (a batch holds a few per institution), so a finished attempt polls again at once.
        this.backlog = ids.length > 0;
        if (ids.length < limit) return;
      } catch (error) {
        this.active -= limit - started;
        this.backlog = false;
        this.options.log.warn('delivery poll failed; will poll again', { error: (error as Error).message });
        return;
      }
    }
  }

  /** Reads leased messages; when they cannot be read (database, a data key this process lacks) their leases go back at once, so another process need not wait for them to expire. */
  private async loadLeased(ids: readonly number[]): Promise<(OutboundForDelivery | null)[]> {
    try {
      return await loadForDelivery(this.options.pool, ids);
    } catch (error) {
      await releaseLeases(this.options.pool, ids, this.options.lease.owner).catch(() => undefined);
      throw error;
    }
  }

  /** Runs one leased message's attempt; the room it holds frees when its record is written. */
  private run(message: OutboundForDelivery, queuedAt: number): void {
    let exchanging = true;
    const answered = (): void => {
      if (!exchanging) return;
      exchanging = false;
      this.active -= 1;
      this.recording += 1;
      if (this.offered.size > 0) this.claimOffered();
    };
    const run = this.attempt(message, queuedAt, answered).finally(() => {
      answered();
      this.recording -= 1;
      this.running.delete(run);
      this.busy.delete(message.institutionOin); // one of its leases is free now
      if (this.offered.size > 0) this.claimOffered();
      else if (this.backlog) this.pollSoon();
    });
    this.running.add(run);
  }

  /** One attempt; `answered` is called once the institution has answered (or the attempt failed), before the record. */
  private async attempt(message: OutboundForDelivery, queuedAt: number, answered: () => void): Promise<void> {
    const { log, lease } = this.options;
    try {
      if (!message.endpointUrl) {
        await markUndeliverable(this.options.pool, message.id, 'institution has no endpoint registered', lease.owner);
        log.warn('outbound message moved to the error queue: its institution has no endpoint', {
          outboundId: message.id,
          institution: message.institutionOin,
        });
        return;
      }
      const attemptNumber = message.attempts + 1;
      const startedAt = new Date();
      const action = `http://duo.nl/contract/${OUTBOUND_CONTRACT.name}/${message.operation}`;
      const envelope = outboundEnvelope(
        message.bodyXml,
        message.operation,
        message.wsaMessageId,
        message.institutionOin,
        this.options.brokerOin,
        this.options.signer,
      );
      const outcome = await attemptDelivery(
        message.endpointUrl,
        envelope,
        action,
        this.options.timeoutMs,
        this.options.validator,
        message.wsaMessageId,
        this.options.httpsAgent,
        this.options.addressGuard,
        message.verifyReceiptSignature
          ? { institutionOin: message.institutionOin, trust: this.options.receiptTrust }
          : undefined,
      );
      answered();
      const latencyMs = Date.now() - startedAt.getTime();
      const verdict = classify(outcome, attemptNumber, this.options.policy);
      await this.recorder.submit({
        outboundId: message.id,
        startedAt,
        endpoint: withoutCredentials(message.endpointUrl),
        latencyMs,
        outcome: outcome.kind,
        status: verdict.status,
        ...(verdict.status === 'pending' ? { nextAttemptAt: verdict.nextAttemptAt } : {}),
        ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
        ...(outcome.kind !== 'delivered'
          ? { error: outcome.error, ...(outcome.faultCode ? { faultCode: outcome.faultCode } : {}) }
          : {}),
      });
      this.leaseVacuum.freed(message.institutionOin);
      observeDeliveryAttempt(message.institutionOin, outcome.kind, latencyMs);
      if (verdict.status === 'delivered') {
        this.options.onDelivered?.((Date.now() - queuedAt) / 1000);
        return;
      }
      const failed = {
        outboundId: message.id,
        institution: message.institutionOin,
        attempt: attemptNumber,
        outcome: outcome.kind,
        error: outcome.kind === 'delivered' ? undefined : outcome.error,
      };
      // An operator must see the moment a message needs them: entering the error queue is its own line, at error level.
      if (verdict.status === 'pending')
        log.warn('delivery attempt failed; will retry', {
          ...failed,
          next: `retry at ${verdict.nextAttemptAt.toISOString()}`,
        });
      else log.error('delivery failed; the message is in the error queue', failed);
    } catch (error) {
      // Our failure, not the institution's: no attempt is counted; the lease expires and it is tried again.
      log.warn('delivery attempt not recorded; the message is attempted again when its lease expires', {
        outboundId: message.id,
        error: (error as Error).message,
      });
    }
  }
}
