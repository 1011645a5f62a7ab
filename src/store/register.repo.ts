import type pg from 'pg';
import type { StoredText } from '../infra/data-keys.js';
import { prepared } from '../infra/database.js';
import type { EnrolmentStand, StoredEnrolment } from '../register/enrolment.js';
import type { OutboundDraft } from '../register/outbound-draft.js';
import type { Address } from '../register/person.js';
import type { PopulationRecord, PupilLink } from '../register/population.js';
import { type ArrayColumn, arrayStatement, columnNames, type Unnest } from './array-parameters.js';
import { PUSH_FALLBACK_PREFERENCE } from './institutions.repo.js';
import type { OutboundForDelivery } from './outbound.repo.js';
import { BODY_XML, openRawXml, RAW_XML, type StoredTextRow, sealFor, storedTextColumns } from './stored-text.js';

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
  const result = await tx.query<ClaimedMessageRow>(
    prepared(
      'processing-claim',
      `WITH claimed AS (DELETE FROM processing_outbox WHERE message_id = ANY($1::bigint[]) AND (failed_at IS NULL) IS TRUE RETURNING message_id)
     SELECT ${CLAIMED_MESSAGE_COLUMNS}
     FROM inbound_messages m JOIN claimed c ON c.message_id = m.id ORDER BY m.id`,
      [messageIds],
    ),
  );
  return result.rows.map((row) => toClaimedMessage(tx, row));
}

/** What a processing claim reads of an inbound message (aliased `m`). */
export const CLAIMED_MESSAGE_COLUMNS = `m.id, m.operation, m.sender_oin, m.brin, m.document_id, m.document_time, ${storedTextColumns(RAW_XML, 'm')}`;

export type ClaimedMessageRow = {
  id: number;
  operation: string;
  sender_oin: string;
  brin: string | null;
  document_id: string;
  document_time: Date;
} & StoredTextRow<'raw_xml'>;

/** A claimed row as the handlers see it, its raw XML opened with the keys of `tx`. */
export const toClaimedMessage = (tx: Tx, row: ClaimedMessageRow): ClaimedMessage => ({
  id: row.id,
  operation: row.operation,
  senderOin: row.sender_oin,
  brin: row.brin,
  documentId: row.document_id,
  documentTime: row.document_time.toISOString(),
  rawXml: openRawXml(tx, row),
});

const POPULATION_COLUMNS = `bsn, birth_date, gender, surname, prefixes, first_names, address, to_char(date_of_death, 'YYYY-MM-DD') AS date_of_death,
  to_char(first_enrolment_po_vo, 'YYYY-MM-DD') AS first_enrolment_po_vo`;
type PopulationRow = {
  bsn: string;
  birth_date: string;
  gender: string;
  surname: string;
  prefixes: string | null;
  first_names: string | null;
  address: Address | null;
  date_of_death: string | null;
  first_enrolment_po_vo: string | null;
};
const populationRecord = (r: PopulationRow): PopulationRecord => ({
  bsn: r.bsn,
  birthDate: r.birth_date,
  gender: r.gender,
  surname: r.surname,
  prefixes: r.prefixes,
  firstNames: r.first_names,
  address: r.address,
  dateOfDeath: r.date_of_death,
  ...(r.first_enrolment_po_vo !== null ? { firstEnrolmentPoVo: r.first_enrolment_po_vo } : {}),
});

/**
 * What a processing batch reads, in one round trip: every enrolment of these pupils and the
 * population-register entries of these BSNs and of the pupils themselves (a funding status pushed for
 * any of their enrolments needs the pupil's first enrolment in the Netherlands). The two kinds come back as rows of one result (a
 * person's row has a bsn, an enrolment's has none).
 */
export async function loadRegister(
  tx: Tx,
  pgns: readonly string[],
  bsns: readonly string[],
): Promise<{ enrolments: StoredEnrolment[]; people: PopulationRecord[] }> {
  // An enrolment's row has the enrolment columns and a NULL bsn; a person's row the other way round.
  type EnrolmentRow = {
    brin: string;
    inschrijvingvolgnummer: string;
    pgn: string;
    document_time: Date;
    stand: EnrolmentStand;
    source_message_id: number;
    administration_oin: string | null;
  };
  type Nullable<T> = { [K in keyof T]: T[K] | null };
  const result = await tx.query<Nullable<EnrolmentRow> & Nullable<PopulationRow>>(
    prepared(
      'processing-load-register',
      `WITH wanted AS (SELECT * FROM enrolments WHERE pgn = ANY($1::text[]))
     SELECT w.brin, w.inschrijvingvolgnummer, w.pgn, w.document_time, w.stand, w.source_message_id,
       coalesce(a.oin, (SELECT i.oin FROM institutions i WHERE w.brin = ANY (i.brins)
         ORDER BY ${PUSH_FALLBACK_PREFERENCE} LIMIT 1)) AS administration_oin,
       NULL::text AS bsn, NULL::text AS birth_date, NULL::text AS gender, NULL::text AS surname, NULL::text AS prefixes,
       NULL::text AS first_names, NULL::jsonb AS address, NULL::text AS date_of_death, NULL::text AS first_enrolment_po_vo
     FROM wanted w LEFT JOIN institutions a ON a.oin = w.administration_oin AND w.brin = ANY (a.brins)
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${POPULATION_COLUMNS} FROM population_register WHERE bsn = ANY($2::text[] || $1::text[])`,
      [pgns, bsns],
    ),
  );
  const enrolments: StoredEnrolment[] = [];
  const people: PopulationRecord[] = [];
  for (const r of result.rows) {
    if (r.bsn !== null) {
      people.push(populationRecord(r as PopulationRow));
    } else {
      const e = r as EnrolmentRow;
      enrolments.push({
        brin: e.brin,
        inschrijvingvolgnummer: e.inschrijvingvolgnummer,
        pgn: e.pgn,
        documentTime: e.document_time.toISOString(),
        stand: e.stand,
        sourceMessageId: e.source_message_id,
        administrationOin: e.administration_oin,
      });
    }
  }
  return { enrolments, people };
}

/**
 * Serialises transactions touching the same pupils: one transaction-scoped advisory lock per number,
 * taken in a fixed order so two batches never deadlock on them. Locks these pupils' numbers and every
 * number linked to them, but those in `loaded`, and the running subscriptions on them (lock_pupils,
 * migration 026); returns the numbers it locked, the links it read after the locks, and how many
 * subscriptions it locked.
 */
export async function lockPupils(
  tx: Tx,
  numbers: readonly string[],
  loaded: readonly string[],
): Promise<{ locked: string[]; links: PupilLink[]; subscriptions: number }> {
  if (numbers.length === 0) return { locked: [], links: [], subscriptions: 0 };
  const result = await tx.query<{
    locked: string | null;
    onderwijsnummer: string | null;
    bsn: string | null;
    subscription_id: string | null;
  }>(
    prepared(
      'processing-lock-pupils',
      'SELECT locked, onderwijsnummer, bsn, subscription_id FROM lock_pupils($1::text[], $2::text[])',
      [numbers, loaded],
    ),
  );
  const locked: string[] = [];
  const links: PupilLink[] = [];
  let subscriptions = 0;
  for (const row of result.rows) {
    if (row.locked !== null) locked.push(row.locked);
    else if (row.subscription_id !== null) subscriptions += 1;
    else links.push({ onderwijsnummer: row.onderwijsnummer!, bsn: row.bsn! });
  }
  return { locked, links, subscriptions };
}

/** Links an onderwijsnummer to a BSN; false when it already resolves to a BSN (the first link stays). */
export async function linkOnderwijsnummer(tx: Tx, link: PupilLink): Promise<boolean> {
  const result = await tx.query(
    prepared(
      'processing-link-pupil',
      'INSERT INTO pupil_links (onderwijsnummer, bsn) VALUES ($1, $2) ON CONFLICT (onderwijsnummer) DO NOTHING',
      [link.onderwijsnummer, link.bsn],
    ),
  );
  return result.rowCount === 1;
}

export async function findPopulationRecord(tx: Pick<Tx, 'query'>, bsn: string): Promise<PopulationRecord | null> {
  return (await findPopulationRecords(tx, [bsn]))[0] ?? null;
}

/** The population-register entries of these BSNs (those that exist). */
export async function findPopulationRecords(
  tx: Pick<Tx, 'query'>,
  bsns: readonly string[],
): Promise<PopulationRecord[]> {
  if (bsns.length === 0) return [];
  const result = await tx.query<PopulationRow>(
    prepared(
      'processing-load-population',
      `SELECT ${POPULATION_COLUMNS} FROM population_register WHERE bsn = ANY($1::text[])`,
      [bsns],
    ),
  );
  return result.rows.map(populationRecord);
}

/** An outbound message as its processing transaction queued it, with where it goes (read in that transaction). */
export interface QueuedOutbound {
  readonly id: number;
  readonly draft: OutboundDraft;
  readonly endpointUrl: string | null;
  readonly paused: boolean;
  readonly verifyReceiptSignature: boolean;
}

/** An enrolment row by its key: what a processing batch removes. */
type EnrolmentRowKey = Pick<StoredEnrolment, 'pgn' | 'brin' | 'inschrijvingvolgnummer'>;

/** The enrolments table's key, in the order of its unique index. */
const ENROLMENT_KEY: readonly ArrayColumn<EnrolmentRowKey>[] = [
  { column: 'pgn', type: 'text', value: (e) => e.pgn },
  { column: 'brin', type: 'text', value: (e) => e.brin },
  { column: 'inschrijvingvolgnummer', type: 'text', value: (e) => e.inschrijvingvolgnummer },
];

/** A saved enrolment's row: its key, then what an upsert replaces. */
const ENROLMENT_VALUES: readonly ArrayColumn<StoredEnrolment>[] = [
  { column: 'datum_inschrijving', type: 'date', value: (e) => e.stand.datumInschrijving },
  { column: 'datum_uitschrijving', type: 'date', value: (e) => e.stand.datumUitschrijving ?? null },
  { column: 'document_time', type: 'timestamptz', value: (e) => e.documentTime },
  { column: 'stand', type: 'jsonb', value: (e) => JSON.stringify(e.stand) },
  { column: 'source_message_id', type: 'bigint', value: (e) => e.sourceMessageId },
  { column: 'administration_oin', type: 'text', value: (e) => e.administrationOin },
];

const OUTCOME_COLUMNS: readonly ArrayColumn<ProcessingWrites['outcomes'][number]>[] = [
  { column: 'message_id', type: 'bigint', value: (o) => o.messageId },
  { column: 'outcome', type: 'text', value: (o) => o.outcome },
];

const PUPIL_TRACE_COLUMNS: readonly ArrayColumn<ProcessingWrites['pupilTrace'][number]>[] = [
  { column: 'pupil_key', type: 'bytea', value: (t) => t.pupilKey },
  { column: 'inbound_message_id', type: 'bigint', value: (t) => t.inboundMessageId },
];

/** A draft with its body as it is stored (sealed under the current data key, or plain without one). */
type StoredDraft = OutboundDraft & { readonly storedBody: StoredText };

const storedDrafts = (db: object, drafts: readonly OutboundDraft[]): StoredDraft[] =>
  drafts.map((draft) => ({ ...draft, storedBody: sealFor(db, BODY_XML, draft.bodyXml) }));

const OUTBOUND_COLUMNS: readonly ArrayColumn<StoredDraft>[] = [
  { column: 'institution_oin', type: 'text', value: (d) => d.institutionOin },
  { column: 'brin', type: 'text', value: (d) => d.brin },
  { column: 'operation', type: 'text', value: (d) => d.operation },
  { column: 'wsa_message_id', type: 'uuid', value: (d) => d.wsaMessageId },
  { column: 'document_id', type: 'uuid', value: (d) => d.documentId },
  { column: 'body_xml', type: 'text', value: (d) => d.storedBody.plain },
  { column: 'body_xml_sealed', type: 'bytea', value: (d) => d.storedBody.sealed },
  { column: 'body_xml_key_id', type: 'text', value: (d) => d.storedBody.keyId },
  { column: 'cause_message_id', type: 'bigint', value: (d) => d.causeMessageId },
];

/** Inserts the drafts `drafts` picks from the statement's input; returns what delivery and the caller match on. */
const outboundInsert = <W>(unnest: Unnest<W>, drafts: (input: W) => readonly StoredDraft[]): string => `
  INSERT INTO outbound_messages (${columnNames(OUTBOUND_COLUMNS)}) SELECT * FROM ${unnest(drafts, OUTBOUND_COLUMNS)}
  RETURNING id, cause_message_id, wsa_message_id, institution_oin`;

/** A queued row with where it goes, as WITH_DESTINATION reads it. */
interface DestinationRow {
  id: number;
  wsa_message_id: string;
  endpoint_url: string | null;
  paused: boolean;
  verify_receipt_signature: boolean;
}

/** Each queued row with where it goes, read in the same statement. */
const WITH_DESTINATION = `SELECT q.id, q.wsa_message_id, i.endpoint_url, coalesce(i.paused, false) AS paused, coalesce(i.verify_receipt_signature, false) AS verify_receipt_signature FROM queued q LEFT JOIN institutions i ON i.oin = q.institution_oin`;

const OUTBOUND_INSERT = arrayStatement<readonly StoredDraft[]>((unnest) => outboundInsert(unnest, (drafts) => drafts));
const QUEUE_OUTBOUND = arrayStatement<readonly StoredDraft[]>(
  (unnest) => `WITH queued AS (${outboundInsert(unnest, (drafts) => drafts)}) ${WITH_DESTINATION}`,
);

/** Queues messages for institutions in the same transaction as the change that causes them. */
export async function insertOutbound(
  tx: Tx,
  drafts: readonly OutboundDraft[],
): Promise<{ id: number; causeMessageId: number | null }[]> {
  if (drafts.length === 0) return [];
  const result = await tx.query<{ id: number; cause_message_id: number | null }>(
    OUTBOUND_INSERT.text,
    OUTBOUND_INSERT.values(storedDrafts(tx, drafts)),
  );
  return result.rows.map((r) => ({ id: r.id, causeMessageId: r.cause_message_id }));
}

/** Queues messages and returns them ready for delivery (with where they go), in the caller's transaction. */
export async function insertQueuedOutbound(tx: Tx, drafts: readonly OutboundDraft[]): Promise<OutboundForDelivery[]> {
  if (drafts.length === 0) return [];
  const result = await tx.query<DestinationRow>(QUEUE_OUTBOUND.text, QUEUE_OUTBOUND.values(storedDrafts(tx, drafts)));
  const draftOf = new Map(drafts.map((draft) => [draft.wsaMessageId.toLowerCase(), draft]));
  return result.rows.map((r) =>
    outboundForDelivery({
      id: r.id,
      draft: draftOf.get(r.wsa_message_id)!,
      endpointUrl: r.endpoint_url,
      paused: r.paused,
      verifyReceiptSignature: r.verify_receipt_signature,
    }),
  );
}

/** A message just queued, as delivery takes it: pending, no attempts yet. */
export const outboundForDelivery = ({
  id,
  draft,
  endpointUrl,
  paused,
  verifyReceiptSignature,
}: QueuedOutbound): OutboundForDelivery => ({
  id,
  operation: draft.operation,
  wsaMessageId: draft.wsaMessageId,
  bodyXml: draft.bodyXml,
  status: 'pending',
  attempts: 0,
  lastError: null,
  institutionOin: draft.institutionOin,
  endpointUrl,
  paused,
  verifyReceiptSignature,
  createdAt: new Date(),
});

/** What a processing batch changed: enrolments removed and saved, each message's outcome, the messages it queued. */
export interface ProcessingWrites {
  readonly removed: readonly EnrolmentRowKey[];
  readonly saved: readonly StoredEnrolment[];
  readonly outcomes: readonly { messageId: number; outcome: string }[];
  readonly outbound: readonly OutboundDraft[];
  /** Pupil-index rows (keyed hashes, never a PGN) for the messages processed. */
  readonly pupilTrace: readonly { readonly pupilKey: Buffer; readonly inboundMessageId: number }[];
}

const SAVED_COLUMNS = [...ENROLMENT_KEY, ...ENROLMENT_VALUES];
/** One statement for a whole batch; each column above is named once, its placeholder and parameter generated. */
const PROCESSING_WRITE = arrayStatement<ProcessingWrites & { readonly storedOutbound: readonly StoredDraft[] }>(
  (unnest) => `WITH
  removed AS (
    DELETE FROM enrolments e USING ${unnest((w) => w.removed, ENROLMENT_KEY)} AS k(${columnNames(ENROLMENT_KEY)})
    WHERE ${ENROLMENT_KEY.map(({ column }) => `e.${column} = k.${column}`).join(' AND ')} RETURNING 1),
  saved AS (
    INSERT INTO enrolments (${columnNames(SAVED_COLUMNS)}) SELECT * FROM ${unnest((w) => w.saved, SAVED_COLUMNS)}
    ON CONFLICT (${columnNames(ENROLMENT_KEY)}) DO UPDATE SET ${ENROLMENT_VALUES.map(({ column }) => `${column} = EXCLUDED.${column}`).join(', ')}, updated_at = now()
    RETURNING 1),
  results AS (
    INSERT INTO processing_results (${columnNames(OUTCOME_COLUMNS)}) SELECT * FROM ${unnest((w) => w.outcomes, OUTCOME_COLUMNS)} RETURNING 1),
  traced AS (
    INSERT INTO pupil_trace (${columnNames(PUPIL_TRACE_COLUMNS)}) SELECT * FROM ${unnest((w) => w.pupilTrace, PUPIL_TRACE_COLUMNS)}
    ON CONFLICT DO NOTHING RETURNING 1),
  queued AS (${outboundInsert(unnest, (w) => w.storedOutbound)})
  ${WITH_DESTINATION}`,
);

/** The processing write's text and parameters for these writes (exported for the test that holds them together). */
export function processingWriteStatement(
  db: object,
  writes: ProcessingWrites,
): {
  readonly text: string;
  readonly values: unknown[];
} {
  const storedOutbound = storedDrafts(db, writes.outbound);
  return { text: PROCESSING_WRITE.text, values: PROCESSING_WRITE.values({ ...writes, storedOutbound }) };
}

/**
 * Writes everything a processing batch changed in one statement (one round trip, whatever the batch
 * size). A key is never both removed and saved: the register session keeps one final state per key.
 */
export async function writeProcessingResults(tx: Tx, writes: ProcessingWrites): Promise<QueuedOutbound[]> {
  const { text, values } = processingWriteStatement(tx, writes);
  const result = await tx.query<DestinationRow>(prepared('processing-write', text, values));
  // Rows come back in no promised order: each is matched to its draft by its own MessageID.
  const draftOf = new Map(writes.outbound.map((draft) => [draft.wsaMessageId.toLowerCase(), draft]));
  return result.rows.map((r) => {
    const draft = draftOf.get(r.wsa_message_id);
    if (!draft) throw new Error(`queued outbound message ${r.id} matches no draft`); // before COMMIT: the batch rolls back
    return {
      id: r.id,
      draft,
      endpointUrl: r.endpoint_url,
      paused: r.paused,
      verifyReceiptSignature: r.verify_receipt_signature,
    };
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
    [
      record.bsn,
      record.birthDate,
      record.gender,
      record.surname,
      record.prefixes,
      record.firstNames,
      record.address ? JSON.stringify(record.address) : null,
      record.dateOfDeath,
      record.firstEnrolmentPoVo ?? null,
    ],
  );
}
