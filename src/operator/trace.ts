import type { Pool } from '../infra/database.js';
import { maskPersonalNumbers } from '../infra/log.js';
import { maskPgn, pgnsIn } from '../infra/pupil-key.js';
import { listAudit } from '../store/audit.repo.js';
import {
  type DeliveryAttempt,
  findOutboundMessages,
  listDeliveryAttempts,
  type OutboundDetail,
} from '../store/outbound.repo.js';
import { inboundIdsForPupil } from '../store/pupil-trace.repo.js';
import { findInboundForTrace, type InboundTraceRow, inboundIdsConcerningBrin } from '../store/trace.repo.js';

/** One step in a message's life. */
export interface TraceEvent {
  readonly at: Date | null;
  readonly step:
    | 'received'
    | 'validated'
    | 'accepted'
    | 'processed'
    | 'waiting'
    | 'push'
    | 'attempt'
    | 'acknowledged'
    | 'error-queue'
    | 'purged'
    | 'operator';
  readonly detail: string;
  /** The outbound message the step belongs to (pushes, attempts and their end). */
  readonly outboundId?: number;
}

/** An inbound message and everything it caused, in time order. No PGN in full: `pupils` are masked. */
export interface MessageTrace {
  readonly inboundId: number | null;
  readonly contract: string | null;
  readonly operation: string | null;
  readonly senderOin: string | null;
  readonly brin: string | null;
  readonly documentId: string | null;
  readonly outcome: string | null;
  readonly pupils: readonly string[];
  readonly outboundIds: readonly number[];
  readonly events: readonly TraceEvent[];
}

const UUID = /^(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

function inboundEvents(m: InboundTraceRow): TraceEvent[] {
  return [
    {
      at: m.receiptAt,
      step: 'received',
      detail: `request ${m.requestId}: ${m.operation} from ${m.senderOin}${m.brin ? ` for ${m.brin}` : ''}`,
    },
    {
      at: m.receiptAt,
      step: 'validated',
      detail:
        'envelope, XSD and sender checks passed (a message failing them is answered with a fault and never stored)',
    },
    { at: m.receivedAt, step: 'accepted', detail: `committed as message ${m.id}; receipt ${m.receiptId}` },
    m.processedAt
      ? { at: m.processedAt, step: 'processed', detail: `outcome ${m.outcome}` }
      : m.failedAt
        ? {
            at: m.failedAt,
            step: 'error-queue',
            detail: `processing failed (processing error queue): ${m.failure ?? 'no reason recorded'}`,
          }
        : { at: null, step: 'waiting', detail: 'waiting for processing' },
  ];
}

function outboundEvents(o: OutboundDetail, attempts: readonly DeliveryAttempt[]): TraceEvent[] {
  const events: TraceEvent[] = [
    {
      at: o.createdAt,
      step: 'push',
      outboundId: o.id,
      detail: `${o.operation} to ${o.institutionOin}${o.brin ? ` (${o.brin})` : ''}, MessageID ${o.wsaMessageId}`,
    },
  ];
  const intoErrorQueue = (at: Date, reason: string): TraceEvent => ({
    at,
    step: 'error-queue',
    outboundId: o.id,
    detail: reason,
  });
  const endOf = (a: DeliveryAttempt): Date => new Date(a.startedAt.getTime() + a.latencyMs);
  for (const a of attempts) {
    const facts = [
      a.outcome,
      a.httpStatus !== null ? `HTTP ${a.httpStatus}` : null,
      a.faultCode,
      `${a.latencyMs} ms`,
      a.error,
    ].filter((f) => f !== null);
    events.push({
      at: a.startedAt,
      step: 'attempt',
      outboundId: o.id,
      detail: `attempt ${a.attempt}: ${facts.join(', ')}`,
    });
    // A final failure sends the message to the error queue at once; kept in the timeline after a replay too.
    if (a.outcome === 'failed') events.push(intoErrorQueue(endOf(a), a.error ?? 'refused'));
  }
  const last = attempts.at(-1);
  if (o.status === 'delivered')
    events.push({
      at: o.deliveredAt,
      step: 'acknowledged',
      outboundId: o.id,
      detail: 'receipt (ontvangstBevestiging J) from the institution',
    });
  else if (o.status === 'error' && last?.outcome !== 'failed')
    events.push(intoErrorQueue(last ? endOf(last) : o.createdAt, o.lastError ?? 'undeliverable'));
  else if (o.status === 'purged')
    events.push({ at: null, step: 'purged', outboundId: o.id, detail: 'taken out of delivery by an operator' });
  else if (o.status === 'pending')
    events.push({ at: null, step: 'waiting', outboundId: o.id, detail: 'waiting for delivery' });
  return events;
}

/** Events in time order; undated ones (still waiting) last; equal times keep their logical order. */
const byTime = (events: TraceEvent[]): TraceEvent[] =>
  events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => (a.event.at?.getTime() ?? Infinity) - (b.event.at?.getTime() ?? Infinity) || a.index - b.index)
    // Institutions' answers can quote values: keep personal numbers out of the operator's view too.
    .map(({ event }) => ({ ...event, detail: maskPersonalNumbers(event.detail) }));

async function buildTrace(
  pool: Pool,
  inbound: InboundTraceRow | null,
  outbound: readonly OutboundDetail[],
): Promise<MessageTrace> {
  const ids = outbound.map((o) => o.id);
  const [attempts, audits] =
    ids.length === 0
      ? [[], []]
      : await Promise.all([
          listDeliveryAttempts(pool, ids),
          listAudit(pool, { touchingOutbound: ids, limit: 20 * ids.length }),
        ]);
  const operatorEvents: TraceEvent[] = audits
    .filter((a) => !a.dryRun)
    .map((a) => ({ at: a.at, step: 'operator', detail: `${a.action} by ${a.actor} (${a.affected} message(s))` }));
  const events = [
    ...(inbound ? inboundEvents(inbound) : []),
    ...outbound.flatMap((o) =>
      outboundEvents(
        o,
        attempts.filter((a) => a.outboundId === o.id),
      ),
    ),
    ...operatorEvents,
  ];
  return {
    inboundId: inbound?.id ?? null,
    contract: inbound?.contract ?? null,
    operation: inbound?.operation ?? null,
    senderOin: inbound?.senderOin ?? null,
    brin: inbound?.brin ?? outbound[0]?.brin ?? null,
    documentId: inbound?.documentId ?? null,
    outcome: inbound?.outcome ?? null,
    pupils: pgnsIn(inbound?.rawXml ?? '', ...outbound.map((o) => o.bodyXml)).map(maskPgn),
    outboundIds: ids,
    events: byTime(events),
  };
}

async function traceInbound(pool: Pool, inbound: InboundTraceRow): Promise<MessageTrace> {
  return buildTrace(pool, inbound, await findOutboundMessages(pool, { causeMessageId: inbound.id }));
}

/**
 * One message's timeline, found by what an operator has at hand: the inbound message id (`42`), an
 * outbound message id (`o42`), or a UUID — the LAS's identificatiecode or wsa:MessageID, or an
 * outbound message's MessageID or document id. An outbound message is traced with its cause.
 */
export async function traceMessage(pool: Pool, ref: string): Promise<MessageTrace | null> {
  const value = ref.trim();
  let inbound: InboundTraceRow | undefined;
  let outbound: OutboundDetail | undefined;
  if (/^\d{1,15}$/.test(value)) {
    [inbound] = await findInboundForTrace(pool, { id: Number(value) });
  } else if (/^o(?:ut)?-?\d{1,15}$/i.test(value)) {
    [outbound] = await findOutboundMessages(pool, { id: Number(value.replace(/\D/g, '')) });
  } else {
    const uuid = UUID.exec(value)?.[1]?.toLowerCase();
    if (!uuid) return null;
    [inbound] = await findInboundForTrace(pool, { uuid });
    if (!inbound) [outbound] = await findOutboundMessages(pool, { uuid });
  }
  if (inbound) return traceInbound(pool, inbound);
  if (!outbound) return null;
  if (outbound.causeMessageId !== null) {
    const [cause] = await findInboundForTrace(pool, { id: outbound.causeMessageId });
    if (cause) return traceInbound(pool, cause);
  }
  return buildTrace(pool, null, [outbound]);
}

/** How far back (in outbound messages) a BRIN trace looks for pushes other schools' messages caused. */
const PUSH_LOOKBACK = 200_000;

/**
 * The timelines of the newest messages that concern a BRIN, newest first: those the school sent, and
 * those of other schools (or the BRP source) that caused a push to it — a bewijs, a funding status, a
 * mutation — among the last PUSH_LOOKBACK outbound messages.
 */
export async function traceByBrin(pool: Pool, brin: string, limit = 10): Promise<MessageTrace[]> {
  const ids = await inboundIdsConcerningBrin(pool, brin, Math.min(Math.max(limit, 1), 100), PUSH_LOOKBACK);
  if (ids.length === 0) return [];
  return Promise.all((await findInboundForTrace(pool, { ids })).map((row) => traceInbound(pool, row)));
}

/** The timelines of the newest messages about a pupil, found through the keyed-hash index. */
export async function traceByPupil(pool: Pool, traceKey: string, pgn: string, limit = 10): Promise<MessageTrace[]> {
  const ids = await inboundIdsForPupil(pool, traceKey, pgn, Math.min(Math.max(limit, 1), 100));
  if (ids.length === 0) return [];
  return Promise.all((await findInboundForTrace(pool, { ids })).map((row) => traceInbound(pool, row)));
}
