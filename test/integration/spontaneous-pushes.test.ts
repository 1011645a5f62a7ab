/**
 * Spontaneous pushes end to end, with three schools' endpoints played by the test: digital in- and
 * uitschrijfbewijzen on transfers, and bekostigingsstatus with double enrolments arising and resolved.
 * Each step asserts exactly which school received which message, and every message validates against
 * our outbound XSD.
 */
import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { traceByBrin } from '../../src/operator/trace.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { isValidBsn } from '../../src/register/pgn.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const SCHOOLS = ['31AA', '32AA', '33AA'] as const;
const [A, B, C] = SCHOOLS;

/** Fresh valid BSNs, one per scenario, so scenarios never see each other's enrolments. */
const bsns = (() => {
  const found: string[] = [];
  for (let n = 300_000_000; found.length < 20; n++) if (isValidBsn(String(n))) found.push(String(n));
  return found;
})();

let clock = 0;
/** A minimal valid stand: one period from the in-date, at the school's own vestiging; each newer than the last. */
function stand(brin: string, bsn: string, dates: { in: string; out?: string }, volgnummer = `${brin}-${bsn}`): string {
  clock += 1;
  const time = new Date(Date.UTC(2026, 10, 1, 8, 0, clock)).toISOString();
  return bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/<ins:inschrijvingPeriodeVO>\s*<bas:datumBegin>2027-08-19[\s\S]*?<\/ins:inschrijvingPeriodeVO>/, '')
    .replace(/<ins:ontwikkelingsperspectief>[\s\S]*<\/ins:verblijfAndereInstelling>/, '')
    .replace('<bas:datumTijdBedrijfsdocument>2026-09-01T08:15:00Z<', `<bas:datumTijdBedrijfsdocument>${time}<`)
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace(/2026-0001/g, volgnummer)
    .replace(
      '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving>',
      `<bas:datumInschrijving>${dates.in}</bas:datumInschrijving>${dates.out ? `<bas:datumUitschrijving>${dates.out}</bas:datumUitschrijving>` : ''}`,
    )
    .replace('<bas:datumBegin>2026-08-20<', `<bas:datumBegin>${dates.in}<`)
    .replace('<bas:onderwijsaanbieder>100A200<', `<bas:onderwijsaanbieder>1${brin.slice(0, 2)}A200<`);
}

function deletion(brin: string, bsn: string, volgnummer = `${brin}-${bsn}`): string {
  return bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml')
    .replace(/25BE/g, brin)
    .replace('123456782', bsn)
    .replace(/2026-0001/g, volgnummer);
}

const FIXED_TODAY = new Date('2026-11-27T12:00:00Z');
let today = FIXED_TODAY;

describe('spontaneous pushes (three schools)', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    for (const brin of SCHOOLS) await registerSchool(broker(), endpoints, brin);
    for (const bsn of bsns) {
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
    // A fixed clock: the peildatum follows the processing date, so the expected statuses stay true.
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {
      now: () => today,
    });
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  /** One school's summary of a received push: operation and what it says. */
  function describePush(xml: string): string {
    const doc = XmlDocument.fromString(xml);
    try {
      const body = doc.get('//*[local-name()="Body"]/*') as never;
      outboundSchema.validate(body);
    } finally {
      doc.dispose();
    }
    const operation = /<(?:\w+:)?(\w+)_Request/.exec(xml)![1];
    if (operation === 'verstrekkenDigitaalInUitschrijfbewijsVO') {
      const datum = elementText(xml, 'datumInschrijving') ?? elementText(xml, 'datumUitschrijving') ?? '-';
      return `${elementText(xml, 'soortBewijs')} ${elementText(xml, 'brin')} ${datum} own=${elementText(xml, 'eigenInschrijvingvolgnummer')}`;
    }
    if (operation === 'verstrekkenBekostigingsstatus') {
      const doubles = [...xml.matchAll(/<t:naam>brin<\/t:naam><t:waarde>([^<]+)</g)].map((m) => m[1]).join(',');
      return `Bekostigingsstatus ${elementText(xml, 'peildatum')} ${elementText(xml, 'statusBekostiging')}${doubles ? ` double=${doubles}` : ''}`;
    }
    return operation === 'terugkoppelenInschrijvingVO'
      ? `Terugkoppeling ${elementText(xml, 'leveringGoedgekeurd')}`
      : operation!;
  }

  /** Sends one message and returns, per school, what it received because of it (everything is delivered before returning). */
  async function step(sender: string, operation: string, body: string): Promise<Record<string, string[]>> {
    const seen = Object.fromEntries(SCHOOLS.map((brin) => [brin, endpoints.received(brin).length]));
    const answer = await send(
      broker().baseUrl,
      lasRequest(operation, body, { from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(sender)}` }),
    );
    expect([answer.status, answer.status === 200 ? '' : answer.faultString]).toEqual([200, '']);
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument');
    const settled = await waitFor(
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
    expect(settled).toEqual({ open: 0, processed: true });
    const pushes: Record<string, string[]> = {};
    for (const brin of SCHOOLS) {
      const fresh = endpoints
        .received(brin)
        .slice(seen[brin])
        .map((r) => describePush(r.xml))
        .sort();
      if (fresh.length > 0) pushes[brin] = fresh;
    }
    return pushes;
  }
  const enrol = (brin: string, body: string) => step(brin, 'aanleverenInschrijvingVO', body);

  test('transfer A → B: A gets the Inschrijfbewijs, then B the Uitschrijfbewijs; each its funding status', async () => {
    const bsn = bsns[0]!;
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', 'Terugkoppeling true'],
    });
    // B enrols on 1 December: no overlap on 1 October, so no double-enrolment status for A.
    expect(await enrol(B, stand(B, bsn, { in: '2026-12-01' }))).toEqual({
      [A]: [`Inschrijfbewijs ${B} 2026-12-01 own=${A}-${bsn}`],
      [B]: ['Bekostigingsstatus 2026-10-01 NIET_BEKOSTIGBAAR', 'Terugkoppeling true'],
    });
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-12-01' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', 'Terugkoppeling true'],
      [B]: [`Uitschrijfbewijs ${A} 2026-12-01 own=${B}-${bsn}`],
    });
    // An operator tracing school A sees B's enrolment too: it caused A's Inschrijfbewijs.
    const traced = await traceByBrin(broker().pool, A, 20);
    expect(traced.filter((t) => t.brin === B).map((t) => t.operation)).toEqual(['aanleverenInschrijvingVO']);
    // The same stand again changes nothing and pushes nothing but the terugkoppeling.
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-12-01' }))).toEqual({
      [A]: ['Terugkoppeling true'],
    });
  });

  test('changed and removed dates send a new bewijs', async () => {
    const bsn = bsns[1]!;
    await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-12-01' }));
    await enrol(B, stand(B, bsn, { in: '2026-12-01' }));
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-12-15' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', 'Terugkoppeling true'],
      [B]: [`Uitschrijfbewijs ${A} 2026-12-15 own=${B}-${bsn}`],
    });
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', 'Terugkoppeling true'],
      [B]: [`Uitschrijfbewijs ${A} - own=${B}-${bsn}`],
    });
    expect(await enrol(B, stand(B, bsn, { in: '2026-12-08' }))).toEqual({
      [A]: [`Inschrijfbewijs ${B} 2026-12-08 own=${A}-${bsn}`],
      [B]: ['Bekostigingsstatus 2026-10-01 NIET_BEKOSTIGBAAR', 'Terugkoppeling true'],
    });
    // B's enrolment deleted: its in-date is gone, A is told.
    expect(await step(B, 'aanleverenVerwijderingInschrijvingVO', deletion(B, bsn))).toEqual({
      [A]: [`Inschrijfbewijs ${B} - own=${A}-${bsn}`],
      [B]: ['Terugkoppeling true'],
    });
  });

  test('two old schools are both told; C is not told about a transfer it is not part of', async () => {
    const bsn = bsns[2]!;
    await enrol(A, stand(A, bsn, { in: '2023-08-20', out: '2026-11-01' }));
    await enrol(B, stand(B, bsn, { in: '2024-08-20', out: '2026-11-01' }));
    expect(await enrol(C, stand(C, bsn, { in: '2026-11-01' }))).toEqual({
      [A]: [`Inschrijfbewijs ${C} 2026-11-01 own=${A}-${bsn}`],
      [B]: [`Inschrijfbewijs ${C} 2026-11-01 own=${B}-${bsn}`],
      [C]: [
        'Bekostigingsstatus 2026-10-01 NIET_BEKOSTIGBAAR',
        'Terugkoppeling true',
        `Uitschrijfbewijs ${A} 2026-11-01 own=${C}-${bsn}`,
        `Uitschrijfbewijs ${B} 2026-11-01 own=${C}-${bsn}`,
      ],
    });
  });

  test('a school the pupil passed through and left before is not told of a later transfer', async () => {
    const bsn = bsns[7]!;
    await enrol(B, stand(B, bsn, { in: '2021-08-20', out: '2022-07-01' }));
    await enrol(C, stand(C, bsn, { in: '2026-10-15' }));
    await enrol(A, stand(A, bsn, { in: '2020-08-20' })); // delivered late: A learns of C as the old school
    expect(await enrol(A, stand(A, bsn, { in: '2020-08-20', out: '2026-10-15' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', 'Terugkoppeling true'],
      [C]: [`Uitschrijfbewijs ${A} 2026-10-15 own=${C}-${bsn}`],
    });
  });

  test('half-year edge, counted back from the processing day (27 November): left 27 May is told, 26 May is not', async () => {
    const told = bsns[3]!;
    await enrol(A, stand(A, told, { in: '2020-08-20', out: '2026-05-27' }));
    expect((await enrol(B, stand(B, told, { in: '2026-12-01' })))[A]).toEqual([
      `Inschrijfbewijs ${B} 2026-12-01 own=${A}-${told}`,
    ]);
    const notTold = bsns[4]!;
    await enrol(A, stand(A, notTold, { in: '2020-08-20', out: '2026-05-26' }));
    expect(await enrol(B, stand(B, notTold, { in: '2026-12-01' }))).toEqual({
      [B]: ['Bekostigingsstatus 2026-10-01 NIET_BEKOSTIGBAAR', 'Terugkoppeling true'],
    });
  });

  test('double enrolment on 1 October arises (both schools signalled, A without sending anything) and is resolved', async () => {
    const bsn = bsns[5]!;
    await enrol(A, stand(A, bsn, { in: '2024-08-20' }));
    expect(await enrol(B, stand(B, bsn, { in: '2026-09-15' }))).toEqual({
      [A]: [
        `Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${B}`,
        `Inschrijfbewijs ${B} 2026-09-15 own=${A}-${bsn}`,
      ],
      [B]: [`Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${A}`, 'Terugkoppeling true'],
    });
    // A delivers the out-date 15 September: the overlap on 1 October is gone; both get an updated status.
    // A's enrolment now ends in school year 2026/27 before its peildatum: not fundable there.
    expect(await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-09-15' }))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 NIET_BEKOSTIGBAAR', 'Terugkoppeling true'],
      [B]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', `Uitschrijfbewijs ${A} 2026-09-15 own=${B}-${bsn}`],
    });
  });

  test('A leaving on 1 October and B enrolling that day: a double enrolment on the peildatum, A still funded', async () => {
    const bsn = bsns[10]!;
    await enrol(A, stand(A, bsn, { in: '2024-08-20', out: '2026-10-01' }));
    const pushes = await enrol(B, stand(B, bsn, { in: '2026-10-01' }));
    expect(pushes).toEqual({
      [A]: [
        `Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${B}`,
        `Inschrijfbewijs ${B} 2026-10-01 own=${A}-${bsn}`,
      ],
      [B]: [
        `Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${A}`,
        'Terugkoppeling true',
        `Uitschrijfbewijs ${A} 2026-10-01 own=${B}-${bsn}`,
      ],
    });
  });

  test('a deletion that resolves a double enrolment updates the other school', async () => {
    const bsn = bsns[8]!;
    await enrol(A, stand(A, bsn, { in: '2024-08-20' }));
    await enrol(B, stand(B, bsn, { in: '2026-09-15' }));
    expect(await step(B, 'aanleverenVerwijderingInschrijvingVO', deletion(B, bsn))).toEqual({
      [A]: ['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR', `Inschrijfbewijs ${B} - own=${A}-${bsn}`],
      [B]: ['Terugkoppeling true'],
    });
  });

  test("a status pushed to the other school after a deletion counts from the register's first enrolment in the Netherlands", async () => {
    const bsn = bsns[11]!;
    // Arrived in March 2026: the population register records that day; peildatum 1 October 2026 is the third quarter after.
    await upsertPopulationRecord(broker().pool, {
      bsn,
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Leerling',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
      firstEnrolmentPoVo: '2026-03-02',
    });
    await enrol(A, stand(A, bsn, { in: '2026-03-02' }));
    await enrol(B, stand(B, bsn, { in: '2026-09-15' }));
    expect(await step(B, 'aanleverenVerwijderingInschrijvingVO', deletion(B, bsn))).toMatchObject({
      [A]: expect.arrayContaining(['Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR']),
    });
    const status = endpoints
      .received(A)
      .map((r) => r.xml)
      .filter((xml) => xml.includes('verstrekkenBekostigingsstatus_Request'))
      .at(-1)!;
    expect(elementText(status, 'datumEersteInschrijvingNL')).toBe('2026-03-02');
    expect(elementText(status, 'indicatieNieuwkomersbekostiging')).toBe('J');
  });

  test('in July, a new enrolment for next school year tells the other school about that year’s peildatum', async () => {
    today = new Date('2026-07-15T12:00:00Z');
    try {
      const bsn = bsns[9]!;
      await enrol(A, stand(A, bsn, { in: '2024-08-20' }));
      // A's own peildatum is still 1 October 2025; the overlap is on 1 October 2026.
      expect(await enrol(B, stand(B, bsn, { in: '2026-09-01' }))).toEqual({
        [A]: [
          `Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${B}`,
          `Inschrijfbewijs ${B} 2026-09-01 own=${A}-${bsn}`,
        ],
        [B]: [`Bekostigingsstatus 2026-10-01 BEKOSTIGBAAR double=${A}`, 'Terugkoppeling true'],
      });
    } finally {
      today = FIXED_TODAY;
    }
  });

  test('a retried job or a duplicate submission sends no push twice', async () => {
    const bsn = bsns[6]!;
    await enrol(A, stand(A, bsn, { in: '2024-08-20' }));
    const body = stand(B, bsn, { in: '2026-12-01' });
    await enrol(B, body);
    const before = endpoints.received(A).length;
    // The same document again: the broker answers with the original receipt and processes nothing.
    await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, {
        from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(B)}`,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(endpoints.received(A).length).toBe(before);
    // The processing job run again (a stalled worker, a sweeper re-add) claims nothing and queues nothing.
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    expect(
      await processMessage(broker().pool, createHandlers(), id, {
        traceKey: TEST_SECRETS.TRACE_KEY,
        brokerOin: broker().config.brokerOin,
      }),
    ).toEqual({ outcome: null, outbound: [] });
    const queued = (
      await broker().pool.query(
        `SELECT o.brin, o.operation FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id
       WHERE m.document_id = $1 ORDER BY 1, 2`,
        [elementText(body, 'identificatiecodeBedrijfsdocument')],
      )
    ).rows;
    expect(queued).toEqual([
      { brin: A, operation: 'verstrekkenDigitaalInUitschrijfbewijsVO' },
      { brin: B, operation: 'terugkoppelenInschrijvingVO' },
      { brin: B, operation: 'verstrekkenBekostigingsstatus' },
    ]);
  });
});
