import type pg from 'pg';
import type { EnrolmentStand } from '../register/enrolment.js';

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
 * Takes a message out of the processing outbox, or returns null when another worker (or an earlier
 * run of this job) already did. The row lock of the DELETE serialises concurrent claims.
 */
export async function claimForProcessing(tx: Tx, messageId: number): Promise<ClaimedMessage | null> {
  const result = await tx.query<{ id: number; operation: string; sender_oin: string; brin: string | null; document_id: string; document_time: Date; raw_xml: string }>(
    `WITH claimed AS (DELETE FROM processing_outbox WHERE message_id = $1 RETURNING message_id)
     SELECT m.id, m.operation, m.sender_oin, m.brin, m.document_id, m.document_time, m.raw_xml
     FROM inbound_messages m JOIN claimed c ON c.message_id = m.id`,
    [messageId],
  );
  const row = result.rows[0];
  return row ? { id: row.id, operation: row.operation, senderOin: row.sender_oin, brin: row.brin, documentId: row.document_id, documentTime: row.document_time.toISOString(), rawXml: row.raw_xml } : null;
}

export async function markProcessed(tx: Tx, messageId: number, outcome: string): Promise<void> {
  await tx.query('UPDATE inbound_messages SET processed_at = now(), outcome = $2 WHERE id = $1', [messageId, outcome]);
}

export interface StoredEnrolment {
  readonly id: number;
  readonly pgn: string;
  readonly documentTime: string;
  readonly stand: EnrolmentStand;
}

/** The enrolment with this BRIN and volgnummer, locked for the rest of the transaction. */
export async function lockEnrolment(tx: Tx, brin: string, volgnummer: string): Promise<StoredEnrolment | null> {
  const result = await tx.query<{ id: number; pgn: string; document_time: Date; stand: EnrolmentStand }>(
    'SELECT id, pgn, document_time, stand FROM enrolments WHERE brin = $1 AND inschrijvingvolgnummer = $2 FOR UPDATE',
    [brin, volgnummer],
  );
  const row = result.rows[0];
  return row ? { id: row.id, pgn: row.pgn, documentTime: row.document_time.toISOString(), stand: row.stand } : null;
}

/** This person's enrolments at other BRINs (for double enrolment). */
export async function otherEnrolments(tx: Tx, pgn: string, brin: string): Promise<{ brin: string; datumInschrijving: string; datumUitschrijving?: string }[]> {
  const result = await tx.query<{ brin: string; datum_inschrijving: string; datum_uitschrijving: string | null }>(
    `SELECT brin, to_char(datum_inschrijving, 'YYYY-MM-DD') AS datum_inschrijving, to_char(datum_uitschrijving, 'YYYY-MM-DD') AS datum_uitschrijving
     FROM enrolments WHERE pgn = $1 AND brin <> $2`,
    [pgn, brin],
  );
  return result.rows.map((r) => ({ brin: r.brin, datumInschrijving: r.datum_inschrijving, ...(r.datum_uitschrijving ? { datumUitschrijving: r.datum_uitschrijving } : {}) }));
}

/** Writes the stand as the enrolment's current state (insert or replace). */
export async function saveEnrolment(tx: Tx, stand: EnrolmentStand, documentTime: string, sourceMessageId: number): Promise<void> {
  await tx.query(
    `INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, datum_uitschrijving, document_time, stand, source_message_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (brin, inschrijvingvolgnummer) DO UPDATE SET pgn = EXCLUDED.pgn, datum_inschrijving = EXCLUDED.datum_inschrijving,
       datum_uitschrijving = EXCLUDED.datum_uitschrijving, document_time = EXCLUDED.document_time, stand = EXCLUDED.stand,
       source_message_id = EXCLUDED.source_message_id, updated_at = now()`,
    [stand.brin, stand.inschrijvingvolgnummer, stand.pgn.value, stand.datumInschrijving, stand.datumUitschrijving ?? null, documentTime, JSON.stringify(stand), sourceMessageId],
  );
}

export async function deleteEnrolment(tx: Tx, id: number): Promise<void> {
  await tx.query('DELETE FROM enrolments WHERE id = $1', [id]);
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
}

export async function findPopulationRecord(tx: Tx, bsn: string): Promise<PopulationRecord | null> {
  const result = await tx.query<{ bsn: string; birth_date: string; gender: string; surname: string; prefixes: string | null; first_names: string | null; address: Record<string, Record<string, string>> | null; date_of_death: string | null }>(
    `SELECT bsn, birth_date, gender, surname, prefixes, first_names, address, to_char(date_of_death, 'YYYY-MM-DD') AS date_of_death
     FROM population_register WHERE bsn = $1`,
    [bsn],
  );
  const r = result.rows[0];
  return r ? { bsn: r.bsn, birthDate: r.birth_date, gender: r.gender, surname: r.surname, prefixes: r.prefixes, firstNames: r.first_names, address: r.address, dateOfDeath: r.date_of_death } : null;
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

/** Queues messages for institutions in the same transaction as the change that causes them. */
export async function insertOutbound(tx: Tx, drafts: readonly OutboundDraft[]): Promise<number[]> {
  if (drafts.length === 0) return [];
  const column = <T>(pick: (d: OutboundDraft) => T): T[] => drafts.map(pick);
  const result = await tx.query<{ id: number }>(
    `INSERT INTO outbound_messages (institution_oin, brin, operation, wsa_message_id, document_id, body_xml, cause_message_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::bigint[])
     RETURNING id`,
    [column((d) => d.institutionOin), column((d) => d.brin), column((d) => d.operation), column((d) => d.wsaMessageId),
      column((d) => d.documentId), column((d) => d.bodyXml), column((d) => d.causeMessageId)],
  );
  return result.rows.map((r) => r.id);
}

/** Adds or replaces a population-register entry (CLI loader, demo seed, tests). */
export async function upsertPopulationRecord(db: Pick<Tx, 'query'>, record: PopulationRecord): Promise<void> {
  await db.query(
    `INSERT INTO population_register (bsn, birth_date, gender, surname, prefixes, first_names, address, date_of_death)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (bsn) DO UPDATE SET birth_date = EXCLUDED.birth_date, gender = EXCLUDED.gender, surname = EXCLUDED.surname,
       prefixes = EXCLUDED.prefixes, first_names = EXCLUDED.first_names, address = EXCLUDED.address,
       date_of_death = EXCLUDED.date_of_death, updated_at = now()`,
    [record.bsn, record.birthDate, record.gender, record.surname, record.prefixes, record.firstNames, record.address ? JSON.stringify(record.address) : null, record.dateOfDeath],
  );
}
