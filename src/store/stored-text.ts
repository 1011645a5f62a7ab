import type { StoredText } from '../shared/data-keys.js';
import { dataKeysOf } from '../shared/database.js';

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
