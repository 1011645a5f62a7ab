import { Writable } from 'node:stream';
import { createLogger } from '../../src/infra/log.js';
import { runQualityChecks } from '../../src/processing/quality/quality-run.js';
import { startQualityScheduler } from '../../src/processing/quality/quality-scheduler.js';
import type { EnrolmentStand } from '../../src/register/enrolment.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { listQualityRuns, listQualitySignals } from '../../src/store/quality.repo.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { type DeliveryRig, startDeliveryRig, TEST_BROKER_OIN } from '../support/delivery-rig.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';

const broker = useTestBroker();

/** The bodies of the quality reports queued for a school, oldest first. */
const reportsTo = async (brin: string): Promise<string[]> =>
  withOpenedBodies(
    broker().pool,
    (
      await broker().pool.query(
        `SELECT ${BODY_XML_COLUMNS} FROM outbound_messages WHERE operation = 'verstrekkenKwaliteitscontrole' AND brin = $1 ORDER BY id`,
        [brin],
      )
    ).rows,
  ).map((row) => row.body_xml);
let rig: DeliveryRig;
const lines: string[] = [];
const log = createLogger(
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  }),
);

const SCHOOL_A = '41AA'; // with an endpoint
const SCHOOL_B = '42BB'; // with an endpoint
const SCHOOL_C = '43CC'; // no registered institution
const DEAD_BSN = '111222333';
const at = (iso: string) => () => new Date(iso);

async function saveEnrolment(
  brin: string,
  volgnummer: string,
  pgn: string,
  stand: Partial<EnrolmentStand>,
  administrationOin: string | null = null,
): Promise<void> {
  const full: EnrolmentStand = {
    pgn: { kind: 'BSN', value: pgn },
    brin,
    inschrijvingvolgnummer: volgnummer,
    datumInschrijving: '2026-08-20',
    perioden: [
      {
        datumBegin: '2026-08-20',
        opleidingcode: '0050',
        aanvullendeOpleidingen: [],
        vestiging: `${brin}00`,
        leerjaar: 1,
        indicatieBekostigbaar: true,
        experimenten: [],
      },
    ],
    ontwikkelingsperspectieven: [],
    verblijvenAndereInstelling: [],
    ...stand,
  };
  await broker().pool.query(
    `INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, datum_uitschrijving, document_time, stand, source_message_id, administration_oin)
     VALUES ($1, $2, $3, $4, $5, '2026-08-20T10:00:00Z', $6, 0, $7)
     ON CONFLICT (pgn, brin, inschrijvingvolgnummer) DO UPDATE SET stand = EXCLUDED.stand, datum_uitschrijving = EXCLUDED.datum_uitschrijving`,
    [
      brin,
      volgnummer,
      pgn,
      full.datumInschrijving,
      full.datumUitschrijving ?? null,
      JSON.stringify(full),
      administrationOin,
    ],
  );
}

beforeAll(async () => {
  rig = await startDeliveryRig(broker(), { timeoutMs: 2000, retries: 0, perInstitution: 4, pollMs: 50 });
  for (const [oin, brin] of [
    ['0000000700041AA00000', SCHOOL_A],
    ['0000000700042BB00000', SCHOOL_B],
  ] as const) {
    await upsertInstitution(broker().pool, {
      oin,
      name: brin,
      brins: [brin],
      endpointUrl: rig.endpoints.url(brin),
      enabled: true,
    });
  }
  await upsertPopulationRecord(broker().pool, {
    bsn: DEAD_BSN,
    birthDate: '2013-04-17',
    gender: '2',
    surname: 'Jansen',
    prefixes: null,
    firstNames: null,
    address: null,
    dateOfDeath: '2026-09-01',
  });
  await saveEnrolment(SCHOOL_A, 'A-1', DEAD_BSN, {}); // enrolled after death: Q0002
  await saveEnrolment(SCHOOL_B, 'B-1', '123456782', { datumInschrijving: '2026-09-01', perioden: [] }); // double with nobody: another pupil
  await saveEnrolment(SCHOOL_B, 'B-2', DEAD_BSN, { datumInschrijving: '2026-09-10', perioden: [] }); // double with A, and after death
  await saveEnrolment(SCHOOL_C, 'C-1', DEAD_BSN, { datumInschrijving: '2027-12-01', perioden: [] }); // far ahead, no institution
});
afterAll(async () => {
  await rig.close();
});

describe('the weekly quality run (real PostgreSQL, delivery to real HTTP endpoints)', () => {
  test('records the signals per school and enrolment, and each school receives only its own', async () => {
    const outcome = await runQualityChecks(
      { pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at('2026-09-15T02:00:00Z') },
      { actor: 'test' },
    );
    expect(outcome).toMatchObject({ ran: true, checkDate: '2026-09-15', pupils: 2, notified: 2 });

    const rows = (await listQualitySignals(broker().pool)).map((r) => [
      r.brin,
      r.inschrijvingvolgnummer,
      r.code,
      r.sleutelgegevens.map((k) => k.waarde).join(','),
    ]);
    expect(rows).toEqual([
      [SCHOOL_A, 'A-1', 'Q0002', '2026-09-01'],
      [SCHOOL_A, 'A-1', 'Q0013', SCHOOL_B],
      [SCHOOL_B, 'B-2', 'Q0002', '2026-09-01'],
      [SCHOOL_B, 'B-2', 'Q0013', SCHOOL_A],
      [SCHOOL_C, 'C-1', 'Q0001', '2027-12-01'],
      [SCHOOL_C, 'C-1', 'Q0002', '2026-09-01'],
    ]);

    const received = await waitFor(
      async () => [rig.endpoints.received(SCHOOL_A), rig.endpoints.received(SCHOOL_B)],
      ([a, b]) => a!.length > 0 && b!.length > 0,
    );
    const [toA, toB] = received.map((list) => list[0]!.xml);
    expect(toA).toContain('verstrekkenKwaliteitscontrole_Request');
    expect(toA).toContain(
      `<t:burgerservicenummer>${DEAD_BSN}</t:burgerservicenummer><t:inschrijvingvolgnummer>A-1</t:inschrijvingvolgnummer>`,
    );
    expect(toA).not.toContain('B-2');
    expect(toB).toContain(
      `<t:burgerservicenummer>${DEAD_BSN}</t:burgerservicenummer><t:inschrijvingvolgnummer>B-2</t:inschrijvingvolgnummer>`,
    );
    expect(toB).not.toContain('A-1');
    expect(toB).not.toContain('B-1');
    expect(toB).not.toContain('123456782'); // B-1's pupil has no signal
    const statuses = (
      await broker().pool.query(
        "SELECT brin, status FROM outbound_messages WHERE operation = 'verstrekkenKwaliteitscontrole' ORDER BY brin",
      )
    ).rows;
    await waitFor(
      async () =>
        (
          await broker().pool.query(
            "SELECT count(*)::int AS n FROM outbound_messages WHERE operation = 'verstrekkenKwaliteitscontrole' AND status = 'delivered'",
          )
        ).rows[0].n,
      (n) => n === 2,
    );
    expect(statuses.map((r) => r.brin)).toEqual([SCHOOL_A, SCHOOL_B]); // 43CC has no institution to receive it
    expect(lines.join('')).not.toContain(DEAD_BSN);
  });

  test('a signal that no longer applies disappears at the next run; one that still does keeps its first day', async () => {
    await saveEnrolment(SCHOOL_B, 'B-2', DEAD_BSN, {
      datumInschrijving: '2026-09-10',
      datumUitschrijving: '2026-09-01',
      perioden: [],
    });
    await saveEnrolment(SCHOOL_A, 'A-1', DEAD_BSN, { datumUitschrijving: '2026-09-01' });
    const outcome = await runQualityChecks({
      pool: broker().pool,
      brokerOin: TEST_BROKER_OIN,
      log,
      now: at('2026-09-22T02:00:00Z'),
    });
    expect(outcome).toMatchObject({ ran: true, notified: 0 });
    const rows = await listQualitySignals(broker().pool);
    expect(rows.map((r) => [r.brin, r.code, r.firstSeen.toISOString(), r.lastSeen.toISOString()])).toEqual([
      [SCHOOL_C, 'Q0001', '2026-09-15T02:00:00.000Z', '2026-09-22T02:00:00.000Z'],
      [SCHOOL_C, 'Q0002', '2026-09-15T02:00:00.000Z', '2026-09-22T02:00:00.000Z'],
    ]);
  });

  test('two processes on one slot: exactly one runs it; a later tick does not run it again', async () => {
    const schedule = { cron: '0 3 * * 6', timezone: 'Europe/Amsterdam' };
    const deps = { pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, schedule };
    // Started before Saturday 3 October 03:00 (Amsterdam, 01:00 UTC); now it is past that slot.
    let now = new Date('2026-10-02T12:00:00Z');
    const clock = () => now;
    const first = startQualityScheduler({ ...deps, now: clock });
    const second = startQualityScheduler({ ...deps, now: clock });
    try {
      expect((await Promise.all([first.tick(), second.tick()])).filter((o) => o.ran)).toEqual([]); // the slot before the start: not on a fresh schedule
      now = new Date('2026-10-03T01:00:30Z');
      const outcomes = await Promise.all([first.tick(), second.tick()]);
      expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
      expect(outcomes.find((o) => !o.ran)).toMatchObject({ reason: expect.stringMatching(/^(busy|not-due)$/) });
      expect(await first.tick()).toEqual({ ran: false, reason: 'not-due' });
      const scheduled = (await listQualityRuns(broker().pool)).filter((r) => r.trigger === 'schedule');
      expect(scheduled.map((r) => r.slot)).toEqual(['2026-10-03T01:00:00.000Z']);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('a slot missed while no broker ran is caught up once an earlier slot has run', async () => {
    const deps = {
      pool: broker().pool,
      brokerOin: TEST_BROKER_OIN,
      log,
      schedule: { cron: '0 3 * * 6', timezone: 'Europe/Amsterdam' },
    };
    const restarted = startQualityScheduler({ ...deps, now: at('2026-10-12T09:00:00Z') }); // missed Saturday 10 October
    try {
      expect(await restarted.tick()).toMatchObject({ ran: true, checkDate: '2026-10-12' });
      const scheduled = (await listQualityRuns(broker().pool)).filter((r) => r.trigger === 'schedule');
      expect(scheduled.map((r) => r.slot)).toEqual(['2026-10-10T01:00:00.000Z', '2026-10-03T01:00:00.000Z']);
    } finally {
      await restarted.close();
    }
  });

  test('a run that fails leaves no run and no signals behind, so its slot runs again', async () => {
    const before = await listQualitySignals(broker().pool);
    await broker().pool.query(
      "UPDATE enrolments SET stand = jsonb_set(stand, '{perioden}', '\"broken\"') WHERE inschrijvingvolgnummer = 'C-1'",
    );
    try {
      await expect(
        runQualityChecks(
          { pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at('2026-10-17T01:00:00Z') },
          { slot: new Date('2026-10-17T01:00:00Z') },
        ),
      ).rejects.toThrow();
      expect(await listQualitySignals(broker().pool)).toEqual(before);
      expect((await listQualityRuns(broker().pool)).map((r) => r.slot)).not.toContain('2026-10-17T01:00:00.000Z');
    } finally {
      await saveEnrolment(SCHOOL_C, 'C-1', DEAD_BSN, { datumInschrijving: '2027-12-01', perioden: [] });
    }
    expect(
      await runQualityChecks(
        { pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at('2026-10-17T01:00:00Z') },
        { slot: new Date('2026-10-17T01:00:00Z') },
      ),
    ).toMatchObject({ ran: true });
  });

  test('an age signal settles: listed and sent until 120 days after it was first found, no longer after', async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: '222333444',
      birthDate: '2019-01-01',
      gender: '1',
      surname: 'Jong',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
    });
    await saveEnrolment(SCHOOL_A, 'A-young', '222333444', {}); // 7 on 1 August 2026: Q0005
    const runOn = async (iso: string) => {
      await runQualityChecks({ pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at(iso) });
      const listed = (await listQualitySignals(broker().pool, { brins: [SCHOOL_A] }))
        .filter((r) => r.inschrijvingvolgnummer === 'A-young')
        .map((r) => r.code);
      // This run's report to the school, if it got one.
      const report = (await reportsTo(SCHOOL_A)).find((body) =>
        body.includes(`<t:datumControle>${iso.slice(0, 10)}</t:datumControle>`),
      );
      return {
        listed,
        sent: report?.includes('<t:inschrijvingvolgnummer>A-young</t:inschrijvingvolgnummer>') ?? false,
      };
    };
    expect(await runOn('2026-10-20T01:00:00Z')).toEqual({ listed: ['Q0005'], sent: true });
    expect(await runOn('2027-02-17T01:00:00Z')).toEqual({ listed: ['Q0005'], sent: true }); // 120 days on
    expect(await runOn('2027-02-18T01:00:00Z')).toEqual({ listed: [], sent: false });
    expect(
      (
        await broker().pool.query(
          "SELECT to_char(first_seen, 'YYYY-MM-DD') AS d FROM quality_signals WHERE inschrijvingvolgnummer = 'A-young'",
        )
      ).rows,
    ).toEqual([{ d: '2026-10-20' }]);
  });

  test('two pupils with one volgnummer at one school: a row each, and the school is told both by their own PGN', async () => {
    const bsn = '333444555';
    const onderwijsnummer = '100000004';
    // Both enrolled more than a year ahead of the run (Q0001), both with volgnummer 1 at school A.
    await saveEnrolment(SCHOOL_A, '1', bsn, { datumInschrijving: '2028-09-01', perioden: [] });
    await saveEnrolment(SCHOOL_A, '1', onderwijsnummer, {
      pgn: { kind: 'OWN', value: onderwijsnummer },
      datumInschrijving: '2028-10-01',
      perioden: [],
    });
    lines.length = 0;
    const outcome = await runQualityChecks({
      pool: broker().pool,
      brokerOin: TEST_BROKER_OIN,
      log,
      now: at('2027-03-01T01:00:00Z'),
    });
    expect(outcome).toMatchObject({ ran: true });

    const rows = (await listQualitySignals(broker().pool, { brins: [SCHOOL_A] })).filter(
      (r) => r.inschrijvingvolgnummer === '1',
    );
    expect(rows.map((r) => [r.pgn, r.code, r.sleutelgegevens[0]!.waarde])).toEqual([
      [{ kind: 'OWN', value: onderwijsnummer }, 'Q0001', '2028-10-01'],
      [{ kind: 'BSN', value: bsn }, 'Q0001', '2028-09-01'],
    ]);
    const report = (await reportsTo(SCHOOL_A)).find((body) =>
      body.includes('<t:datumControle>2027-03-01</t:datumControle>'),
    )!;
    expect(report).toContain(
      `<t:burgerservicenummer>${bsn}</t:burgerservicenummer><t:inschrijvingvolgnummer>1</t:inschrijvingvolgnummer>`,
    );
    expect(report).toContain(
      `<t:onderwijsnummer>${onderwijsnummer}</t:onderwijsnummer><t:inschrijvingvolgnummer>1</t:inschrijvingvolgnummer>`,
    );
    expect(lines.length).toBeGreaterThan(0);
    for (const pgn of [bsn, onderwijsnummer, DEAD_BSN]) expect(lines.join('')).not.toContain(pgn);
  });

  test('a BRIN with two administrations: each gets a report of the enrolments it delivered, and only those', async () => {
    const [x, y] = ['0000000700044DX00000', '0000000700044DY00000'];
    // One school (44DD), two administrations with endpoints of their own (the rig keys endpoints by the URL's last part).
    await upsertInstitution(broker().pool, {
      oin: x,
      name: 'X',
      brins: ['44DD'],
      endpointUrl: rig.endpoints.url('44DX'),
      enabled: true,
    });
    await upsertInstitution(broker().pool, {
      oin: y,
      name: 'Y',
      brins: ['44DD'],
      endpointUrl: rig.endpoints.url('44DY'),
      enabled: true,
    });
    await saveEnrolment('44DD', 'X-1', '444555666', { datumInschrijving: '2029-09-01', perioden: [] }, x); // Q0001, delivered by X
    await saveEnrolment('44DD', 'Y-1', '555666777', { datumInschrijving: '2029-10-01', perioden: [] }, y); // Q0001, delivered by Y
    await runQualityChecks({ pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at('2027-04-01T01:00:00Z') });

    const reports = withOpenedBodies(
      broker().pool,
      (
        await broker().pool.query(
          `SELECT institution_oin, ${BODY_XML_COLUMNS} FROM outbound_messages WHERE operation = 'verstrekkenKwaliteitscontrole' AND brin = '44DD' ORDER BY institution_oin`,
        )
      ).rows,
    );
    expect(reports.map((r) => r.institution_oin)).toEqual([x, y]);
    expect(reports[0]!.body_xml).toContain('<t:inschrijvingvolgnummer>X-1</t:inschrijvingvolgnummer>');
    expect(reports[0]!.body_xml).not.toContain('Y-1');
    expect(reports[1]!.body_xml).toContain('<t:inschrijvingvolgnummer>Y-1</t:inschrijvingvolgnummer>');
    expect(reports[1]!.body_xml).not.toContain('X-1');
    await waitFor(
      async () => [rig.endpoints.received('44DX').length, rig.endpoints.received('44DY').length],
      ([a, b]) => a === 1 && b === 1,
    );
  });

  test('the run checks the Dutch day: at 00:30 in Amsterdam it is already the next day', async () => {
    const outcome = await runQualityChecks(
      { pool: broker().pool, brokerOin: TEST_BROKER_OIN, log, now: at('2027-05-01T22:30:00Z') },
      { actor: 'test' },
    );
    expect(outcome).toMatchObject({ ran: true, checkDate: '2027-05-02' });
  });
});
