/** Tests that read outbound bodies with SQL: the test brokers seal them (DATA_KEYS), the repository opens them. */
import type { Pool } from '../../src/infra/database.js';
import { openBodyXml } from '../../src/store/stored-text.js';

/** The SELECT list of an outbound body: its plain text, sealed form and key id. */
export const BODY_XML_COLUMNS = 'body_xml, body_xml_sealed, body_xml_key_id';

type OpenedRow = { body_xml: string; [column: string]: any };

/** The rows with `body_xml` opened to its text, and the sealed columns left out. */
export function withOpenedBodies<T extends { body_xml: string } = OpenedRow>(
  pool: Pool,
  rows: readonly Record<string, unknown>[],
): T[] {
  return rows.map(({ body_xml, body_xml_sealed, body_xml_key_id, ...row }) => ({
    ...row,
    body_xml: openBodyXml(pool, { body_xml, body_xml_sealed, body_xml_key_id } as Parameters<typeof openBodyXml>[1]),
  })) as unknown as T[];
}
