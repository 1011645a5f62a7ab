/**
 * Prior education with the MBO and HO stand-in, end to end: before any load the MBO and HO sections are
 * not held (no indicatieStartkwalificatie, 99); `education load` (the CLI, audited) fills them; the next
 * push carries the MBO participation as the latest or current one, the MBO diploma with its results, the
 * HO degree and both indications, validates against the outbound XSD, and goes to the subscriber once,
 * from the load itself; the same file again pushes nothing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { educationRecordsOf } from '../../src/operator/cli/education.command.js';
import { loadEducation } from '../../src/operator/operator-actions.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { startSubscriptionExpiry } from '../../src/processing/subscription-expiry.js';
import { isValidBsn } from '../../src/register/pgn.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { databaseUrlOf, oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { BRP_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const VO = '31AA';
const MBO = '41MB';

const bsns = (() => {
  const found: string[] = [];
  for (let n = 410_000_000; found.length < 5; n++) if (isValidBsn(String(n))) found.push(String(n));
  return found;
})();

let documentClock = 0;
const nextDocumentTime = (): string => {
  documentClock += 1;
  return new Date(Date.UTC(2026, 10, 1, 8, 0, documentClock)).toISOString();
};

/** A VO enrolment that ended in July 2025 (the register pushes only while it holds one of the pupil). */
const voStand = (bsn: string): string =>
  bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/<ins:inschrijvingPeriodeVO>\s*<bas:datumBegin>2027-08-19[\s\S]*?<\/ins:inschrijvingPeriodeVO>/, '')
    .replace(/<ins:ontwikkelingsperspectief>[\s\S]*<\/ins:verblijfAndereInstelling>/, '')
    .replace(
      '<bas:datumTijdBedrijfsdocument>2026-09-01T08:15:00Z<',
      `<bas:datumTijdBedrijfsdocument>${nextDocumentTime()}<`,
    )
    .replace(/25BE/g, VO)
    .replace('123456782', bsn)
    .replace(/2026-0001/g, `${VO}-${bsn}`)
    .replace(
      '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving>',
      '<bas:datumInschrijving>2022-08-20</bas:datumInschrijving><bas:datumUitschrijving>2025-07-31</bas:datumUitschrijving>',
    )
    .replace('<bas:datumBegin>2026-08-20<', '<bas:datumBegin>2022-08-20<')
    .replace('<ins:leerjaar>1<', '<ins:leerjaar>4<')
    .replace(/<bas:aanvullendeOpleiding>[\s\S]*?<\/bas:aanvullendeOpleiding>/, '')
    .replace(/<ins:experiment>[\s\S]*?<\/ins:experiment>/, '');

const identification = (bsn: string): string =>
  bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml')
    .replace(/25BE/g, MBO)
    .replace('123456782', bsn)
    .replace('<idp:geboorteDatum>2013-04-17<', '<idp:geboorteDatum>2009-04-17<');

const request = (bsn: string): string =>
  bodyFixture('valid/aanvragenVooropleidingen.xml').replace(/25BE/g, MBO).replace('123456782', bsn);

const move = (bsn: string, street: string): string =>
  bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml')
    .replace('123456782', bsn)
    .replace('<bd:straatnaam>Vismarkt<', `<bd:straatnaam>${street}<`);

const NOW = new Date('2026-11-27T12:00:00Z');

describe('prior education from the MBO and HO stand-in', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    for (const brin of [VO, MBO]) await registerSchool(broker(), endpoints, brin);
    for (const bsn of bsns)
      await upsertPopulationRecord(broker().pool, {
        bsn,
        birthDate: '2009-04-17',
        gender: '2',
        surname: 'Leerling',
        prefixes: null,
        firstNames: 'Anna',
        address: {
          binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '12', postcode: '9712AB', plaatsnaam: 'Groningen' },
        },
        dateOfDeath: null,
      });
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {
      now: () => NOW,
    });
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  function validated(xml: string): string {
    const doc = XmlDocument.fromString(xml);
    try {
      outboundSchema.validate(doc.get('//*[local-name()="Body"]/*') as never);
    } finally {
      doc.dispose();
    }
    return xml;
  }

  async function settled(documentId: string): Promise<void> {
    const row = await waitFor(
      async () =>
        (
          await broker().pool.query<{ open: number; processed: boolean }>(
            `SELECT (SELECT count(*) FROM outbound_messages o WHERE o.cause_message_id = m.id AND o.status <> 'delivered')::int AS open,
              EXISTS (SELECT 1 FROM processing_results r WHERE r.message_id = m.id) AS processed
             FROM inbound_messages m WHERE m.document_id = $1`,
            [documentId],
          )
        ).rows[0],
      (r) => r?.processed === true && r.open === 0,
      10_000,
    );
    expect(row).toEqual({ open: 0, processed: true });
  }

  /** Sends one message and returns the prior-education messages the MBO institution received because of it. */
  async function step(senderOin: string, operation: string, body: string): Promise<string[]> {
    const seen = endpoints.received(MBO).length;
    const answer = await send(
      broker().baseUrl,
      lasRequest(operation, body, { from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${senderOin}` }),
    );
    expect([answer.status, answer.faultString]).toEqual([200, null]);
    await settled(elementText(body, 'identificatiecodeBedrijfsdocument')!);
    return endpoints
      .received(MBO)
      .slice(seen)
      .map((r) => validated(r.xml))
      .filter((xml) => xml.includes('leverenVooropleidingsgegevens_Request'));
  }

  /** Runs `education load FILE` (the CLI, on the wall clock) and returns its output. */
  async function loadWithCli(name: string, records: unknown[]): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-education-'));
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(records));
    const env = { ...process.env, DATABASE_URL: databaseUrlOf(broker()) };
    return (await run(process.execPath, [CLI, 'education', 'load', file], { env })).stdout;
  }

  /**
   * Loads these records as the CLI does (checked, then the operator action), on the test's clock; returns
   * what it reports and the pushes the MBO institution received because of it.
   */
  async function load(
    name: string,
    records: unknown[],
    now = NOW,
  ): Promise<{ pupils: number; queued: number; pushes: string[] }> {
    const seen = endpoints.received(MBO).length;
    const { pupils, pushed: queued } = await loadEducation(
      broker().pool,
      'cli:test',
      educationRecordsOf(records),
      name,
      {
        brokerOin: broker().config.brokerOin,
        now,
      },
    );
    await waitFor(
      async () => endpoints.received(MBO).length - seen,
      (n) => n >= queued,
      10_000,
    );
    const pushes = endpoints
      .received(MBO)
      .slice(seen)
      .map((r) => validated(r.xml))
      .filter((xml) => xml.includes('leverenVooropleidingsgegevens_Request'));
    return { pupils, queued, pushes };
  }

  /** The parts of a prior-education message this test is about. */
  const summary = (xml: string) => ({
    startkwalificatie: elementText(xml, 'indicatieStartkwalificatie'),
    jaren: elementText(xml, 'aantalJarenMboZonderDiploma'),
    latest: xml.match(/<t:laatsteOfLopendeDeelname>([\s\S]*?)<\/t:laatsteOfLopendeDeelname>/)?.[1],
    mboDiplomas: (xml.match(/<t:diplomaMBO>/g) ?? []).length,
    resultaten: (xml.match(/<t:resultaat>/g) ?? []).length,
    hoDegrees: xml.match(/<t:graadHO>[\s\S]*?<\/t:graadHO>/g) ?? [],
  });

  test('not held before a load; a load fills the next push, sent once, and a second load replaces the pupil’s rows', async () => {
    const [bsn, other] = bsns as [string, string];
    await step(oinOf(VO), 'aanleverenInschrijvingVO', voStand(bsn));
    await step(oinOf(MBO), 'aanleverenIdentificerenPersoonVO', identification(bsn));
    const [before] = await step(oinOf(MBO), 'aanvragenVooropleidingen', request(bsn));
    expect(summary(before!)).toEqual(
      expect.objectContaining({ startkwalificatie: undefined, jaren: '99', mboDiplomas: 0, hoDegrees: [] }),
    );
    expect(summary(before!).latest).toContain('<t:soortDeelname>VO<');

    const mboRecords = [
      // Niveau 1 in 2024/25 with its diploma, then niveau 2 from 25 August 2025, still running.
      {
        kind: 'mbo-deelname',
        pgn: bsn,
        brin: MBO,
        volgnummer: 'E1',
        crebo: '25503',
        niveau: 1,
        datumInschrijving: '2024-08-26',
        datumUitschrijving: '2025-07-10',
      },
      {
        kind: 'mbo-diploma',
        pgn: bsn,
        brin: MBO,
        crebo: '25503',
        niveau: 1,
        datumDiploma: '2025-07-10',
        resultaten: [
          { onderdeel: 'NE', eindcijfer: '7' },
          { onderdeel: 'KZ01', beoordeling: 'V' },
        ],
      },
      {
        kind: 'mbo-deelname',
        pgn: bsn,
        brin: MBO,
        volgnummer: 'E2',
        crebo: '25504',
        niveau: 2,
        datumInschrijving: '2025-08-25',
        leerweg: 'BBL',
      },
      // Another pupil's rows in the same file: loaded, and left alone by the next load.
      { kind: 'ho-graad', pgn: other, brin: '21PB', opleidingcode: '34479', graad: 'BA', datumGraad: '2024-07-01' },
    ];
    // The load pushes the new picture to the running subscription, once.
    const first = await load('mbo.json', mboRecords);
    expect([first.pupils, first.queued]).toEqual([2, 1]);
    expect(first.pushes).toHaveLength(1);
    const pushed = summary(first.pushes[0]!);
    // A niveau-1 diploma is no startkwalificatie; MBO is held, so N; 2025/26 and 2026/27 follow the diploma's 2024/25.
    expect(pushed).toEqual(
      expect.objectContaining({ startkwalificatie: 'N', jaren: '2', mboDiplomas: 1, resultaten: 2 }),
    );
    expect(pushed.latest).toContain(
      '<t:soortDeelname>MBO</t:soortDeelname><t:brin>41MB</t:brin><t:inschrijvingvolgnummer>E2<',
    );
    expect(pushed.latest).toContain('<t:opleidingcode>25504<');
    expect(elementText(first.pushes[0]!, 'indicatieSpontaneWijziging')).toBe('true');

    // The same file again changes nothing the institution sees: no push.
    const again = await load('mbo-again.json', mboRecords);
    expect([again.queued, again.pushes]).toEqual([0, []]);
    // A later change still carries the loaded data.
    const afterMove = await step(BRP_OIN, 'verwerkenPersoonsmutatie', move(bsn, 'Vismarkt'));
    expect(afterMove).toHaveLength(1);
    expect(summary(afterMove[0]!)).toEqual(expect.objectContaining({ startkwalificatie: 'N', jaren: '2' }));

    // A second load for the pupil: a niveau-2 diploma and an HO degree replace the earlier rows.
    const secondLoad = [
      { kind: 'mbo-diploma', pgn: bsn, brin: MBO, crebo: '25504', niveau: 2, datumDiploma: '2026-07-01' },
      { kind: 'ho-graad', pgn: bsn, brin: '21PB', opleidingcode: '34479', graad: 'AD', datumGraad: '2026-07-15' },
    ];
    const second = await load('second.json', secondLoad);
    expect([second.pupils, second.queued]).toEqual([1, 1]);
    expect(second.pushes).toHaveLength(1);
    const [answer] = await step(oinOf(MBO), 'aanvragenVooropleidingen', request(bsn));
    for (const xml of [second.pushes[0]!, answer!]) {
      const now = summary(xml);
      expect(now).toEqual(
        expect.objectContaining({ startkwalificatie: 'J', jaren: '0', mboDiplomas: 1, resultaten: 0 }),
      );
      expect(now.hoDegrees).toEqual([
        '<t:graadHO><t:brin>21PB</t:brin><t:opleidingcode>34479</t:opleidingcode><t:graad>AD</t:graad><t:datumGraad>2026-07-15</t:datumGraad></t:graadHO>',
      ]);
      // The participations went with the first load's rows: the VO enrolment is the latest again.
      expect(now.latest).toContain('<t:soortDeelname>VO<');
    }
    const kept = await broker().pool.query('SELECT pgn FROM ho_degrees ORDER BY datum_graad');
    expect(kept.rows.map((r) => r.pgn)).toEqual([other, bsn]);

    const audit = await broker().pool.query(
      "SELECT target, affected, cardinality(outbound_ids) AS pushes FROM operator_audit WHERE action = 'education.load' ORDER BY id",
    );
    expect(audit.rows).toEqual([
      { target: { file: 'mbo.json', pupils: 2 }, affected: 4, pushes: 1 },
      { target: { file: 'mbo-again.json', pupils: 2 }, affected: 4, pushes: 0 },
      { target: { file: 'second.json', pupils: 1 }, affected: 2, pushes: 1 },
    ]);
  });

  test('an enrolment at a BRIN the RIO stand-in calls VSO is reported as VSO', async () => {
    const [bsn] = bsns as [string];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-sectors-'));
    const file = path.join(dir, 'sectors.json');
    fs.writeFileSync(file, JSON.stringify([{ brin: VO, sector: 'VSO' }]));
    const env = { ...process.env, DATABASE_URL: databaseUrlOf(broker()) };
    expect((await run(process.execPath, [CLI, 'rio', 'sectors', file], { env })).stdout).toBe(
      'loaded the sector of 1 BRIN(s)\n',
    );
    const [answer] = await step(oinOf(MBO), 'aanvragenVooropleidingen', request(bsn));
    expect(summary(answer!).latest).toContain(`<t:soortDeelname>VSO</t:soortDeelname><t:brin>${VO}<`);
    const audit = await broker().pool.query("SELECT affected FROM operator_audit WHERE action = 'rio.sectors'");
    expect(audit.rows).toEqual([{ affected: 1 }]);
  });

  test('an MBO participation at the subscribing BRIN that ended ends the subscription: on the load, or by the daily job', async () => {
    const [, , onLoad, byJob] = bsns as [string, string, string, string];
    for (const bsn of [onLoad, byJob]) {
      await step(oinOf(VO), 'aanleverenInschrijvingVO', voStand(bsn));
      await step(oinOf(MBO), 'aanleverenIdentificerenPersoonVO', identification(bsn));
      expect(await step(oinOf(MBO), 'aanvragenVooropleidingen', request(bsn))).toHaveLength(1);
    }
    // Enrolled at the subscribing BRIN before the subscription began (27 November), out on 28 November.
    const atMbo = (bsn: string) => ({
      kind: 'mbo-deelname',
      pgn: bsn,
      brin: MBO,
      volgnummer: 'R1',
      crebo: '25503',
      niveau: 2,
      datumInschrijving: '2026-09-01',
      datumUitschrijving: '2026-11-28',
    });
    const endOf = async (bsn: string) =>
      (await broker().pool.query('SELECT end_reason FROM prior_education_subscriptions WHERE pgn = $1', [bsn])).rows;
    const later = new Date('2026-11-30T12:00:00Z');
    // Loaded after the out-date: the load ends the subscription instead of pushing.
    expect(await load('ended.json', [atMbo(onLoad)], later)).toEqual({ pupils: 1, queued: 0, pushes: [] });
    expect(await endOf(onLoad)).toEqual([{ end_reason: 'registration_ended' }]);
    // Loaded while it still runs: pushed; the daily job ends it once the out-date has passed.
    expect((await load('running.json', [atMbo(byJob)])).queued).toBe(1);
    expect(await endOf(byJob)).toEqual([{ end_reason: null }]);
    const expiry = startSubscriptionExpiry({ pool: broker().pool, log: silentLogger(), now: () => later });
    try {
      expect(await expiry.tick()).toEqual({ expired: 0, registrationEnded: 1 });
    } finally {
      await expiry.close();
    }
    expect(await endOf(byJob)).toEqual([{ end_reason: 'registration_ended' }]);
  });

  test('an MBO participation in the stand-in is an enrolment in the register: changes are pushed without a VO one', async () => {
    const bsn = bsns[4]!;
    const mboOnly = { kind: 'mbo-deelname', pgn: bsn, brin: MBO, volgnummer: 'M1', crebo: '25503', niveau: 2 };
    await load('mbo-only.json', [{ ...mboOnly, datumInschrijving: '2026-09-01' }]);
    await step(oinOf(MBO), 'aanleverenIdentificerenPersoonVO', identification(bsn));
    expect(await step(oinOf(MBO), 'aanvragenVooropleidingen', request(bsn))).toHaveLength(1);
    const moved = await step(BRP_OIN, 'verwerkenPersoonsmutatie', move(bsn, 'Vismarkt'));
    expect(moved).toHaveLength(1);
    expect(summary(moved[0]!).latest).toContain('<t:soortDeelname>MBO</t:soortDeelname><t:brin>41MB<');
  });

  test('the CLI loads a good file and refuses a bad one as a whole with its reason, leaving no audit row', async () => {
    const good = [
      {
        kind: 'ho-deelname',
        pgn: bsns[1],
        brin: '21PB',
        volgnummer: 'H1',
        opleidingcode: '34479',
        datumInschrijving: '2020-09-01',
      },
      { kind: 'ho-graad', pgn: bsns[1], brin: '21PB', opleidingcode: '34479', graad: 'BA', datumGraad: '2024-07-01' },
    ];
    const audited = async () =>
      (await broker().pool.query("SELECT count(*)::int AS n FROM operator_audit WHERE action = 'education.load'"))
        .rows[0].n;
    const before = await audited();
    expect(await loadWithCli('good.json', good)).toBe(
      'loaded 2 record(s) for 1 pupil(s); 0 prior-education push(es) queued\n',
    );
    const bad = [
      { kind: 'ho-graad', pgn: bsns[1], brin: '21PB', opleidingcode: '34479', graad: 'MA', datumGraad: '2026-07-01' },
      { kind: 'mbo-diploma', pgn: bsns[1], brin: MBO, crebo: '25503', niveau: 5, datumDiploma: '2026-07-01' },
    ];
    await expect(loadWithCli('bad.json', bad)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('record 2: niveau must be 1, 2, 3 or 4'),
    });
    // The good file is audited, the refused one is not.
    expect(await audited()).toBe(before + 1);
    const degrees = await broker().pool.query("SELECT count(*)::int AS n FROM ho_degrees WHERE graad = 'MA'");
    expect(degrees.rows[0].n).toBe(0);
  });
});
