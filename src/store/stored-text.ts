import type { StoredText } from '../infra/data-keys.js';
import { dataKeysOf, type Pool } from '../infra/database.js';

/** The columns that hold a message, each with its `_sealed` and `_key_id` companions (migration 021). */
export const RAW_XML = 'inbound_messages.raw_xml';
export const BODY_XML = 'outbound_messages.body_xml';

/** `m.raw_xml, m.raw_xml_sealed, m.raw_xml_key_id`: what a SELECT reads to open a stored message. */
export const storedTextColumns = (column: typeof RAW_XML | typeof BODY_XML, alias?: string): string => {
  const name = column.split('.')[1]!;
  const prefix = alias ? `${alias}.` : '';
  return `${prefix}${name}, ${prefix}${name}_sealed, ${prefix}${name}_key_id`;
};

/** A row's three columns of a stored message. */
export type StoredTextRow<N extends string> = { [K in N]: string | null } & {
  [K in `${N}_sealed`]: Buffer | null;
} & { [K in `${N}_key_id`]: string | null };

/** The message's text, opened with the keys of the pool or transaction `db` that read it. */
export function openRawXml(db: object, row: StoredTextRow<'raw_xml'>): string {
  return dataKeysOf(db).open({ plain: row.raw_xml, sealed: row.raw_xml_sealed, keyId: row.raw_xml_key_id }, RAW_XML);
}

export function openBodyXml(db: object, row: StoredTextRow<'body_xml'>): string {
  return dataKeysOf(db).open(
    { plain: row.body_xml, sealed: row.body_xml_sealed, keyId: row.body_xml_key_id },
    BODY_XML,
  );
}

/** `text` as `db` is to store it in `column`: sealed under the current key, or plain without one. */
export const sealFor = (db: object, column: typeof RAW_XML | typeof BODY_XML, text: string): StoredText =>
  dataKeysOf(db).seal(text, column);

const OPENERS = {
  [RAW_XML]: (db: object, row: Record<string, unknown>) => openRawXml(db, row as StoredTextRow<'raw_xml'>),
  [BODY_XML]: (db: object, row: Record<string, unknown>) => openBodyXml(db, row as StoredTextRow<'body_xml'>),
};

/**
 * Re-seals, under `tx`'s current data key, up to `limit` rows of `column`'s table after id `afterId`
 * that are not under it yet (plain text or an older key), in id order, locking them. Returns how many
 * it changed and the last id it looked at (null: none left). Each table's repository names its column.
 */
export async function resealBatch(
  tx: Pick<Pool, 'query'>,
  column: typeof RAW_XML | typeof BODY_XML,
  afterId: number,
  limit: number,
): Promise<{ resealed: number; lastId: number | null }> {
  const current = dataKeysOf(tx).current;
  if (!current) throw new Error('no data key to seal with');
  const [table, name] = column.split('.') as [string, string];
  const rows = (
    await tx.query<{ id: number } & Record<string, unknown>>(
      `SELECT id, ${storedTextColumns(column)} FROM ${table}
     WHERE id > $1 AND ${name}_key_id IS DISTINCT FROM $2 ORDER BY id LIMIT $3 FOR UPDATE`,
      [afterId, current.id, limit],
    )
  ).rows;
  const sealed = rows.map((row) => sealFor(tx, column, OPENERS[column](tx, row)));
  await tx.query(
    `UPDATE ${table} t SET ${name} = NULL, ${name}_sealed = s.sealed, ${name}_key_id = s.key_id
     FROM unnest($1::bigint[], $2::bytea[], $3::text[]) AS s(id, sealed, key_id) WHERE t.id = s.id`,
    [rows.map((r) => r.id), sealed.map((s) => s.sealed), sealed.map((s) => s.keyId)],
  );
  return { resealed: rows.length, lastId: rows.at(-1)?.id ?? null };
}
