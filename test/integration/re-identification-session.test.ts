/**
 * Re-identification in the register session: a batch never works on a pupil while another transaction
 * links one of its numbers (two real PostgreSQL transactions, ordered by watching the lock wait, no
 * sleeps), and one enrolment stored under both numbers is read and written as one.
 */
import type pg from 'pg';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { RegisterSession } from '../../src/processing/register-session.js';
import type { EnrolmentStand } from '../../src/register/enrolment.js';
import { linkOnderwijsnummer, lockPupils, upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';
import { oinOf } from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { ANONYMOUS, BROKER_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const handlers = createHandlers();
const now = () => new Date('2026-11-27T12:00:00Z');

describe('re-identification and the pupil locks', () => {
  const broker = useTestBroker();

  /** Seeds an enrolment stored under `pgn`, as an earlier processed stand would have left it. */
  async function storedEnrolment(pgn: string, volgnummer: string, sourceMessageId = 0): Promise<void> {
    await broker().pool.query(
      `INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, document_time, stand, source_message_id, administration_oin)
       VALUES ('25BE', $1, $2, '2026-08-25', now(), $3, $4, $5)`,
      [
        volgnummer,
        pgn,
        JSON.stringify({ brin: '25BE', inschrijvingvolgnummer: volgnummer, datumInschrijving: '2026-08-25' }),
        sourceMessageId,
        oinOf('25BE'),
      ],
    );
  }

  /** Seeds an onderwijsnummer the register assigned, with the birth date and gender it recorded. */
  async function assigned(onderwijsnummer: string, birthDate: string, gender: string): Promise<void> {
    await broker().pool.query(
      `INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ($1, $2, $3, 'Jansen', $1)`,
      [onderwijsnummer, birthDate, gender],
    );
  }

  /** True once some transaction waits for an advisory lock; false when `finished` comes first. */
  async function waitsForPupilLock(finished: () => boolean): Promise<boolean> {
    for (;;) {
      if (finished()) return false;
      const waiting = await broker().pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      if (waiting.rowCount! > 0) return true;
    }
  }

  async function inTwoTransactions(run: (a: pg.PoolClient, b: pg.PoolClient) => Promise<void>): Promise<void> {
    const [a, b] = [await broker().pool.connect(), await broker().pool.connect()];
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await run(a, b);
    } finally {
      await a.query('ROLLBACK').catch(() => undefined);
      await b.query('ROLLBACK').catch(() => undefined);
      a.release();
      b.release();
    }
  }

  test('a batch that waited for an identification loads the enrolments under the number it linked', async () => {
    const [own, bsn] = ['100000028', '111222333'];
    await storedEnrolment(own, 'L-1');
    await inTwoTransactions(async (batch, identification) => {
      await lockPupils(identification, [own, bsn], []);
      await linkOnderwijsnummer(identification, { onderwijsnummer: own, bsn });
      let opened = false;
      const opening = RegisterSession.open(batch, [{ pgns: [bsn] }]).finally(() => {
        opened = true;
      });
      expect(await waitsForPupilLock(() => opened)).toBe(true);
      await identification.query('COMMIT');
      const session = await opening;
      expect(session.enrolmentsOf(bsn).map((e) => [e.pgn, e.inschrijvingvolgnummer])).toEqual([[own, 'L-1']]);
      // The onderwijsnummer was locked too: a third batch on it waits for this one.
      expect(session.enrolmentsOf(own)).toHaveLength(1);
    });
  });

  test('an identification without a PGN that finds a BSN waits for the batch working on that BSN before it links', async () => {
    const [own, bsn] = ['100000041', '222333443'];
    await assigned(own, '2012-05-14', '1');
    await upsertPopulationRecord(broker().pool, {
      bsn,
      birthDate: '2012-05-14',
      gender: '1',
      surname: 'Jansen',
      prefixes: 'van',
      firstNames: 'Pieter Jan',
      dateOfDeath: null,
      address: {
        binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '12', postcode: '9712AB', plaatsnaam: 'Groningen' },
      },
    });
    await storedEnrolment(bsn, 'L-2');
    const body = bodyFixture('valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml')
      .replace('>100000004<', `>${own}<`)
      .replace('<idp:geboorteDatum>2012-05-00', '<idp:geboorteDatum>2012-05-14');
    const answer = await send(
      broker().baseUrl,
      lasRequest('aanleverenIdentificerenPersoonVO', body, { from: `${ANONYMOUS}?oin=${oinOf('25BE')}` }),
    );
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];

    const holder = await broker().pool.connect();
    try {
      await holder.query('BEGIN');
      await lockPupils(holder, [bsn], []);
      let finished = false;
      const processing = processMessage(broker().pool, handlers, id, {
        traceKey: TEST_SECRETS.TRACE_KEY,
        brokerOin: BROKER_OIN,
        now,
      }).finally(() => {
        finished = true;
      });
      expect(await waitsForPupilLock(() => finished)).toBe(true);
      await holder.query('COMMIT');
      const result = await processing;
      expect(result.outcome).toBe('identified');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    expect(
      (await broker().pool.query('SELECT onderwijsnummer, bsn FROM pupil_links WHERE bsn = $1', [bsn])).rows,
    ).toEqual([{ onderwijsnummer: own, bsn }]);
  });

  describe('one enrolment stored under both numbers of a linked pupil', () => {
    const [own, bsn] = ['100000053', '333444553'];
    beforeAll(async () => {
      await broker().pool.query('INSERT INTO pupil_links (onderwijsnummer, bsn) VALUES ($1, $2)', [own, bsn]);
      await storedEnrolment(own, 'D-1', 1);
      await storedEnrolment(bsn, 'D-1', 2);
    });

    async function inSession(run: (session: RegisterSession) => void): Promise<void> {
      await inTwoTransactions(async (tx) => run(await RegisterSession.open(tx, [{ pgns: [own] }])));
    }

    test.each([
      [own, 1],
      [bsn, 2],
    ])('asked under %s, the row stored under that number is the one read', async (pgn, source) => {
      await inSession((session) => {
        expect(session.enrolment({ pgn, brin: '25BE', volgnummer: 'D-1' })?.sourceMessageId).toBe(source);
      });
    });

    test.each([
      [own, bsn],
      [bsn, own],
    ])('a stand saved under %s removes the row under %s in the same write', async (savedUnder, other) => {
      await inSession((session) => {
        const stored = session.enrolment({ pgn: savedUnder, brin: '25BE', volgnummer: 'D-1' })!;
        const stand = {
          ...stored.stand,
          pgn: { kind: savedUnder === own ? 'OWN' : 'BSN', value: savedUnder },
        } as EnrolmentStand;
        session.save(stand, '2026-09-01T00:00:00.000Z', 3, oinOf('25BE'));
        const { removed, saved } = session.changes();
        expect([removed.map((e) => e.pgn), saved.map((e) => e.pgn)]).toEqual([[other], [savedUnder]]);
      });
    });

    test('a deletion removes the rows under both numbers', async () => {
      await inSession((session) => {
        session.remove({ pgn: own, brin: '25BE', volgnummer: 'D-1' });
        expect(
          session
            .changes()
            .removed.map((e) => e.pgn)
            .sort(),
        ).toEqual([own, bsn].sort());
        expect(session.enrolmentsOf(bsn)).toEqual([]);
      });
    });
  });
});
