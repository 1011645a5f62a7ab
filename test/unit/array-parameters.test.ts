import { describe, expect, it } from '@jest/globals';
import type { StoredEnrolment } from '../../src/register/enrolment.js';
import { arrayStatement, columnNames } from '../../src/store/array-parameters.js';
import { type ProcessingWrites, processingWriteStatement } from '../../src/store/register.repo.js';

/** Each `INSERT INTO table (columns) SELECT * FROM unnest(placeholders)` of a statement: its columns paired with their parameter numbers. */
function insertedColumns(text: string): Map<string, { column: string; parameter: number; type: string }[]> {
  const inserts = new Map<string, { column: string; parameter: number; type: string }[]>();
  for (const m of text.matchAll(/INSERT INTO (\w+) \(([^)]*)\) SELECT \* FROM unnest\(([^)]*)\)/g)) {
    const columns = m[2]!.split(',').map((c) => c.trim());
    const placeholders = m[3]!.split(',').map((p) => /^\s*\$(\d+)::(\w+)\[\]\s*$/.exec(p)!);
    expect(placeholders).toHaveLength(columns.length);
    inserts.set(
      m[1]!,
      columns.map((column, i) => ({ column, parameter: Number(placeholders[i]![1]), type: placeholders[i]![2]! })),
    );
  }
  return inserts;
}

describe('array-parameter statements', () => {
  it('numbers placeholders in the order asked for, each with its column of the parameter array', () => {
    const statement = arrayStatement<{ a: { x: number; y: string }[]; b: { z: boolean }[] }>(
      (unnest) =>
        `${unnest(
          (input) => input.a,
          [
            { column: 'x', type: 'int', value: (r) => r.x },
            { column: 'y', type: 'text', value: (r) => r.y },
          ],
        )} / ${unnest((input) => input.b, [{ column: 'z', type: 'bool', value: (r) => r.z }])}`,
    );
    expect(statement.text).toBe('unnest($1::int[], $2::text[]) / unnest($3::bool[])');
    expect(
      statement.values({
        a: [
          { x: 1, y: 'one' },
          { x: 2, y: 'two' },
        ],
        b: [{ z: true }],
      }),
    ).toEqual([[1, 2], ['one', 'two'], [true]]);
    expect(statement.values({ a: [], b: [] })).toEqual([[], [], []]);
    expect(columnNames([{ column: 'x' }, { column: 'y' }])).toBe('x, y');
  });

  describe('the processing write', () => {
    const stand = {
      pgn: { kind: 'BSN', value: 'pgn-s' },
      brin: 'brin-s',
      inschrijvingvolgnummer: 'vn-s',
      datumInschrijving: '2026-08-01',
      datumUitschrijving: '2027-07-31',
      perioden: [],
      ontwikkelingsperspectieven: [],
      verblijvenAndereInstelling: [],
    } as const;
    const saved: StoredEnrolment = {
      pgn: 'pgn-s',
      brin: 'brin-s',
      inschrijvingvolgnummer: 'vn-s',
      documentTime: '2026-08-01T10:00:00.000Z',
      stand,
      sourceMessageId: 41,
      administrationOin: 'oin-s',
    };
    const writes: ProcessingWrites = {
      removed: [{ pgn: 'pgn-r', brin: 'brin-r', inschrijvingvolgnummer: 'vn-r' }],
      saved: [saved],
      outcomes: [{ messageId: 42, outcome: 'approved' }],
      outbound: [
        {
          institutionOin: 'oin-o',
          brin: 'brin-o',
          operation: 'op-o',
          wsaMessageId: 'wsa-o',
          documentId: 'doc-o',
          bodyXml: '<body/>',
          causeMessageId: 43,
        },
      ],
      pupilTrace: [{ pupilKey: Buffer.from('key'), inboundMessageId: 44 }],
    };
    // A pool-less object has no data keys: the body goes into the plain-text column.
    const { text, values } = processingWriteStatement({}, writes);

    it('uses every parameter exactly once, numbered 1 to n', () => {
      const used = [...text.matchAll(/\$(\d+)::/g)].map((m) => Number(m[1]));
      expect(used).toEqual(values.map((_, i) => i + 1));
    });

    it("puts each column's values at the placeholder written under that column", () => {
      const expected: Record<string, Record<string, unknown>> = {
        enrolments: {
          pgn: 'pgn-s',
          brin: 'brin-s',
          inschrijvingvolgnummer: 'vn-s',
          datum_inschrijving: '2026-08-01',
          datum_uitschrijving: '2027-07-31',
          document_time: saved.documentTime,
          stand: JSON.stringify(stand),
          source_message_id: 41,
          administration_oin: 'oin-s',
        },
        processing_results: { message_id: 42, outcome: 'approved' },
        pupil_trace: { pupil_key: Buffer.from('key'), inbound_message_id: 44 },
        outbound_messages: {
          institution_oin: 'oin-o',
          brin: 'brin-o',
          operation: 'op-o',
          wsa_message_id: 'wsa-o',
          document_id: 'doc-o',
          body_xml: '<body/>',
          body_xml_sealed: null,
          body_xml_key_id: null,
          cause_message_id: 43,
        },
      };
      const inserts = insertedColumns(text);
      expect([...inserts.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [table, columns] of inserts) {
        expect(
          Object.fromEntries(columns.map(({ column, parameter }) => [column, (values[parameter - 1] as unknown[])[0]])),
        ).toEqual(expected[table]);
      }
    });

    it('deletes by the removed key, each part matched to its own column', () => {
      const m = /USING unnest\(([^)]*)\) AS k\(([^)]*)\)\s*WHERE ([^\n]*) RETURNING/.exec(text)!;
      const parameters = m[1]!.split(',').map((p) => Number(/\$(\d+)/.exec(p)![1]));
      const aliases = m[2]!.split(',').map((a) => a.trim());
      const removed = Object.fromEntries(
        aliases.map((alias, i) => [alias, (values[parameters[i]! - 1] as unknown[])[0]]),
      );
      expect(removed).toEqual({ pgn: 'pgn-r', brin: 'brin-r', inschrijvingvolgnummer: 'vn-r' });
      for (const alias of aliases) expect(m[3]).toContain(`e.${alias} = k.${alias}`);
    });

    it('updates every non-key column of an enrolment on conflict', () => {
      const update = /DO UPDATE SET ([^\n]*)/.exec(text)![1]!;
      for (const column of [
        'datum_inschrijving',
        'datum_uitschrijving',
        'document_time',
        'stand',
        'source_message_id',
        'administration_oin',
      ]) {
        expect(update).toContain(`${column} = EXCLUDED.${column}`);
      }
    });
  });
});
