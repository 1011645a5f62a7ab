/**
 * Population-register (BRP) mutations end to end: the BRP source (or the CLI) changes a person, the
 * pipeline updates the register and pushes verstrekkenPersoonsgegevens MUTATIE to exactly the schools
 * with an active enrolment — asserted per endpoint, each message valid against the outbound XSD.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { type TestBrokerOptions, useTestBroker, waitFor } from '../support/broker.js';
import { oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { createTestDatabase } from '../support/services.js';
import { ANONYMOUS, BRP_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const run = promisify(execFile);
const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const SCHOOLS = ['41AA', '42AA', '43AA', '44AA'] as const;

/** A BSN stand with one period; `out` is the last day the enrolment is valid. */
function enrolmentBody(brin: string, bsn: string, volgnummer: string, inDate: string, out?: string): string {
  return (
    `<c:aanleverenInschrijvingVO_Request xmlns:c="http://duo.nl/schema/DUO_VOAanlevering_InschrijvingVO_V1" xmlns:b="http://duo.nl/schema/DUO_VOBasisschema_Inschrijving_V1">` +
    `<b:identificatiecodeBedrijfsdocument>${randomUUID()}</b:identificatiecodeBedrijfsdocument><b:verzendendeInstantie>${brin}</b:verzendendeInstantie>` +
    `<b:ontvangendeInstantie>DUO</b:ontvangendeInstantie><b:datumTijdBedrijfsdocument>${new Date().toISOString()}</b:datumTijdBedrijfsdocument>` +
    `<b:burgerservicenummer>${bsn}</b:burgerservicenummer><b:brin>${brin}</b:brin><b:inschrijvingvolgnummer>${volgnummer}</b:inschrijvingvolgnummer>` +
    `<b:datumInschrijving>${inDate}</b:datumInschrijving>${out ? `<b:datumUitschrijving>${out}</b:datumUitschrijving>` : ''}` +
    `<c:inschrijvingPeriodeVO><b:datumBegin>${inDate}</b:datumBegin><b:onderwijsaanbieder>100A200</b:onderwijsaanbieder><b:onderwijslocatie>100X300</b:onderwijslocatie><b:opleidingcode>0050</b:opleidingcode><c:vestiging>${brin}00</c:vestiging>` +
    '<c:indicatieBekostigbaar>true</c:indicatieBekostigbaar></c:inschrijvingPeriodeVO></c:aanleverenInschrijvingVO_Request>'
  );
}

/** The body element of a pushed envelope, after checking it against the outbound schema. */
function validatedBody(xml: string): string {
  const doc = XmlDocument.fromString(xml);
  try {
    outboundSchema.validate(doc.get('//*[local-name()="verstrekkenPersoonsgegevens_Request"]') as never);
  } finally {
    doc.dispose();
  }
  return /<soapenv:Body>([\s\S]*)<\/soapenv:Body>/.exec(xml)![1]!;
}

describe('population-register mutations reach the schools with an active enrolment', () => {
  const options: TestBrokerOptions = { env: { DELIVERY_BACKOFF_MS: '200' } };
  beforeAll(async () => {
    options.databaseUrl = await createTestDatabase(); // known here, so the CLI can use the same database
  });
  const broker = useTestBroker(options);
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  // biome-ignore lint/suspicious/noDuplicateTestHooks: runs after useTestBroker's hook, which the first one must precede
  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    for (const brin of SCHOOLS) await registerSchool(broker(), endpoints, brin);
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  async function person(bsn: string): Promise<void> {
    await upsertPopulationRecord(broker().pool, {
      bsn,
      birthDate: '2012-05-14',
      gender: '1',
      surname: 'Smit',
      prefixes: null,
      firstNames: 'Noah',
      address: {
        binnenlandsAdres: { straatnaam: 'Dorpsweg', huisnummer: '3', postcode: '8011AA', plaatsnaam: 'Zwolle' },
      },
      dateOfDeath: null,
    });
  }

  /** Delivers an enrolment from the school and waits for its approving terugkoppeling. */
  async function enrol(brin: string, bsn: string, volgnummer: string, inDate: string, out?: string): Promise<void> {
    const body = enrolmentBody(brin, bsn, volgnummer, inDate, out);
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    const answer = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, { from: `${ANONYMOUS}?oin=${oinOf(brin)}` }),
    );
    expect(answer.faultString).toBeNull();
    const feedback = await waitFor(
      async () => endpoints.received(brin).find((r) => r.xml.includes(documentId)),
      (r) => r !== undefined,
    );
    expect(elementText(feedback!.xml, 'leveringGoedgekeurd')).toBe('true');
  }

  /** Waits until a stored message is processed and everything it caused is delivered; returns its outcome. */
  async function settled(messageId: number): Promise<string> {
    const state = await waitFor(
      async () =>
        (
          await broker().pool.query<{ outcome: string | null; open: number }>(
            `SELECT (SELECT outcome FROM processing_results WHERE message_id = $1) AS outcome,
              (SELECT count(*)::int FROM outbound_messages WHERE cause_message_id = $1 AND status <> 'delivered') AS open`,
            [messageId],
          )
        ).rows[0]!,
      (s) => s.outcome !== null && s.open === 0,
    );
    expect(state.open).toBe(0);
    return state.outcome!;
  }

  /** Sends a mutation from the BRP source; returns the stored message's id and outcome once settled. */
  async function mutate(body: string): Promise<{ messageId: number; outcome: string }> {
    const answer = await send(broker().baseUrl, lasRequest('verwerkenPersoonsmutatie', body));
    expect(answer.faultString).toBeNull();
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    const messageId = (
      await broker().pool.query<{ id: number }>('SELECT id FROM inbound_messages WHERE document_id = $1', [documentId])
    ).rows[0]!.id;
    return { messageId, outcome: await settled(messageId) };
  }

  /** The MUTATIE messages each school received about this BSN, validated. */
  function pushesAbout(bsn: string): Record<string, string[]> {
    const pushes: Record<string, string[]> = {};
    for (const brin of SCHOOLS) {
      const bodies = endpoints
        .received(brin)
        .map((r) => r.xml)
        .filter((xml) => xml.includes('verstrekkenPersoonsgegevens_Request') && xml.includes(`>${bsn}<`))
        .map(validatedBody);
      if (bodies.length > 0) pushes[brin] = bodies;
    }
    return pushes;
  }
  const signalCodes = (xml: string): string[] => [...xml.matchAll(/<t:signaalcode>([^<]+)</g)].map((m) => m[1]!);
  const withBsn = (fixture: string, bsn: string): string => bodyFixture(fixture).replace('>123456782<', `>${bsn}<`);

  test('an address change reaches the two schools with an active enrolment, not the one whose enrolment ended nor an unrelated school', async () => {
    const [pupil, other] = ['200000007', '200000056'];
    await person(pupil);
    await person(other);
    await enrol('41AA', pupil, 'A-1', '2024-08-20');
    await enrol('42AA', pupil, 'B-1', '2025-08-20', '2099-07-31');
    await enrol('43AA', pupil, 'C-1', '2019-08-20', '2023-07-31');
    await enrol('44AA', other, 'D-1', '2024-08-20');

    const { messageId, outcome } = await mutate(withBsn('valid/verwerkenPersoonsmutatie-adres.xml', pupil));
    expect(outcome).toBe('approved');
    const pushes = pushesAbout(pupil);
    expect(Object.keys(pushes)).toEqual(['41AA', '42AA']);
    for (const [brin, [body, ...more]] of Object.entries(pushes)) {
      expect(more).toEqual([]);
      expect(elementText(body!, 'reden')).toBe('MUTATIE');
      expect(elementText(body!, 'ontvangendeInstantie')).toBe(brin);
      expect(elementText(body!, 'straatnaam')).toBe('Vismarkt');
      expect(elementText(body!, 'postcode')).toBe('9711KT');
      expect(elementText(body!, 'achternaam')).toBe('Smit'); // the whole person, not only what changed
      expect(body).not.toContain('identificatiecodeAanlevering');
      expect(signalCodes(body!)).toEqual([]);
    }
    const queued = await broker().pool.query(
      'SELECT institution_oin, brin FROM outbound_messages WHERE cause_message_id = $1 ORDER BY brin',
      [messageId],
    );
    expect(queued.rows).toEqual([
      { institution_oin: oinOf('41AA'), brin: '41AA' },
      { institution_oin: oinOf('42AA'), brin: '42AA' },
    ]);
    const stored = await broker().pool.query('SELECT address FROM population_register WHERE bsn = $1', [pupil]);
    expect(stored.rows[0].address).toEqual({
      binnenlandsAdres: {
        straatnaam: 'Vismarkt',
        huisnummer: '7',
        huisletter: 'b',
        postcode: '9711KT',
        plaatsnaam: 'Groningen',
      },
    });

    // The same change again under a new identificatiecode changes nothing and pushes nothing.
    const again = await mutate(withBsn('valid/verwerkenPersoonsmutatie-adres.xml', pupil));
    expect(again.outcome).toBe('unchanged');
    expect(pushesAbout(pupil)).toEqual(pushes);
  });

  test('a puntadres is passed on as such', async () => {
    const pupil = '200000147';
    await person(pupil);
    await enrol('41AA', pupil, 'A-2', '2024-08-20');
    expect((await mutate(withBsn('valid/verwerkenPersoonsmutatie-puntadres.xml', pupil))).outcome).toBe('approved');
    const pushes = pushesAbout(pupil);
    expect(Object.keys(pushes)).toEqual(['41AA']);
    const address = /<t:binnenlandsAdres>([\s\S]*)<\/t:binnenlandsAdres>/.exec(pushes['41AA']![0]!)![1];
    expect(address).toBe('<t:straatnaam>.</t:straatnaam><t:plaatsnaam>Groningen</t:plaatsnaam>');
  });

  test('a date of death: P0002 to the schools whose enrolment runs on after it, nothing to one that ended on that date', async () => {
    const pupil = '200000196';
    await person(pupil);
    await enrol('41AA', pupil, 'A-3', '2024-08-20'); // active, no out-date
    await enrol('42AA', pupil, 'B-3', '2024-08-20', '2026-03-01'); // ended on the date of death: correct
    await enrol('43AA', pupil, 'C-3', '2024-08-20', '2026-04-01'); // ended, but a month after the death
    expect((await mutate(withBsn('valid/verwerkenPersoonsmutatie-overlijden.xml', pupil))).outcome).toBe('approved');
    const pushes = pushesAbout(pupil);
    expect(Object.keys(pushes)).toEqual(['41AA', '43AA']);
    for (const [brin, volgnummer] of [
      ['41AA', 'A-3'],
      ['43AA', 'C-3'],
    ] as const) {
      const body = pushes[brin]![0]!;
      expect(elementText(body, 'datumOverlijden')).toBe('2026-03-01');
      expect(signalCodes(body)).toEqual(['P0002']);
      expect(elementText(body, 'ernst')).toBe('W');
      expect(elementText(body, 'waarde')).toBe(volgnummer);
      expect(body).not.toContain(`>${pupil}</t:waarde>`);
    }
  });

  test('a mutation from a school is refused and nothing is stored or pushed', async () => {
    const pupil = '200000238';
    await person(pupil);
    await enrol('41AA', pupil, 'A-4', '2024-08-20');
    const body = withBsn('valid/verwerkenPersoonsmutatie-adres.xml', pupil).replace(
      `>${BRP_OIN}<`,
      `>${oinOf('41AA')}<`,
    );
    const answer = await send(
      broker().baseUrl,
      lasRequest('verwerkenPersoonsmutatie', body, { from: `${ANONYMOUS}?oin=${oinOf('41AA')}` }),
    );
    expect(answer.faultCode).toBe('Client.DK0002');
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    expect(
      (await broker().pool.query('SELECT 1 FROM inbound_messages WHERE document_id = $1', [documentId])).rowCount,
    ).toBe(0);
    expect(
      (await broker().pool.query('SELECT address FROM population_register WHERE bsn = $1', [pupil])).rows[0].address
        .binnenlandsAdres.straatnaam,
    ).toBe('Dorpsweg');
    expect(pushesAbout(pupil)).toEqual({});
  });

  test('a mutation for a BSN the register does not hold is rejected and pushes nothing', async () => {
    const { messageId, outcome } = await mutate(withBsn('valid/verwerkenPersoonsmutatie-adres.xml', '200000287'));
    expect(outcome).toBe('rejected');
    expect(
      (await broker().pool.query('SELECT 1 FROM outbound_messages WHERE cause_message_id = $1', [messageId])).rowCount,
    ).toBe(0);
  });

  test('`population mutate` produces the same pushes as the same change over SOAP', async () => {
    const [viaCli, viaSoap] = ['200000329', '200000378'];
    for (const pupil of [viaCli, viaSoap]) {
      await person(pupil);
      await enrol('41AA', pupil, `A-${pupil}`, '2024-08-20');
      await enrol('42AA', pupil, `B-${pupil}`, '2024-08-20', '2026-03-01'); // ended: not told
      await enrol('43AA', pupil, `C-${pupil}`, '2025-08-20', '2099-07-31');
    }
    const env = {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: broker().config.queuePrefix,
    };
    const cli = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
    // The BSN comes on standard input (`--bsn -`), so it is not in the command line.
    const child = run(
      process.execPath,
      [
        cli,
        'population',
        'mutate',
        '--bsn',
        '-',
        '--street',
        'Vismarkt',
        '--house-number',
        '7',
        '--house-letter',
        'b',
        '--postcode',
        '9711 KT',
        '--city',
        'Groningen',
      ],
      { env },
    );
    child.child.stdin!.end(`${viaCli}\n`);
    const { stdout } = await child;
    expect(stdout).toMatch(/^stored mutation for BSN \*{6}329 as message \d+; queued for processing\n$/);
    expect(stdout).not.toContain(viaCli);
    const cliMessageId = Number(/as message (\d+)/.exec(stdout)![1]);
    expect(await settled(cliMessageId)).toBe('approved');
    const stored = (
      await broker().pool.query('SELECT sender_oin, operation FROM inbound_messages WHERE id = $1', [cliMessageId])
    ).rows[0];
    expect(stored).toEqual({ sender_oin: BRP_OIN, operation: 'verwerkenPersoonsmutatie' });
    const audited = (
      await broker().pool.query("SELECT actor, target, affected FROM operator_audit WHERE action = 'population.mutate'")
    ).rows;
    expect(audited).toEqual([
      {
        actor: expect.stringMatching(/^cli:/),
        target: { inboundMessageId: cliMessageId, changes: ['address'] },
        affected: 1,
      },
    ]);
    await mutate(withBsn('valid/verwerkenPersoonsmutatie-adres.xml', viaSoap));

    // Same receivers, same content: only ids, times and the BSN differ.
    const comparable = (pupil: string) =>
      Object.fromEntries(
        Object.entries(pushesAbout(pupil)).map(([brin, bodies]) => [
          brin,
          bodies.map((body) =>
            body
              .replace(/<t:identificatiecodeBedrijfsdocument>[^<]*/, '')
              .replace(/<t:datumTijdBedrijfsdocument>[^<]*/, '')
              .replace(pupil, 'BSN'),
          ),
        ]),
      );
    expect(Object.keys(comparable(viaCli))).toEqual(['41AA', '43AA']);
    expect(comparable(viaCli)).toEqual(comparable(viaSoap));
  });
});
