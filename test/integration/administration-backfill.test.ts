/**
 * Migration 017 on enrolments stored before it: each takes the sender of the message that delivered its
 * stand, else the BRIN's preferred institution of today, else nothing.
 */
import { createPool, type Pool } from '../../src/infra/database.js';
import { migrate } from '../../src/infra/migrate.js';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { createTestDatabase } from '../support/services.js';
import { acceptedMessage, bodyFixture } from '../support/soap.js';

const SCHOOL = { oin: '0000000700025BE00000', brins: ['25BE'] };
const VENDOR = { oin: '00000003123456780000', brins: ['25BE', '26BE'] };

describe('migration 017: administration of existing enrolments', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = createPool(await createTestDatabase(), 2);
    await migrate(pool);
  });
  afterAll(async () => {
    await pool.end();
  });

  test.each([
    ["its stand's message is stored: that message's sender", '25BE', true, SCHOOL.oin],
    [
      "its message is gone: the BRIN's preferred institution (enabled with an endpoint first)",
      '25BE',
      false,
      VENDOR.oin,
    ],
    ['its message is gone, a BRIN only one institution holds', '26BE', false, VENDOR.oin],
    ['its message is gone and no institution holds the BRIN: none', '27BE', false, null],
  ])('%s', async (name, brin, messageKept, expected) => {
    for (const institution of [
      { ...SCHOOL, endpointUrl: null },
      { ...VENDOR, endpointUrl: 'http://127.0.0.1:9/las' },
    ]) {
      await upsertInstitution(pool, { ...institution, name: institution.oin, enabled: true });
    }
    const [stored] = await storeAcceptedBatch(
      pool,
      [acceptedMessage('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'))],
      null,
    );
    if (!stored || stored instanceof Error) throw stored ?? new Error('not stored');
    const sourceMessageId = messageKept ? stored.messageId : -1;
    // The database as it was before 017, with one enrolment of that time.
    await pool.query('ALTER TABLE enrolments DROP COLUMN administration_oin');
    await pool.query('DELETE FROM schema_migrations WHERE version = 17');
    await pool.query(
      `INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, document_time, stand, source_message_id)
      VALUES ($1, $2, '123456782', '2026-08-20', now(), '{}', $3)`,
      [brin, name, sourceMessageId],
    );

    expect(await migrate(pool)).toEqual([17]);
    const row = await pool.query(
      'SELECT administration_oin FROM enrolments WHERE brin = $1 AND inschrijvingvolgnummer = $2',
      [brin, name],
    );
    expect(row.rows).toEqual([{ administration_oin: expected }]);
  });
});
