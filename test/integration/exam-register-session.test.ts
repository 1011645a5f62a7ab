/**
 * Exam results in the register session: one exam result is one row whichever of the pupil's numbers
 * it was delivered under, and its diploma follows its stand.
 */

import { inTransaction } from '../../src/infra/database.js';
import { InvariantError } from '../../src/infra/errors.js';
import { RegisterSession } from '../../src/processing/register-session.js';
import { diplomaOf } from '../../src/register/diploma.js';
import type { ExamResultStand } from '../../src/register/exam-result.js';
import { diplomasOf } from '../../src/store/exam-results.repo.js';
import { linkOnderwijsnummer } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';

const BSN = '123456782';
const OWN = '100000004';

const stand = (pgn: { kind: 'BSN' | 'OWN'; value: string }, uitslagcode: 'G' | 'A'): ExamResultStand => ({
  pgn,
  brin: '25BE',
  examenresultaatvolgnummer: '1',
  onderwijsaanbieder: '100A200',
  indicaties: { teruggetrokken: false, eerderLeerjaar: false, gespreidExamen: false, doorlopendeLeerlijn: false },
  examenregime: '2027',
  niveau: 'VWO',
  uitslag: { datumUitslag: '2027-06-12', uitslagcode },
  vakken: [{ vakcode: 'NE', eindcijfer: '7', indicatieDiplomavak: true }],
  toetsen: [],
  herkansingen: [],
});

describe('exam results in the register session', () => {
  const broker = useTestBroker();

  async function inSession<T>(pgns: string[], work: (session: RegisterSession) => Promise<T>): Promise<T> {
    return inTransaction(broker().pool, async (tx) => work(await RegisterSession.open(tx, [{ pgns }])));
  }
  async function save(session: RegisterSession, result: ExamResultStand, time: string): Promise<void> {
    await session.saveExamResult(
      {
        pgn: result.pgn.value,
        brin: '25BE',
        examenresultaatvolgnummer: '1',
        documentTime: time,
        stand: result,
        sourceMessageId: 1,
        uitslagStoredAt: time,
      },
      diplomaOf(result),
    );
  }

  test('saved under the onderwijsnummer, then under the linked BSN: one result, one diploma', async () => {
    await inTransaction(broker().pool, (tx) => linkOnderwijsnummer(tx, { onderwijsnummer: OWN, bsn: BSN }));
    await inSession([OWN], (session) =>
      save(session, stand({ kind: 'OWN', value: OWN }, 'G'), '2027-06-12T10:00:00.000Z'),
    );
    expect(await diplomasOf(broker().pool, OWN)).toHaveLength(1);
    expect(await diplomasOf(broker().pool, BSN)).toHaveLength(1); // the linked BSN's pupil has it too

    const second = await inSession([BSN], async (session) => {
      expect((await session.examResultsOf(BSN)).map((r) => r.pgn)).toEqual([OWN]); // found under the other number
      await save(session, stand({ kind: 'BSN', value: BSN }, 'G'), '2027-06-13T10:00:00.000Z');
      return session.examResultsOf(BSN);
    });
    expect(second.map((r) => r.pgn)).toEqual([BSN]);
    // One pupil, one diploma, whichever number asks.
    const diploma = {
      brin: '25BE',
      level: 'VWO',
      diplomaDate: '2027-06-12',
      subjects: [{ vak: 'NE', eindcijfer: '7' }],
    };
    expect(await diplomasOf(broker().pool, BSN)).toEqual([diploma]);
    expect(await diplomasOf(broker().pool, OWN)).toEqual([diploma]);
    const rows = await broker().pool.query('SELECT pgn FROM diplomas');
    expect(rows.rows).toEqual([{ pgn: BSN }]);
  });

  test('a failed stand takes the diploma away; a failed result over a failed one gives none', async () => {
    await inSession([BSN], (session) =>
      save(session, stand({ kind: 'BSN', value: BSN }, 'A'), '2027-06-20T10:00:00.000Z'),
    );
    expect(await diplomasOf(broker().pool, BSN)).toEqual([]);
    await inSession([BSN], (session) =>
      save(session, { ...stand({ kind: 'BSN', value: BSN }, 'A'), niveau: 'HAVO' }, '2027-06-21T10:00:00.000Z'),
    );
    expect(await diplomasOf(broker().pool, BSN)).toEqual([]);
  });

  test('one result stored under both numbers before they were linked is one diploma, its newest stand’s', async () => {
    const bsn = '111222333';
    const own = '100000016';
    const result = (pgn: { kind: 'BSN' | 'OWN'; value: string }, datumUitslag: string): ExamResultStand => ({
      ...stand(pgn, 'G'),
      uitslag: { datumUitslag, uitslagcode: 'G' },
    });
    await inSession([own], (session) =>
      save(session, result({ kind: 'OWN', value: own }, '2027-06-12'), '2027-06-12T10:00:00.000Z'),
    );
    await inSession([bsn], (session) =>
      save(session, result({ kind: 'BSN', value: bsn }, '2027-06-14'), '2027-06-14T10:00:00.000Z'),
    );
    await inTransaction(broker().pool, (tx) => linkOnderwijsnummer(tx, { onderwijsnummer: own, bsn }));
    for (const number of [bsn, own])
      expect((await diplomasOf(broker().pool, number)).map((d) => d.diplomaDate)).toEqual(['2027-06-14']);
  });

  test('a stand without onderwijsaanbieder is never saved: the rules reject it first', async () => {
    const { onderwijsaanbieder: _, ...without } = stand({ kind: 'BSN', value: BSN }, 'A');
    await expect(inSession([BSN], (session) => save(session, without, '2027-06-30T10:00:00.000Z'))).rejects.toThrow(
      InvariantError,
    );
  });

  test('removing removes under every number, with the diploma', async () => {
    await inSession([BSN], (session) =>
      save(session, stand({ kind: 'BSN', value: BSN }, 'G'), '2027-06-22T10:00:00.000Z'),
    );
    const left = await inSession([OWN], async (session) => {
      await session.removeExamResult({ pgn: OWN, brin: '25BE', examenresultaatvolgnummer: '1' });
      return session.examResultsOf(OWN);
    });
    expect(left).toEqual([]);
    expect(await diplomasOf(broker().pool, BSN)).toEqual([]);
  });
});
