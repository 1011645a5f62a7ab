import type pg from 'pg';
import type { EnrolmentStand } from '../register/enrolment.js';
import { prepared } from '../shared/database.js';
import type { OutboundForDelivery } from './outbound.repo.js';
import { PUSH_FALLBACK_PREFERENCE } from './institutions.repo.js';

/** A transaction's client; every function here runs inside the processing transaction. */
export type Tx = pg.PoolClient;

export interface ClaimedMessage {
  readonly id: number;
  readonly operation: string;
  readonly senderOin: string;
  readonly brin: string | null;
  readonly documentId: string;
  readonly documentTime: string;
  readonly rawXml: string;
}

/**
 * Takes messages out of the processing outbox, oldest first; those another worker (or an earlier run
 * of the job) already took, and those in the processing error queue, are missing from the result. The row locks of the DELETE serialise
 * concurrent claims.
 */
export async function claimForProcessing(tx: Tx, messageIds: readonly number[]): Promise<ClaimedMessage[]> {
  const result = await tx.query<{ id: number; operation: string; sender_oin: string; brin: string | null; document_id: string; document_time: Date; raw_xml: string }>(
    prepared('processing-claim', `WITH claimed AS (DELETE FROM processing_outbox WHERE message_id = ANY($1::bigint[]) AND (failed_at IS NULL) IS TRUE RETURNING message_id)
     SELECT m.id, m.operation, m.sender_oin, m.brin, m.document_id, m.document_time, m.raw_xml
     FROM inbound_messages m JOIN claimed c ON c.message_id = m.id ORDER BY m.id`,
    [messageIds])
  );
  return result.rows.map((row) => ({ id: row.id, operation: row.operation, senderOin: row.sender_oin, brin: row.brin, documentId: row.document_id, documentTime: row.document_time.toISOString(), rawXml: row.raw_xml }));
}

/** An enrolment's current stand as stored. */
export interface StoredEnrolment {
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
  readonly pgn: string;
  readonly documentTime: string;
  readonly stand: EnrolmentStand;
  readonly sourceMessageId: number;
  /**
   * Where pushes about this enrolment go: the administration (OIN) that delivered its current stand, or,
   * once that one no longer serves the BRIN, the BRIN's institution (PUSH_FALLBACK_PREFERENCE); null when
   * no registered institution serves the BRIN.
   */
  readonly administrationOin: string | null;
}

/**
 * Serialises transactions touching the same pupils or enrolments: one transaction-scoped advisory
 * lock per key, taken in a fixed order so two batches never deadlock on them.
 */
export async function lockRegisterKeys(tx: Tx, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    prepared('processing-lock', `SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(key, 0) AS k FROM unnest($1::text[]) AS key ORDER BY 1) locks`,
    [keys])
  );
}

export interface PopulationRecord {
  readonly bsn: string;
  readonly birthDate: string;
  readonly gender: string;
  readonly surname: string;
  readonly prefixes: string | null;
  readonly firstNames: string | null;
  readonly address: Record<string, Record<string, string>> | null;
  readonly dateOfDeath: string | null;
  /** The day of the first enrolment at a PO or VO school in the Netherlands; absent when the stand-in does not know it. */
  readonly firstEnrolmentPoVo?: string;
}

const POPULATION_COLUMNS = `bsn, birth_date, gender, surname, prefixes, first_names, address, to_char(date_of_death, 'YYYY-MM-DD') AS date_of_death,
  to_char(first_enrolment_po_vo, 'YYYY-MM-DD') AS first_enrolment_po_vo`;
type PopulationRow = {
  bsn: string; birth_date: string; gender: string; surname: string; prefixes: string | null; first_names: string | null;
  address: Record<string, Record<string, string>> | null; date_of_death: string | null; first_enrolment_po_vo: string | null;
};
const populationRecord = (r: PopulationRow): PopulationRecord => ({
  bsn: r.bsn, birthDate: r.birth_date, gender: r.gender, surname: r.surname, prefixes: r.prefixes, firstNames: r.first_names, address: r.address, dateOfDeath: r.date_of_death,
  ...(r.first_enrolment_po_vo !== null ? { firstEnrolmentPoVo: r.first_enrolment_po_vo } : {}),
});

/**
 * What a processing batch reads, in one round trip: every enrolment of these pupils and the
 * population-register entries of these BSNs and of the pupils themselves (a funding status pushed for
 * any of their enrolments needs the pupil's first enrolment in the Netherlands). The two kinds come back as rows of one result (a
 * person's row has a bsn, an enrolment's has none).
 */
export async function loadRegister(tx: Tx, pgns: readonly string[], bsns: readonly string[]): Promise<{ enrolments: StoredEnrolment[]; people: PopulationRecord[] }> {
  // An enrolment's row has the enrolment columns and a NULL bsn; a person's row the other way round.
  type EnrolmentRow = { brin: string; inschrijvingvolgnummer: string; pgn: string; document_time: Date; stand: EnrolmentStand; source_message_id: number; administration_oin: string | null };
  type Nullable<T> = { [K in keyof T]: T[K] | null };
  const result = await tx.query<Nullable<EnrolmentRow> & Nullable<PopulationRow>>(
    prepared('processing-load-register', `WITH wanted AS (SELECT * FROM enrolments WHERE pgn = ANY($1::text[]))
     SELECT w.brin, w.inschrijvingvolgnummer, w.pgn, w.document_time, w.stand, w.source_message_id,
       coalesce(a.oin, (SELECT i.oin FROM institutions i WHERE w.brin = ANY (i.brins)
         ORDER BY ${PUSH_FALLBACK_PREFERENCE} LIMIT 1)) AS administration_oin,
       NULL::text AS bsn, NULL::text AS birth_date, NULL::text AS gender, NULL::text AS surname, NULL::text AS prefixes,
       NULL::text AS first_names, NULL::jsonb AS address, NULL::text AS date_of_death, NULL::text AS first_enrolment_po_vo
     FROM wanted w LEFT JOIN institutions a ON a.oin = w.administration_oin AND w.brin = ANY (a.brins)
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${POPULATION_COLUMNS} FROM population_register WHERE bsn = ANY($2::text[] || $1::text[])`,
    [pgns, bsns])
  );
  const enrolments: StoredEnrolment[] = [];
  const people: PopulationRecord[] = [];
  for (const r of result.rows) {
    if (r.bsn !== null) {
      people.push(populationRecord(r as PopulationRow));
    } else {
      const e = r as EnrolmentRow;
      enrolments.push({
        brin: e.brin, inschrijvingvolgnummer: e.inschrijvingvolgnummer, pgn: e.pgn, documentTime: e.document_time.toISOString(),
        stand: e.stand, sourceMessageId: e.source_message_id, administrationOin: e.administration_oin,
      });
    }
  }
  return { enrolments, people };
}

/** An onderwijsnummer that resolves to a BSN: both numbers are one pupil. */
export interface PupilLink {
  readonly onderwijsnummer: string;
  readonly bsn: string;
}

/**
 * Every link of the pupils these PGNs belong to: for a linked onderwijsnummer its BSN, and for each
 * BSN reached every onderwijsnummer linked to it.
 */
export async function loadPupilLinks(tx: Tx, pgns: readonly string[]): Promise<PupilLink[]> {
  if (pgns.length === 0) return [];
  const result = await tx.query<{ onderwijsnummer: string; bsn: string }>(
    prepared('processing-load-links', `SELECT onderwijsnummer, bsn FROM pupil_links
     WHERE bsn = ANY(ARRAY(SELECT l.bsn FROM pupil_links l WHERE l.onderwijsnummer = ANY($1::text[])) || $1::text[])`, [pgns]),
  );
  return result.rows.map((r) => ({ onderwijsnummer: r.onderwijsnummer, bsn: r.bsn }));
}

/** Links an onderwijsnummer to a BSN; false when it already resolves to a BSN (the first link stays). */
export async function linkOnderwijsnummer(tx: Tx, link: PupilLink): Promise<boolean> {
  const result = await tx.query(
    prepared('processing-link-pupil', 'INSERT INTO pupil_links (onderwijsnummer, bsn) VALUES ($1, $2) ON CONFLICT (onderwijsnummer) DO NOTHING', [link.onderwijsnummer, link.bsn]),
  );
  return result.rowCount === 1;
}

export async function findPopulationRecord(tx: Pick<Tx, 'query'>, bsn: string): Promise<PopulationRecord | null> {
  return (await findPopulationRecords(tx, [bsn]))[0] ?? null;
}

/** The population-register entries of these BSNs (those that exist). */
export async function findPopulationRecords(tx: Pick<Tx, 'query'>, bsns: readonly string[]): Promise<PopulationRecord[]> {
  if (bsns.length === 0) return [];
  const result = await tx.query<PopulationRow>(prepared('processing-load-population', `SELECT ${POPULATION_COLUMNS} FROM population_register WHERE bsn = ANY($1::text[])`, [bsns]));
  return result.rows.map(populationRecord);
}

export interface OutboundDraft {
  readonly institutionOin: string;
  readonly brin: string | null;
  readonly operation: string;
  readonly wsaMessageId: string;
  readonly documentId: string;
  readonly bodyXml: string;
  readonly causeMessageId: number | null;
}

/** An outbound message as its processing transaction queued it, with where it goes (read in that transaction). */
export interface QueuedOutbound {
  readonly id: number;
  readonly draft: OutboundDraft;
  readonly endpointUrl: string | null;
  readonly paused: boolean;
}

type EnrolmentKey = { readonly pgn: string; readonly brin: string; readonly inschrijvingvolgnummer: string };

/**
 * `p`: the first of its 12 parameters; `removedPgns`: the parameter with the removed enrolments' PGNs;
 * `administrations`: the one with the saved enrolments' administration OINs.
 */
const ENROLMENT_WRITES = (p: number, removedPgns: number, administrations: number) => `
  removed AS (
    DELETE FROM enrolments e USING unnest($${p}::text[], $${p + 1}::text[], $${removedPgns}::text[]) AS k(brin, volgnummer, pgn)
    WHERE e.pgn = k.pgn AND e.brin = k.brin AND e.inschrijvingvolgnummer = k.volgnummer RETURNING 1),
  saved AS (
    INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, datum_uitschrijving, document_time, stand, source_message_id, administration_oin)
    SELECT * FROM unnest($${p + 2}::text[], $${p + 3}::text[], $${p + 4}::text[], $${p + 5}::date[], $${p + 6}::date[], $${p + 7}::timestamptz[], $${p + 8}::jsonb[], $${p + 9}::bigint[], $${administrations}::text[])
    ON CONFLICT (pgn, brin, inschrijvingvolgnummer) DO UPDATE SET datum_inschrijving = EXCLUDED.datum_inschrijving,
      datum_uitschrijving = EXCLUDED.datum_uitschrijving, document_time = EXCLUDED.document_time, stand = EXCLUDED.stand,
      source_message_id = EXCLUDED.source_message_id, administration_oin = EXCLUDED.administration_oin, updated_at = now()
    RETURNING 1),
  results AS (
    INSERT INTO processing_results (message_id, outcome) SELECT * FROM unnest($${p + 10}::bigint[], $${p + 11}::text[]) RETURNING 1)`;

const OUTBOUND_INSERT = (p: number) => `
  INSERT INTO outbound_messages (institution_oin, brin, operation, wsa_message_id, document_id, body_xml, cause_message_id)
  SELECT * FROM unnest($${p}::text[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::uuid[], $${p + 4}::uuid[], $${p + 5}::text[], $${p + 6}::bigint[])
  RETURNING id, cause_message_id, wsa_message_id, institution_oin`;

function outboundParams(drafts: readonly OutboundDraft[]): unknown[] {
  const column = <T>(pick: (d: OutboundDraft) => T): T[] => drafts.map(pick);
  return [column((d) => d.institutionOin), column((d) => d.brin), column((d) => d.operation), column((d) => d.wsaMessageId),
    column((d) => d.documentId), column((d) => d.bodyXml), column((d) => d.causeMessageId)];
}

/** Queues messages for institutions in the same transaction as the change that causes them. */
export async function insertOutbound(tx: Tx, drafts: readonly OutboundDraft[]): Promise<{ id: number; causeMessageId: number | null }[]> {
  if (drafts.length === 0) return [];
  const result = await tx.query<{ id: number; cause_message_id: number | null }>(OUTBOUND_INSERT(1), outboundParams(drafts));
  return result.rows.map((r) => ({ id: r.id, causeMessageId: r.cause_message_id }));
}

/** Queues messages and returns them ready for delivery (with where they go), in the caller's transaction. */
export async function insertQueuedOutbound(tx: Tx, drafts: readonly OutboundDraft[]): Promise<OutboundForDelivery[]> {
  if (drafts.length === 0) return [];
  const result = await tx.query<{ id: number; wsa_message_id: string; endpoint_url: string | null; paused: boolean }>(
    `WITH queued AS (${OUTBOUND_INSERT(1)})
     SELECT q.id, q.wsa_message_id, i.endpoint_url, coalesce(i.paused, false) AS paused FROM queued q LEFT JOIN institutions i ON i.oin = q.institution_oin`,
    outboundParams(drafts));
  const draftOf = new Map(drafts.map((draft) => [draft.wsaMessageId.toLowerCase(), draft]));
  return result.rows.map((r) => outboundForDelivery({ id: r.id, draft: draftOf.get(r.wsa_message_id)!, endpointUrl: r.endpoint_url, paused: r.paused }));
}

/** A message just queued, as delivery takes it: pending, no attempts yet. */
export const outboundForDelivery = ({ id, draft, endpointUrl, paused }: QueuedOutbound): OutboundForDelivery => ({
  id, operation: draft.operation, wsaMessageId: draft.wsaMessageId, bodyXml: draft.bodyXml, status: 'pending', attempts: 0,
  lastError: null, institutionOin: draft.institutionOin, endpointUrl, paused, createdAt: new Date(),
});

/** What a processing batch changed: enrolments removed and saved, each message's outcome, the messages it queued. */
export interface ProcessingWrites {
  readonly removed: readonly EnrolmentKey[];
  readonly saved: readonly StoredEnrolment[];
  readonly outcomes: readonly { messageId: number; outcome: string }[];
  readonly outbound: readonly OutboundDraft[];
  /** Pupil-index rows (keyed hashes, never a PGN) for the messages processed. */
  readonly pupilTrace: readonly { readonly pupilKey: Buffer; readonly inboundMessageId: number }[];
}

/**
 * Writes everything a processing batch changed in one statement (one round trip, whatever the batch
 * size). A key is never both removed and saved: the register session keeps one final state per key.
 */
export async function writeProcessingResults(tx: Tx, writes: ProcessingWrites): Promise<QueuedOutbound[]> {
  const saved = <T>(pick: (e: StoredEnrolment) => T): T[] => writes.saved.map(pick);
  const result = await tx.query<{ id: number; wsa_message_id: string; endpoint_url: string | null; paused: boolean }>(
    prepared('processing-write', `WITH ${ENROLMENT_WRITES(1, 22, 23)},
       traced AS (INSERT INTO pupil_trace (pupil_key, inbound_message_id) SELECT * FROM unnest($20::bytea[], $21::bigint[]) ON CONFLICT DO NOTHING RETURNING 1),
       queued AS (${OUTBOUND_INSERT(13)})
     SELECT q.id, q.wsa_message_id, i.endpoint_url, coalesce(i.paused, false) AS paused FROM queued q LEFT JOIN institutions i ON i.oin = q.institution_oin`,
    [
      writes.removed.map((k) => k.brin), writes.removed.map((k) => k.inschrijvingvolgnummer),
      saved((e) => e.brin), saved((e) => e.inschrijvingvolgnummer), saved((e) => e.pgn), saved((e) => e.stand.datumInschrijving),
      saved((e) => e.stand.datumUitschrijving ?? null), saved((e) => e.documentTime), saved((e) => JSON.stringify(e.stand)), saved((e) => e.sourceMessageId),
      writes.outcomes.map((o) => o.messageId), writes.outcomes.map((o) => o.outcome),
      ...outboundParams(writes.outbound),
      writes.pupilTrace.map((t) => t.pupilKey), writes.pupilTrace.map((t) => t.inboundMessageId),
      writes.removed.map((k) => k.pgn), saved((e) => e.administrationOin),
    ])
  );
  // Rows come back in no promised order: each is matched to its draft by its own MessageID.
  const draftOf = new Map(writes.outbound.map((draft) => [draft.wsaMessageId.toLowerCase(), draft]));
  return result.rows.map((r) => {
    const draft = draftOf.get(r.wsa_message_id);
    if (!draft) throw new Error(`queued outbound message ${r.id} matches no draft`); // before COMMIT: the batch rolls back
    return { id: r.id, draft, endpointUrl: r.endpoint_url, paused: r.paused };
  });
}

/** Adds or replaces a population-register entry (CLI loader, demo seed, tests). */
export async function upsertPopulationRecord(db: Pick<Tx, 'query'>, record: PopulationRecord): Promise<void> {
  await db.query(
    `INSERT INTO population_register (bsn, birth_date, gender, surname, prefixes, first_names, address, date_of_death, first_enrolment_po_vo)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (bsn) DO UPDATE SET birth_date = EXCLUDED.birth_date, gender = EXCLUDED.gender, surname = EXCLUDED.surname,
       prefixes = EXCLUDED.prefixes, first_names = EXCLUDED.first_names, address = EXCLUDED.address,
       date_of_death = EXCLUDED.date_of_death, first_enrolment_po_vo = EXCLUDED.first_enrolment_po_vo, updated_at = now()`,
    [record.bsn, record.birthDate, record.gender, record.surname, record.prefixes, record.firstNames, record.address ? JSON.stringify(record.address) : null, record.dateOfDeath,
      record.firstEnrolmentPoVo ?? null],
  );
}
