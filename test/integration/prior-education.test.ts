/**
 * Prior education for an MBO institution end to end, with the schools' endpoints played by the test and
 * the processing clock driven by it: a request without a subscription (one push), a subscription that
 * receives a diploma and an address change, a stop, the automatic end at exactly nine months, the end
 * with the registration, and nothing after an end or twice under a retry. Only an institution that
 * identified the student (or enrolled it) gets anything; a number that is no person gets nothing;
 * nothing is pushed while the register holds no enrolment, nor to an administration that no longer
 * serves the BRIN. Every push validates against our outbound XSD.
 */
import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { startSubscriptionExpiry } from '../../src/processing/subscription-expiry.js';
import { isValidBsn, isValidOnderwijsnummer } from '../../src/register/pgn.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { upsertOpleidingNiveaus } from '../../src/store/reference.repo.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { BRP_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const VO_A = '31AA';
const VO_B = '32AA';
const MBO = '41MB';
/** Another MBO institution, which never identified the students of the tests above it. */
const STRANGER = '42MB';
const SCHOOLS = [VO_A, VO_B, MBO, STRANGER] as const;
const HAVO_CODE = '2741';

const bsns = (() => {
  const found: string[] = [];
  for (let n = 400_000_000; found.length < 16; n++) if (isValidBsn(String(n))) found.push(String(n));
  return found;
})();

let documentClock = 0;
const nextDocumentTime = (): string => {
  documentClock += 1;
  return new Date(Date.UTC(2026, 10, 1, 8, 0, documentClock)).toISOString();
};

/** A minimal valid stand at `brin`: one period (havo leerjaar 4 unless told) from the in-date. */
function stand(brin: string, bsn: string, dates: { in: string; out?: string }, opleidingcode = HAVO_CODE): string {
  return bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/<ins:inschrijvingPeriodeVO>\s*<bas:datumBegin>2027-08-19[\s\S]*?<\/ins:inschrijvingPeriodeVO>/, '')
    .replace(/<ins:ontwikkelingsperspectief>[\s\S]*<\/ins:verblijfAndereInstelling>/, '')
    .replace(
      '<bas:datumTijdBedrijfsdocument>2026-09-01T08:15:00Z<',
      `<bas:datumTijdBedrijfsdocument>${nextDocumentTime()}<`,
    )
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace(/2026-0001/g, `${brin}-${bsn}`)
    .replace(
      '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving>',
      `<bas:datumInschrijving>${dates.in}</bas:datumInschrijving>${dates.out ? `<bas:datumUitschrijving>${dates.out}</bas:datumUitschrijving>` : ''}`,
    )
    .replace('<bas:datumBegin>2026-08-20<', `<bas:datumBegin>${dates.in}<`)
    .replace('<bas:opleidingcode>0050<', `<bas:opleidingcode>${opleidingcode}<`)
    .replace('<ins:leerjaar>1<', '<ins:leerjaar>4<')
    .replace(/<bas:aanvullendeOpleiding>[\s\S]*?<\/bas:aanvullendeOpleiding>/, '')
    .replace(/<ins:experiment>[\s\S]*?<\/ins:experiment>/, '');
}

function request(brin: string, bsn: string, subscribe: boolean): string {
  return bodyFixture('valid/aanvragenVooropleidingen.xml')
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace('<vo:indicatieAbonnement>true<', `<vo:indicatieAbonnement>${subscribe}<`);
}

/** An identification of the student by BSN, as the institution of `brin` sends it before it asks. */
const identification = (brin: string, bsn: string): string =>
  bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml')
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace('<idp:geboorteDatum>2013-04-17<', '<idp:geboorteDatum>2009-04-17<');

const stop = (brin: string, bsn: string): string =>
  bodyFixture('valid/stoppenAbonnementVooropleidingen.xml').replace(/25BE/g, brin).replace('123456782', bsn);

function move(bsn: string, street: string): string {
  return bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml')
    .replace('123456782', bsn)
    .replace('<bd:straatnaam>Vismarkt<', `<bd:straatnaam>${street}<`);
}

const START = new Date('2026-11-27T12:00:00Z');
/** Nine months on the Dutch clock: 13:00 winter time → 13:00 summer time. */
const ENDS_AT = new Date('2027-08-27T11:00:00Z');
let now = START;

describe('prior education for MBO institutions', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    for (const brin of SCHOOLS) await registerSchool(broker(), endpoints, brin);
    await upsertOpleidingNiveaus(broker().pool, [{ opleidingcode: HAVO_CODE, niveau: 'HAVO' }]);
    for (const bsn of bsns) {
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
    }
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {
      now: () => now,
    });
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  /** Validates a received push against the outbound XSD and returns its body. */
  function validated(xml: string): string {
    const doc = XmlDocument.fromString(xml);
    try {
      outboundSchema.validate(doc.get('//*[local-name()="Body"]/*') as never);
    } finally {
      doc.dispose();
    }
    return xml;
  }

  /** Waits until the message with this document id is processed and all it caused delivered; returns its id. */
  async function settled(documentId: string): Promise<number> {
    const row = await waitFor(
      async () =>
        (
          await broker().pool.query<{ id: number; open: number; processed: boolean }>(
            `SELECT m.id, (SELECT count(*) FROM outbound_messages o WHERE o.cause_message_id = m.id AND o.status <> 'delivered')::int AS open,
              EXISTS (SELECT 1 FROM processing_results r WHERE r.message_id = m.id) AS processed
             FROM inbound_messages m WHERE m.document_id = $1`,
            [documentId],
          )
        ).rows[0],
      (r) => r?.processed === true && r.open === 0,
      10_000,
    );
    expect(row).toEqual(expect.objectContaining({ open: 0, processed: true }));
    return row!.id;
  }

  /** Sends one message and returns the prior-education pushes the MBO institution received because of it. */
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
  const fromMbo = (operation: string, body: string) => step(oinOf(MBO), operation, body);
  /** The MBO institution identifies the student, as it does before it asks. */
  const identifiedByMbo = (bsn: string) => fromMbo('aanleverenIdentificerenPersoonVO', identification(MBO, bsn));
  const outcomeOf = async (body: string): Promise<string | undefined> =>
    (
      await broker().pool.query(
        'SELECT r.outcome FROM processing_results r JOIN inbound_messages m ON m.id = r.message_id WHERE m.document_id = $1',
        [elementText(body, 'identificatiecodeBedrijfsdocument')],
      )
    ).rows[0]?.outcome;
  const enrol = (brin: string, body: string) => step(oinOf(brin), 'aanleverenInschrijvingVO', body);
  const mutate = (body: string) => step(BRP_OIN, 'verwerkenPersoonsmutatie', body);

  const subscriptionOf = async (bsn: string) =>
    (
      await broker().pool.query(
        'SELECT started_at, ends_at, ended_at, end_reason FROM prior_education_subscriptions WHERE pgn = $1 ORDER BY id',
        [bsn],
      )
    ).rows;

  /** A passed havo exam result from `brin` for the pupil's enrolment there (uitslag in July 2026). */
  function examResult(brin: string, bsn: string): string {
    return bodyFixture('valid/aanleverenExamenresultaatVO.xml')
      .replace(
        '<bas:datumTijdBedrijfsdocument>2027-06-12T14:00:00Z<',
        `<bas:datumTijdBedrijfsdocument>${nextDocumentTime()}<`,
      )
      .replace(/25BE/g, brin)
      .replace('123456782', bsn)
      .replace('<ex:inschrijvingvolgnummer>2026-0001<', `<ex:inschrijvingvolgnummer>${brin}-${bsn}<`)
      .replace('<ex:examenregime>2027<', '<ex:examenregime>2026<')
      .replace('<ex:datumUitslag>2027-06-12<', '<ex:datumUitslag>2026-07-10<');
  }

  afterEach(() => {
    now = START;
  });

  test('a request without a subscription: one push with the register’s picture, none after a change', async () => {
    const bsn = bsns[0]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2022-08-20', out: '2026-07-31' }));
    await enrol(VO_B, stand(VO_B, bsn, { in: '2026-08-01' }, '0050'));
    await identifiedByMbo(bsn);
    const body = request(MBO, bsn, false);
    const pushes = await fromMbo('aanvragenVooropleidingen', body);
    expect(pushes).toHaveLength(1);
    const xml = pushes[0]!;
    expect({
      aanvraag: elementText(xml, 'identificatiecodeAanvraag'),
      pgn: elementText(xml, 'burgerservicenummer'),
      brin: elementText(xml, 'ontvangendeInstantie'),
      spontaan: elementText(xml, 'indicatieSpontaneWijziging'),
      abonnement: elementText(xml, 'indicatieAbonnement'),
      einde: elementText(xml, 'datumEindeAbonnement'),
      achternaam: elementText(xml, 'achternaam'),
      startkwalificatie: elementText(xml, 'indicatieStartkwalificatie'),
      mboJaren: elementText(xml, 'aantalJarenMboZonderDiploma'),
    }).toEqual({
      aanvraag: elementText(body, 'identificatiecodeBedrijfsdocument'),
      pgn: bsn,
      brin: MBO,
      spontaan: 'false',
      abonnement: 'false',
      einde: undefined,
      achternaam: 'Leerling',
      startkwalificatie: undefined, // no havo or vwo diploma, and no MBO or HO data: the register cannot tell
      mboJaren: '99', // no MBO data to count from
    });
    // The current participation is B's (running today); A's havo from leerjaar 3 is listed; no MBO or HO.
    const latest = /<t:laatsteOfLopendeDeelname>([\s\S]*?)<\/t:laatsteOfLopendeDeelname>/.exec(xml)![1]!;
    expect([
      elementText(latest, 'soortDeelname'),
      elementText(latest, 'brin'),
      elementText(latest, 'opleidingcode'),
    ]).toEqual(['VO', VO_B, '0050']);
    const havo = [...xml.matchAll(/<t:deelnameHavoVwo>([\s\S]*?)<\/t:deelnameHavoVwo>/g)].map((m) => [
      elementText(m[1]!, 'brin'),
      elementText(m[1]!, 'leerjaar'),
      elementText(m[1]!, 'datumUitschrijving'),
    ]);
    expect(havo).toEqual([[VO_A, '4', '2026-07-31']]);
    expect(xml).not.toMatch(/diplomaMBO|graadHO|diplomaVO/);
    expect(await subscriptionOf(bsn)).toEqual([]);

    // No subscription: a later change elsewhere pushes nothing to the MBO institution.
    expect(await enrol(VO_B, stand(VO_B, bsn, { in: '2026-08-01', out: '2026-12-31' }, '0050'))).toEqual([]);
  });

  test('a subscription receives a diploma and an address change, each once; a stop ends it', async () => {
    const bsn = bsns[1]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2021-08-20', out: '2026-07-31' }));
    await identifiedByMbo(bsn);
    const first = await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true));
    expect(first.map((x) => [elementText(x, 'indicatieAbonnement'), elementText(x, 'datumEindeAbonnement')])).toEqual([
      ['true', '2027-08-27'],
    ]);
    const [row] = await subscriptionOf(bsn);
    expect(row).toEqual({
      started_at: START,
      ends_at: ENDS_AT,
      ended_at: null,
      end_reason: null,
    });

    // The school registers the pupil's diploma: the subscribed institution hears of it, once.
    const seenByA = endpoints.received(VO_A).length;
    const diploma = await step(oinOf(VO_A), 'aanleverenExamenresultaatVO', examResult(VO_A, bsn));
    expect(
      endpoints
        .received(VO_A)
        .slice(seenByA)
        .map((r) => elementText(r.xml, 'leveringGoedgekeurd')),
    ).toEqual(['true']);
    expect(diploma).toHaveLength(1);
    expect({
      spontaan: elementText(diploma[0]!, 'indicatieSpontaneWijziging'),
      aanvraag: elementText(diploma[0]!, 'identificatiecodeAanvraag'),
      startkwalificatie: elementText(diploma[0]!, 'indicatieStartkwalificatie'),
      niveau: elementText(diploma[0]!, 'niveau'),
      datum: elementText(diploma[0]!, 'datumDiploma'),
      vakken: [...diploma[0]!.matchAll(/<t:diplomavak>([\s\S]*?)<\/t:diplomavak>/g)].map((m) => m[1]),
    }).toEqual({
      spontaan: 'true',
      aanvraag: undefined,
      startkwalificatie: 'J',
      niveau: 'HAVO',
      datum: '2026-07-10',
      vakken: expect.arrayContaining([
        '<t:vak>NE</t:vak><t:eindcijfer>6</t:eindcijfer>',
        '<t:vak>LO</t:vak><t:beoordeling>G</t:beoordeling>',
      ]),
    });

    const moved = await mutate(move(bsn, 'Vismarkt'));
    expect(moved.map((x) => [elementText(x, 'straatnaam'), elementText(x, 'indicatieStartkwalificatie')])).toEqual([
      ['Vismarkt', 'J'],
    ]);
    // The same address again changes nothing: no push.
    expect(await mutate(move(bsn, 'Vismarkt'))).toEqual([]);

    // A second request while it runs keeps the subscription (one row, same end) and answers once.
    expect(await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true))).toHaveLength(1);
    expect(await subscriptionOf(bsn)).toHaveLength(1);

    // The school removes the result (delivered by mistake): the diploma is gone from the next picture.
    const removed = await step(
      oinOf(VO_A),
      'aanleverenVerwijderingExamenresultaatVO',
      bodyFixture('valid/aanleverenVerwijderingExamenresultaatVO.xml').replace(/25BE/g, VO_A).replace('123456782', bsn),
    );
    expect(removed.map((x) => [elementText(x, 'indicatieStartkwalificatie'), x.includes('diplomaVO')])).toEqual([
      [undefined, false],
    ]);

    expect(await fromMbo('stoppenAbonnementVooropleidingen', stop(MBO, bsn))).toEqual([]);
    expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual(['stopped']);
    // After the stop nothing reaches the institution: not a mutation, not a new enrolment.
    expect(await mutate(move(bsn, 'Grote Markt'))).toEqual([]);
    expect(await enrol(VO_B, stand(VO_B, bsn, { in: '2026-08-01' }))).toEqual([]);
  });

  test('nine months to the millisecond: a change just before the end pushes, at the end nothing', async () => {
    const bsn = bsns[2]!;
    // DUO pushes while the register holds an enrolment of the student.
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true));
    const endsAt = ENDS_AT;
    now = new Date(endsAt.getTime() - 1);
    expect(await mutate(move(bsn, 'Vismarkt'))).toHaveLength(1);
    now = endsAt;
    expect(await mutate(move(bsn, 'Oude Ebbingestraat'))).toEqual([]);
    expect(await subscriptionOf(bsn)).toEqual([
      { started_at: START, ends_at: endsAt, ended_at: endsAt, end_reason: 'expired' },
    ]);
  });

  test('the expiry job ends a subscription at exactly nine months, and nothing is pushed after', async () => {
    const bsn = bsns[3]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true));
    const endsAt = ENDS_AT;
    let jobClock = new Date(endsAt.getTime() - 1);
    const job = startSubscriptionExpiry({ pool: broker().pool, log: silentLogger(), now: () => jobClock });
    try {
      expect((await job.tick()).expired).toBe(0);
      expect((await subscriptionOf(bsn))[0].end_reason).toBeNull();
      jobClock = new Date(endsAt.getTime() + 90_000); // a tick late: it still ends at its own end
      expect((await job.tick()).expired).toBeGreaterThanOrEqual(1);
      expect(await subscriptionOf(bsn)).toEqual([
        { started_at: START, ends_at: endsAt, ended_at: endsAt, end_reason: 'expired' },
      ]);
      expect((await job.tick()).expired).toBe(0);
    } finally {
      await job.close();
    }
    now = new Date(endsAt.getTime() - 60_000); // even a processing clock behind the job's: ended is ended
    expect(await mutate(move(bsn, 'Vismarkt'))).toEqual([]);
  });

  test('the subscription ends with the institution’s own registration of the pupil', async () => {
    const bsn = bsns[4]!;
    // An institution that also delivers enrolments to the register (a VAVO at a school, say): its own one ends.
    await enrol(VO_A, stand(VO_A, bsn, { in: '2025-08-01' }));
    const seenByA = endpoints.received(VO_A).length;
    await step(oinOf(VO_A), 'aanvragenVooropleidingen', request(VO_A, bsn, true));
    const answered = endpoints
      .received(VO_A)
      .slice(seenByA)
      .filter((r) => r.xml.includes('leverenVooropleidingsgegevens'));
    expect(answered).toHaveLength(1);
    // Another school's change pushes to A while its registration runs ...
    const before = endpoints.received(VO_A).length;
    await enrol(VO_B, stand(VO_B, bsn, { in: '2026-09-01' }, '0050'));
    expect(
      endpoints
        .received(VO_A)
        .slice(before)
        .filter((r) => r.xml.includes('leverenVooropleidingsgegevens')),
    ).toHaveLength(1);
    // ... A ends its enrolment on the subscription's first day, delivered the day after: the registration
    // ended before today, the subscription ends, and that change pushes no prior education.
    now = new Date('2026-11-28T12:00:00Z');
    const ending = endpoints.received(VO_A).length;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2025-08-01', out: '2026-11-27' }));
    expect(
      endpoints
        .received(VO_A)
        .slice(ending)
        .filter((r) => r.xml.includes('leverenVooropleidingsgegevens')),
    ).toEqual([]);
    expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual(['registration_ended']);
    const after = endpoints.received(VO_A).length;
    await mutate(move(bsn, 'Vismarkt'));
    expect(
      endpoints
        .received(VO_A)
        .slice(after)
        .filter((r) => r.xml.includes('leverenVooropleidingsgegevens')),
    ).toEqual([]);
  });

  test('the expiry job ends a subscription whose registration’s out-date has passed', async () => {
    const bsn = bsns[5]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2025-08-01', out: '2026-12-31' }));
    await step(oinOf(VO_A), 'aanvragenVooropleidingen', request(VO_A, bsn, true));
    let jobClock = new Date('2026-12-31T00:30:00Z');
    const job = startSubscriptionExpiry({ pool: broker().pool, log: silentLogger(), now: () => jobClock });
    try {
      expect((await job.tick()).registrationEnded).toBe(0); // its last day still counts
      jobClock = new Date('2026-12-31T22:30:00Z'); // 23:30 in Amsterdam: still that day
      expect((await job.tick()).registrationEnded).toBe(0);
      jobClock = new Date('2026-12-31T23:30:00Z'); // 00:30 on 1 January in Amsterdam: a new day, checked once
      expect((await job.tick()).registrationEnded).toBe(1);
      expect(await subscriptionOf(bsn)).toEqual([
        expect.objectContaining({ ended_at: jobClock, end_reason: 'registration_ended' }),
      ]);
    } finally {
      await job.close();
    }
    expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual(['registration_ended']);
  });

  test('a retried processing run queues no second push', async () => {
    const bsn = bsns[6]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    const body = request(MBO, bsn, true);
    expect(await fromMbo('aanvragenVooropleidingen', body)).toHaveLength(1);
    const id = await settled(elementText(body, 'identificatiecodeBedrijfsdocument')!);
    const again = await processMessage(broker().pool, createHandlers(), id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: broker().config.brokerOin,
      now: () => now,
    });
    expect(again.outcome).toBeNull();
    const moved = move(bsn, 'Vismarkt');
    expect(await mutate(moved)).toHaveLength(1);
    const mutationId = await settled(elementText(moved, 'identificatiecodeBedrijfsdocument')!);
    expect(
      (
        await processMessage(broker().pool, createHandlers(), mutationId, {
          traceKey: TEST_SECRETS.TRACE_KEY,
          brokerOin: broker().config.brokerOin,
        })
      ).outcome,
    ).toBeNull();
    const rows = (
      await broker().pool.query(
        "SELECT cause_message_id, count(*)::int AS n FROM outbound_messages WHERE operation = 'leverenVooropleidingsgegevens' AND cause_message_id = ANY($1) GROUP BY 1 ORDER BY 1",
        [[id, mutationId]],
      )
    ).rows;
    expect(rows).toEqual([
      { cause_message_id: id, n: 1 },
      { cause_message_id: mutationId, n: 1 },
    ]);
    expect(await subscriptionOf(bsn)).toHaveLength(1);
  });

  test('only an institution that identified the student (or enrols it) is answered; a stranger gets nothing', async () => {
    const bsn = bsns[7]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    const step42 = (operation: string, body: string) => {
      const seen = endpoints.received(STRANGER).length;
      return step(oinOf(STRANGER), operation, body).then(() =>
        endpoints
          .received(STRANGER)
          .slice(seen)
          .filter((r) => r.xml.includes('leverenVooropleidingsgegevens_Request')),
      );
    };
    // The stranger knows the BSN but never identified the student: rejected, no subscription, no person data.
    const asked = request(STRANGER, bsn, true);
    expect(await step42('aanvragenVooropleidingen', asked)).toEqual([]);
    expect(await outcomeOf(asked)).toBe('rejected');
    expect(await subscriptionOf(bsn)).toEqual([]);
    // An identification that found nobody does not count either (another birth date).
    const wrong = identification(STRANGER, bsn).replace(
      '<idp:geboorteDatum>2009-04-17<',
      '<idp:geboorteDatum>2001-01-01<',
    );
    await step42('aanleverenIdentificerenPersoonVO', wrong);
    expect(await outcomeOf(wrong)).toBe('not-identified');
    expect(await step42('aanvragenVooropleidingen', request(STRANGER, bsn, true))).toEqual([]);
    // Once it has identified the student, it is answered.
    await step42('aanleverenIdentificerenPersoonVO', identification(STRANGER, bsn));
    expect(await step42('aanvragenVooropleidingen', request(STRANGER, bsn, true))).toHaveLength(1);
    expect(await subscriptionOf(bsn)).toHaveLength(1);
  });

  test('a number that is no person, or one the register never assigned, gets nothing', async () => {
    const unknown = bsns[8]!; // passes the elfproef, not in the population register
    await broker().pool.query('DELETE FROM population_register WHERE bsn = $1', [unknown]);
    let notBsn = 400_000_001;
    while (isValidBsn(String(notBsn))) notBsn++;
    let foreignOwn = 100_000_100;
    while (!isValidOnderwijsnummer(String(foreignOwn))) foreignOwn++;
    const bodies = [
      request(MBO, unknown, true),
      request(MBO, String(notBsn), true),
      request(MBO, '', true).replace(
        /<vo:burgerservicenummer>[^<]*<\/vo:burgerservicenummer>/,
        `<vo:onderwijsnummer>${foreignOwn}</vo:onderwijsnummer>`,
      ),
    ];
    for (const body of bodies) {
      expect(await fromMbo('aanvragenVooropleidingen', body)).toEqual([]);
      expect(await outcomeOf(body)).toBe('rejected');
    }
    const stored = await broker().pool.query(
      'SELECT count(*)::int AS n FROM prior_education_subscriptions WHERE pgn = ANY($1)',
      [[unknown, String(notBsn), String(foreignOwn)]],
    );
    expect(stored.rows[0].n).toBe(0);
  });

  test('nothing is pushed while the register holds no enrolment of the student', async () => {
    const bsn = bsns[9]!;
    await identifiedByMbo(bsn);
    expect(await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true))).toHaveLength(1); // the answer
    expect(await mutate(move(bsn, 'Vismarkt'))).toEqual([]);
    expect(await enrol(VO_A, stand(VO_A, bsn, { in: '2026-08-20' }))).toHaveLength(1);
    expect(await mutate(move(bsn, 'Oude Ebbingestraat'))).toHaveLength(1);
    expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual([null]);
  });

  test('an enrolment that ended before the subscription began does not end it', async () => {
    const bsn = bsns[10]!;
    // A school that taught the pupil years ago follows its prior education now (it holds its old enrolment).
    await enrol(VO_A, stand(VO_A, bsn, { in: '2020-08-01', out: '2024-07-31' }));
    await step(oinOf(VO_A), 'aanvragenVooropleidingen', request(VO_A, bsn, true));
    const before = endpoints.received(VO_A).length;
    await enrol(VO_B, stand(VO_B, bsn, { in: '2026-08-01' }, '0050'));
    expect(
      endpoints
        .received(VO_A)
        .slice(before)
        .filter((r) => r.xml.includes('leverenVooropleidingsgegevens')),
    ).toHaveLength(1);
    expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual([null]);
  });

  test('the expiry job judges the registration under every linked number, as processing does', async () => {
    const bsn = bsns[11]!;
    let own = 100_000_200;
    while (!isValidOnderwijsnummer(String(own))) own++;
    // The school enrolled the pupil with an onderwijsnummer the register assigned, later linked to the BSN.
    await broker().pool.query(
      "INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ($1, '2009-04-17', '2', 'Leerling', $1)",
      [String(own)],
    );
    await broker().pool.query('INSERT INTO pupil_links (onderwijsnummer, bsn) VALUES ($1, $2)', [String(own), bsn]);
    const ownStand = bodyFixture('valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml')
      .replace(/25BE/g, VO_A)
      .replace('100000004', String(own))
      .replace('<b:datumUitschrijving>2027-07-31<', '<b:datumUitschrijving>2027-01-15<');
    await enrol(VO_A, ownStand);
    // The school follows the pupil by BSN: its registration is the enrolment under the onderwijsnummer.
    await step(oinOf(VO_A), 'aanvragenVooropleidingen', request(VO_A, bsn, true));
    let jobClock = new Date('2027-01-15T12:00:00Z');
    const job = startSubscriptionExpiry({ pool: broker().pool, log: silentLogger(), now: () => jobClock });
    try {
      await job.tick(); // its last day: still running
      expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual([null]);
      jobClock = new Date('2027-01-16T00:30:00Z');
      expect((await job.tick()).registrationEnded).toBeGreaterThanOrEqual(1);
      expect(await subscriptionOf(bsn)).toEqual([
        expect.objectContaining({ ended_at: jobClock, end_reason: 'registration_ended' }),
      ]);
    } finally {
      await job.close();
    }
  });

  test('an administration that is disabled gets no push; one that no longer lists the BRIN ends it', async () => {
    const bsn = bsns[12]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    expect(await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true))).toHaveLength(1);
    const mbo = {
      oin: oinOf(MBO),
      name: `School ${MBO}`,
      brins: [MBO],
      endpointUrl: endpoints.url(MBO),
      enabled: true,
    };
    try {
      await upsertInstitution(broker().pool, { ...mbo, enabled: false });
      expect(await mutate(move(bsn, 'Vismarkt'))).toEqual([]);
      expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual([null]);
      // An operator moved the BRIN to another administration: this one's subscription ends, nothing is pushed.
      await upsertInstitution(broker().pool, { ...mbo, brins: ['43MB'] });
      expect(await mutate(move(bsn, 'Grote Markt'))).toEqual([]);
      expect((await subscriptionOf(bsn)).map((r) => r.end_reason)).toEqual(['administration_changed']);
    } finally {
      await upsertInstitution(broker().pool, mbo);
      await broker().registry.refresh();
    }
    expect(await mutate(move(bsn, 'Vismarkt'))).toEqual([]);
  });

  test('a population-register mutation tells the subscriber with verstrekkenPersoonsgegevens too, once', async () => {
    const bsn = bsns[13]!;
    await identifiedByMbo(bsn);
    await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true));
    const mutations = () =>
      endpoints
        .received(MBO)
        .map((r) => r.xml)
        .filter((xml) => xml.includes('verstrekkenPersoonsgegevens_Request') && xml.includes('MUTATIE'));
    const before = mutations().length;
    // No enrolment in the register: no prior education, but the subscriber still hears of the death.
    const death = bodyFixture('valid/verwerkenPersoonsmutatie-overlijden.xml').replace('123456782', bsn);
    expect(await mutate(death)).toEqual([]);
    const told = mutations().slice(before).map(validated);
    expect(
      told.map((xml) => [elementText(xml, 'burgerservicenummer'), elementText(xml, 'ontvangendeInstantie')]),
    ).toEqual([[bsn, MBO]]);
    expect(elementText(told[0]!, 'datumOverlijden')).toBe(elementText(death, 'datumOverlijden'));
  });

  test('two subscriptions on one student under numbers linked later get one push per change', async () => {
    const bsn = bsns[14]!;
    let own = 100_000_300;
    while (!isValidOnderwijsnummer(String(own))) own++;
    await broker().pool.query(
      "INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ($1, '2009-04-17', '2', 'Leerling', $1)",
      [String(own)],
    );
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    // The institution knew the student by an onderwijsnummer first, subscribed, and later by the BSN too.
    const byOwn = (body: string) =>
      body.replace(
        /<(\w+):burgerservicenummer>[^<]*<\/\1:burgerservicenummer>/,
        `<$1:onderwijsnummer>${own}</$1:onderwijsnummer>`,
      );
    await fromMbo('aanleverenIdentificerenPersoonVO', byOwn(identification(MBO, bsn)));
    const answered = await fromMbo('aanvragenVooropleidingen', byOwn(request(MBO, bsn, true)));
    expect(answered.map((xml) => elementText(xml, 'onderwijsnummer'))).toEqual([String(own)]);
    await identifiedByMbo(bsn);
    await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true));
    // Then the register links the numbers: one student, two subscriptions of one administration and BRIN.
    await broker().pool.query('INSERT INTO pupil_links (onderwijsnummer, bsn) VALUES ($1, $2)', [String(own), bsn]);
    const rows = await broker().pool.query(
      'SELECT pgn, pgn_kind FROM prior_education_subscriptions WHERE pgn = ANY($1) AND ended_at IS NULL ORDER BY id',
      [[bsn, String(own)]],
    );
    expect(rows.rows).toEqual([
      { pgn: String(own), pgn_kind: 'OWN' },
      { pgn: bsn, pgn_kind: 'BSN' },
    ]);
    expect(await mutate(move(bsn, 'Vismarkt'))).toHaveLength(1);
  });

  test('a change that leaves the picture as last sent pushes nothing', async () => {
    const bsn = bsns[15]!;
    await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20' }));
    await identifiedByMbo(bsn);
    expect(await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true))).toHaveLength(1);
    // A newer stand that only changes the funding flag: approved, but nothing the MBO institution sees.
    const unfunded = stand(VO_A, bsn, { in: '2023-08-20' }).replace(
      '<ins:indicatieBekostigbaar>true<',
      '<ins:indicatieBekostigbaar>false<',
    );
    expect(await enrol(VO_A, unfunded)).toEqual([]);
    expect(await outcomeOf(unfunded)).toBe('approved');
    // A change it does see is sent, and a second request still answers.
    expect(await enrol(VO_A, stand(VO_A, bsn, { in: '2023-08-20', out: '2027-07-31' }))).toHaveLength(1);
    expect(await fromMbo('aanvragenVooropleidingen', request(MBO, bsn, true))).toHaveLength(1);
  });
});
