import { maskPersonalNumbers } from '../shared/log.js';
import type { Pool } from '../shared/database.js';
import { maskPgn, pgnsIn } from '../shared/pupil-key.js';
import { inboundIdsForPupil } from '../store/pupil-trace.repo.js';
import { listAudit } from './audit.js';

/** One step in a message's life. */
export interface TraceEvent {
  readonly at: Date | null;
  readonly step: 'received' | 'validated' | 'accepted' | 'processed' | 'waiting' | 'push' | 'attempt' | 'acknowledged' | 'error-queue' | 'purged' | 'operator';
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

interface InboundRow {
  id: number; contract: string; operation: string; sender_oin: string; brin: string | null; document_id: string; wsa_message_id: string;
  request_id: string; receipt_id: string; receipt_at: Date; received_at: Date; processed_at: Date | null; outcome: string | null; raw_xml: string;
  failed_at: Date | null; failure: string | null;
}
interface OutboundRow {
  id: number; institution_oin: string; brin: string | null; operation: string; wsa_message_id: string; status: string;
  last_error: string | null; created_at: Date; delivered_at: Date | null; body_xml: string;
}
interface AttemptRow { outbound_id: number; attempt: number; started_at: Date; http_status: number | null; fault_code: string | null; latency_ms: number; outcome: string; error: string | null }

const UUID = /^(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

function inboundEvents(m: InboundRow): TraceEvent[] {
  return [
    { at: m.receipt_at, step: 'received', detail: `request ${m.request_id}: ${m.operation} from ${m.sender_oin}${m.brin ? ` for ${m.brin}` : ''}` },
    { at: m.receipt_at, step: 'validated', detail: 'envelope, XSD and sender checks passed (a message failing them is answered with a fault and never stored)' },
    { at: m.received_at, step: 'accepted', detail: `committed as message ${m.id}; receipt ${m.receipt_id}` },
    m.processed_at
      ? { at: m.processed_at, step: 'processed', detail: `outcome ${m.outcome}` }
      : m.failed_at
        ? { at: m.failed_at, step: 'error-queue', detail: `processing failed (processing error queue): ${m.failure ?? 'no reason recorded'}` }
        : { at: null, step: 'waiting', detail: 'waiting for processing' },
  ];
}

function outboundEvents(o: OutboundRow, attempts: readonly AttemptRow[]): TraceEvent[] {
  const events: TraceEvent[] = [{ at: o.created_at, step: 'push', outboundId: o.id, detail: `${o.operation} to ${o.institution_oin}${o.brin ? ` (${o.brin})` : ''}, MessageID ${o.wsa_message_id}` }];
  const intoErrorQueue = (at: Date, reason: string): TraceEvent => ({ at, step: 'error-queue', outboundId: o.id, detail: reason });
  const endOf = (a: AttemptRow): Date => new Date(a.started_at.getTime() + a.latency_ms);
  for (const a of attempts) {
    const facts = [a.outcome, a.http_status !== null ? `HTTP ${a.http_status}` : null, a.fault_code, `${a.latency_ms} ms`, a.error].filter((f) => f !== null);
    events.push({ at: a.started_at, step: 'attempt', outboundId: o.id, detail: `attempt ${a.attempt}: ${facts.join(', ')}` });
    // A final failure sends the message to the error queue at once; kept in the timeline after a replay too.
    if (a.outcome === 'failed') events.push(intoErrorQueue(endOf(a), a.error ?? 'refused'));
  }
  const last = attempts.at(-1);
  if (o.status === 'delivered') events.push({ at: o.delivered_at, step: 'acknowledged', outboundId: o.id, detail: 'receipt (ontvangstBevestiging J) from the institution' });
  else if (o.status === 'error' && last?.outcome !== 'failed') events.push(intoErrorQueue(last ? endOf(last) : o.created_at, o.last_error ?? 'undeliverable'));
  else if (o.status === 'purged') events.push({ at: null, step: 'purged', outboundId: o.id, detail: 'taken out of delivery by an operator' });
  else if (o.status === 'pending') events.push({ at: null, step: 'waiting', outboundId: o.id, detail: 'waiting for delivery' });
  return events;
}

/** Events in time order; undated ones (still waiting) last; equal times keep their logical order. */
const byTime = (events: TraceEvent[]): TraceEvent[] =>
  events.map((event, index) => ({ event, index }))
    .sort((a, b) => (a.event.at?.getTime() ?? Infinity) - (b.event.at?.getTime() ?? Infinity) || a.index - b.index)
    // Institutions' answers can quote values: keep personal numbers out of the operator's view too.
    .map(({ event }) => ({ ...event, detail: maskPersonalNumbers(event.detail) }));

async function buildTrace(pool: Pool, inbound: InboundRow | null, outbound: OutboundRow[]): Promise<MessageTrace> {
  const ids = outbound.map((o) => o.id);
  const attempts = ids.length === 0 ? [] : (await pool.query<AttemptRow>(
    'SELECT outbound_id, attempt, started_at, http_status, fault_code, latency_ms, outcome, error FROM delivery_attempts WHERE outbound_id = ANY($1::bigint[]) ORDER BY outbound_id, attempt', [ids])).rows;
  const audits = (await Promise.all(ids.map((id) => listAudit(pool, { outboundId: id, limit: 20 })))).flat();
  const operatorEvents: TraceEvent[] = [...new Map(audits.filter((a) => !a.dryRun).map((a) => [a.id, a])).values()]
    .map((a) => ({ at: a.at, step: 'operator', detail: `${a.action} by ${a.actor} (${a.affected} message(s))` }));
  const events = [
    ...(inbound ? inboundEvents(inbound) : []),
    ...outbound.flatMap((o) => outboundEvents(o, attempts.filter((a) => a.outbound_id === o.id))),
    ...operatorEvents,
  ];
  return {
    inboundId: inbound?.id ?? null, contract: inbound?.contract ?? null, operation: inbound?.operation ?? null, senderOin: inbound?.sender_oin ?? null,
    brin: inbound?.brin ?? outbound[0]?.brin ?? null, documentId: inbound?.document_id ?? null, outcome: inbound?.outcome ?? null,
    pupils: pgnsIn(inbound?.raw_xml ?? '', ...outbound.map((o) => o.body_xml)).map(maskPgn),
    outboundIds: ids, events: byTime(events),
  };
}

const INBOUND_COLUMNS = 'm.id, m.contract, m.operation, m.sender_oin, m.brin, m.document_id, m.wsa_message_id, m.request_id, m.receipt_id, m.receipt_at, m.received_at, r.processed_at, r.outcome, m.raw_xml, o.failed_at, o.failure';
const OUTBOUND_COLUMNS = 'id, institution_oin, brin, operation, wsa_message_id, status, last_error, created_at, delivered_at, body_xml, cause_message_id';

async function traceInbound(pool: Pool, inbound: InboundRow): Promise<MessageTrace> {
  const outbound = (await pool.query<OutboundRow>(`SELECT ${OUTBOUND_COLUMNS} FROM outbound_messages WHERE cause_message_id = $1 ORDER BY id`, [inbound.id])).rows;
  return buildTrace(pool, inbound, outbound);
}

async function inboundWhere(pool: Pool, clause: string, params: unknown[]): Promise<InboundRow[]> {
  return (await pool.query<InboundRow>(`SELECT ${INBOUND_COLUMNS} FROM inbound_messages m LEFT JOIN processing_results r ON r.message_id = m.id LEFT JOIN processing_outbox o ON o.message_id = m.id WHERE ${clause}`, params)).rows;
}

/**
 * One message's timeline, found by what an operator has at hand: the inbound message id (`42`), an
 * outbound message id (`o42`), or a UUID — the LAS's identificatiecode or wsa:MessageID, or an
 * outbound message's MessageID or document id. An outbound message is traced with its cause.
 */
export async function traceMessage(pool: Pool, ref: string): Promise<MessageTrace | null> {
  const value = ref.trim();
  let inbound: InboundRow | undefined;
  let outbound: (OutboundRow & { cause_message_id: number | null }) | undefined;
  if (/^\d{1,15}$/.test(value)) {
    [inbound] = await inboundWhere(pool, 'm.id = $1', [Number(value)]);
  } else if (/^o(?:ut)?-?\d{1,15}$/i.test(value)) {
    outbound = (await pool.query(`SELECT ${OUTBOUND_COLUMNS} FROM outbound_messages WHERE id = $1`, [Number(value.replace(/\D/g, ''))])).rows[0];
  } else {
    const uuid = UUID.exec(value)?.[1]?.toLowerCase();
    if (!uuid) return null;
    [inbound] = await inboundWhere(pool, "m.document_id = $1::text::uuid OR m.wsa_message_id IN ($1::text, 'urn:uuid:' || $1::text) ORDER BY m.id LIMIT 1", [uuid]);
    if (!inbound) outbound = (await pool.query(`SELECT ${OUTBOUND_COLUMNS} FROM outbound_messages WHERE wsa_message_id = $1::uuid OR document_id = $1::uuid LIMIT 1`, [uuid])).rows[0];
  }
  if (inbound) return traceInbound(pool, inbound);
  if (!outbound) return null;
  if (outbound.cause_message_id !== null) {
    const [cause] = await inboundWhere(pool, 'm.id = $1', [outbound.cause_message_id]);
    if (cause) return traceInbound(pool, cause);
  }
  return buildTrace(pool, null, [outbound]);
}

/** How far back (in outbound messages) a BRIN trace looks for pushes other schools' messages caused. */
const PUSH_LOOKBACK = 200_000;

/**
 * The timelines of the newest messages that concern a BRIN, newest first: those the school sent, and
 * those of other schools (or the BRP source) that caused a push to it — a bewijs, a funding status, a
 * mutation — among the last PUSH_LOOKBACK outbound messages (a bound that keeps this quick without an
 * extra index on the delivery path).
 */
export async function traceByBrin(pool: Pool, brin: string, limit = 10): Promise<MessageTrace[]> {
  const n = Math.min(Math.max(limit, 1), 100);
  const ids = (await pool.query<{ id: number }>(
    `SELECT id FROM (
       (SELECT m.id FROM inbound_messages m WHERE m.brin = $1 ORDER BY m.id DESC LIMIT $2)
       UNION
       (SELECT o.cause_message_id AS id FROM outbound_messages o
        WHERE o.brin = $1 AND o.cause_message_id IS NOT NULL AND o.id > (SELECT coalesce(max(id), 0) - $3 FROM outbound_messages)
        ORDER BY o.id DESC LIMIT $2)) concerned
     ORDER BY id DESC LIMIT $2`, [brin, n, PUSH_LOOKBACK])).rows.map((r) => r.id);
  if (ids.length === 0) return [];
  const rows = await inboundWhere(pool, 'm.id = ANY($1::bigint[]) ORDER BY m.id DESC', [ids]);
  return Promise.all(rows.map((row) => traceInbound(pool, row)));
}

/** The timelines of the newest messages about a pupil, found through the keyed-hash index. */
export async function traceByPupil(pool: Pool, traceKey: string, pgn: string, limit = 10): Promise<MessageTrace[]> {
  const ids = await inboundIdsForPupil(pool, traceKey, pgn, Math.min(Math.max(limit, 1), 100));
  if (ids.length === 0) return [];
  const rows = await inboundWhere(pool, 'm.id = ANY($1::bigint[]) ORDER BY m.id DESC', [ids]);
  return Promise.all(rows.map((row) => traceInbound(pool, row)));
}
