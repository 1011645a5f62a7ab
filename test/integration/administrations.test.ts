/**
 * Two administrations (LAS installations, each with its own OIN) serving one BRIN: every push about an
 * enrolment reaches the administration that delivered it — bewijs, funding status and population-register
 * mutation — never the other one. Asserted per endpoint, through the whole broker.
 */

import { silentLogger } from '../../src/infra/log.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { isValidBsn } from '../../src/register/pgn.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { ANONYMOUS, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const SHARED = '31AA';
const OTHER_SCHOOL = '32AA';
const X = { oin: '00000003111111110000', endpoint: 'X' };
const Y = { oin: '00000003222222220000', endpoint: 'Y' };
const ENDPOINTS = [X.endpoint, Y.endpoint, OTHER_SCHOOL];

const [P1, P2] = (() => {
  const found: string[] = [];
  for (let n = 310_000_000; found.length < 2; n++) if (isValidBsn(String(n))) found.push(String(n));
  return found;
})() as [string, string];

let clock = 0;
/** A valid stand of one period from the in-date; each newer than the last. */
function stand(brin: string, bsn: string, inDate: string): string {
  clock += 1;
  const time = new Date(Date.UTC(2026, 10, 1, 8, 0, clock)).toISOString();
  return bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/<ins:inschrijvingPeriodeVO>\s*<bas:datumBegin>2027-08-19[\s\S]*?<\/ins:inschrijvingPeriodeVO>/, '')
    .replace(/<ins:ontwikkelingsperspectief>[\s\S]*<\/ins:verblijfAndereInstelling>/, '')
    .replace('<bas:datumTijdBedrijfsdocument>2026-09-01T08:15:00Z<', `<bas:datumTijdBedrijfsdocument>${time}<`)
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace(/2026-0001/g, `${brin}-${bsn}`)
    .replace('<bas:datumInschrijving>2026-08-20<', `<bas:datumInschrijving>${inDate}<`)
    .replace('<bas:datumBegin>2026-08-20<', `<bas:datumBegin>${inDate}<`)
    .replace('<bas:onderwijsaanbieder>100A200<', `<bas:onderwijsaanbieder>1${brin.slice(0, 2)}A200<`);
}

describe('one BRIN, two administrations', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    for (const admin of [X, Y]) {
      await upsertInstitution(broker().pool, {
        oin: admin.oin,
        name: `LAS ${admin.endpoint}`,
        brins: [SHARED],
        endpointUrl: endpoints.url(admin.endpoint),
        enabled: true,
      });
    }
    await registerSchool(broker(), endpoints, OTHER_SCHOOL);
    for (const bsn of [P1, P2]) {
      await upsertPopulationRecord(broker().pool, {
        bsn,
        birthDate: '2013-04-17',
        gender: '2',
        surname: 'Leerling',
        prefixes: null,
        firstNames: null,
        address: null,
        dateOfDeath: null,
      });
    }
    // A fixed clock, so 1 October 2026 is the peildatum of every funding status.
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {
      now: () => new Date('2026-11-27T12:00:00Z'),
    });
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  /** Sends one message; once everything it caused is delivered, returns per endpoint "operation pupil" of each push it caused. */
  async function step(
    senderOin: string | undefined,
    operation: string,
    body: string,
  ): Promise<Record<string, string[]>> {
    const seen = Object.fromEntries(ENDPOINTS.map((e) => [e, endpoints.received(e).length]));
    const answer = await send(
      broker().baseUrl,
      lasRequest(operation, body, senderOin ? { from: `${ANONYMOUS}?oin=${senderOin}` } : {}),
    );
    expect([answer.status, answer.faultString]).toEqual([200, null]);
    const settled = await waitFor(
      async () =>
        (
          await broker().pool.query<{ open: number; processed: boolean }>(
            `SELECT (SELECT count(*) FROM outbound_messages o WHERE o.cause_message_id = m.id AND o.status <> 'delivered')::int AS open,
              EXISTS (SELECT 1 FROM processing_results r WHERE r.message_id = m.id) AS processed
       FROM inbound_messages m WHERE m.document_id = $1`,
            [elementText(body, 'identificatiecodeBedrijfsdocument')],
          )
        ).rows[0],
      (r) => r?.processed === true && r.open === 0,
    );
    expect(settled).toEqual({ open: 0, processed: true });
    const pushes: Record<string, string[]> = {};
    for (const endpoint of ENDPOINTS) {
      const fresh = endpoints
        .received(endpoint)
        .slice(seen[endpoint])
        .map((r) => {
          const pupil = [P1, P2].find((bsn) => r.xml.includes(`>${bsn}<`)) ?? '?';
          return `${/<(?:\w+:)?(\w+)_Request/.exec(r.xml)![1]} ${pupil === P1 ? 'P1' : pupil === P2 ? 'P2' : '?'}`;
        })
        .sort();
      if (fresh.length > 0) pushes[endpoint] = fresh;
    }
    return pushes;
  }
  const addressChange = (bsn: string): string =>
    bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml').replace('>123456782<', `>${bsn}<`);

  test("each administration gets the bewijs, funding status and mutation pushes about the pupils it delivered, never the other's", async () => {
    expect(await step(X.oin, 'aanleverenInschrijvingVO', stand(SHARED, P1, '2024-08-20'))).toEqual({
      X: ['terugkoppelenInschrijvingVO P1', 'verstrekkenBekostigingsstatus P1'],
    });
    expect(await step(Y.oin, 'aanleverenInschrijvingVO', stand(SHARED, P2, '2024-08-20'))).toEqual({
      Y: ['terugkoppelenInschrijvingVO P2', 'verstrekkenBekostigingsstatus P2'],
    });

    // The other school enrols both pupils before 1 October: double enrolments, and an Inschrijfbewijs for the old school.
    const doubleAndBewijs = (pupil: string): string[] => [
      `verstrekkenBekostigingsstatus ${pupil}`,
      `verstrekkenDigitaalInUitschrijfbewijsVO ${pupil}`,
    ];
    const ownFeedback = (pupil: string): string[] => [
      `terugkoppelenInschrijvingVO ${pupil}`,
      `verstrekkenBekostigingsstatus ${pupil}`,
    ];
    expect(await step(oinOf(OTHER_SCHOOL), 'aanleverenInschrijvingVO', stand(OTHER_SCHOOL, P1, '2026-09-15'))).toEqual({
      X: doubleAndBewijs('P1'),
      [OTHER_SCHOOL]: ownFeedback('P1'),
    });
    expect(await step(oinOf(OTHER_SCHOOL), 'aanleverenInschrijvingVO', stand(OTHER_SCHOOL, P2, '2026-09-15'))).toEqual({
      Y: doubleAndBewijs('P2'),
      [OTHER_SCHOOL]: ownFeedback('P2'),
    });

    expect(await step(undefined, 'verwerkenPersoonsmutatie', addressChange(P1))).toEqual({
      X: ['verstrekkenPersoonsgegevens P1'],
      [OTHER_SCHOOL]: ['verstrekkenPersoonsgegevens P1'],
    });
    expect(await step(undefined, 'verwerkenPersoonsmutatie', addressChange(P2))).toEqual({
      Y: ['verstrekkenPersoonsgegevens P2'],
      [OTHER_SCHOOL]: ['verstrekkenPersoonsgegevens P2'],
    });
    const stored = await broker().pool.query(
      'SELECT brin, administration_oin FROM enrolments WHERE brin = $1 ORDER BY administration_oin',
      [SHARED],
    );
    expect(stored.rows).toEqual([
      { brin: SHARED, administration_oin: X.oin },
      { brin: SHARED, administration_oin: Y.oin },
    ]);
  });

  test('an administration that no longer serves the BRIN: pushes about its enrolments go to the institution that does', async () => {
    await upsertInstitution(broker().pool, {
      oin: Y.oin,
      name: 'LAS Y',
      brins: ['35AA'],
      endpointUrl: endpoints.url(Y.endpoint),
      enabled: true,
    });
    const change = bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml')
      .replace('>123456782<', `>${P2}<`)
      .replace(/Vismarkt/g, 'Grote Markt');
    expect(await step(undefined, 'verwerkenPersoonsmutatie', change)).toEqual({
      X: ['verstrekkenPersoonsgegevens P2'],
      [OTHER_SCHOOL]: ['verstrekkenPersoonsgegevens P2'],
    });
  });
});
