/**
 * End to end through the pipeline: each business rule as the school's endpoint receives it (validated
 * against the outbound XSD), and a hanging school that does not hold up the others.
 */
import { XmlDocument } from 'libxml2-wasm';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { replaceRioLinks } from '../../src/store/reference.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;

describe('feedback end to end', () => {
  const broker = useTestBroker({
    env: { DELIVERY_TIMEOUT_MS: '4000', DELIVERY_BACKOFF_MS: '5000', DELIVERY_PER_INSTITUTION: '2' },
  });
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    await seedDemoPopulation(broker().pool);
    for (const brin of ['21AA', '22AA', '23AA']) {
      await upsertInstitution(broker().pool, {
        oin: `00000007000${brin}00000`,
        name: brin,
        brins: [brin],
        endpointUrl: endpoints.url(brin),
        enabled: true,
      });
    }
    await replaceRioLinks(broker().pool, [{ vestiging: '21AA01', onderwijslocatie: '100X301' }]);
    await broker().registry.refresh();
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  const from = (brin: string) => ({
    from: `http://www.w3.org/2005/08/addressing/anonymous?oin=00000007000${brin}00000`,
  });
  const enrolment = (brin: string, volgnummer: string, change: (xml: string) => string = (x) => x): string =>
    change(
      bodyFixture('valid/aanleverenInschrijvingVO.xml')
        .replace(/25BE/g, brin)
        .replace(/2026-0001/g, volgnummer),
    );

  /** Sends a stand and returns the terugkoppeling the school's endpoint received for it. */
  async function feedbackOn(brin: string, body: string): Promise<string> {
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, from(brin)));
    const received = await waitFor(
      async () => endpoints.received(brin).find((r) => r.xml.includes(documentId)),
      (r) => r !== undefined,
      5000,
    );
    const doc = XmlDocument.fromString(received!.xml);
    try {
      outboundSchema.validate(doc.get('//*[local-name()="terugkoppelenInschrijvingVO_Request"]') as never);
    } finally {
      doc.dispose();
    }
    return received!.xml;
  }
  const verdict = (xml: string) => ({
    goedgekeurd: elementText(xml, 'leveringGoedgekeurd'),
    signalen: [...xml.matchAll(/<t:signaalcode>([^<]+)</g)].map((m) => m[1]),
  });

  test.each([
    ['a clean stand', (x: string) => x, 'true', []],
    ['BSN failing the elfproef', (x: string) => x.replace('123456782', '123456789'), 'false', ['I0001']],
    [
      'vestiging of another BRIN',
      (x: string) => x.replace('<ins:vestiging>21AA00<', '<ins:vestiging>99ZZ00<'),
      'false',
      ['I0003'],
    ],
    [
      'period before the in-date',
      (x: string) => x.replace('<bas:datumBegin>2026-08-20<', '<bas:datumBegin>2026-08-01<'),
      'false',
      ['I0004'],
    ],
    [
      'out-date before in-date',
      (x: string) =>
        x.replace(
          '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving>',
          '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving><bas:datumUitschrijving>2026-08-10</bas:datumUitschrijving>',
        ),
      'false',
      ['I0006', 'I0005', 'I0005'],
    ],
    [
      'BSN unknown to the population register',
      (x: string) => x.replace('123456782', '111222333').replace('111222333', '999999990'),
      'false',
      ['I0012'],
    ],
    [
      'leerjaar jumping by two (warning)',
      (x: string) => x.replace('<ins:leerjaar>2<', '<ins:leerjaar>3<'),
      'true',
      ['I0033'],
    ],
    [
      'a period without onderwijslocatie (schema-valid, rejected by the rules)',
      (x: string) => x.replace('<bas:onderwijslocatie>100X301</bas:onderwijslocatie>', ''),
      'false',
      ['I0034'],
    ],
    [
      'an onderwijslocatie RIO does not link to the vestiging (warning)',
      (x: string) => x.replace('100X301', '100X399'),
      'true',
      ['I0035'],
    ],
  ])('%s', async (_name, change, goedgekeurd, signalen) => {
    const volgnummer = `E-${Math.random().toString(36).slice(2, 8)}`;
    const xml = await feedbackOn('21AA', enrolment('21AA', volgnummer, change));
    expect(verdict(xml)).toEqual({ goedgekeurd, signalen });
  });

  test('values sent with white space around and inside are processed, stored and pushed normalised', async () => {
    const volgnummer = `W-${Math.random().toString(36).slice(2, 8)}`;
    const spaced = enrolment('21AA', volgnummer, (x) =>
      x
        .replace('>123456782<', '>\n   123456782\t<')
        .replace(`>${volgnummer}<`, `>  ${volgnummer.replace('-', '\t-   ')} <`)
        .replace('<bas:brin>21AA<', '<bas:brin> 21AA <')
        .replace('<ins:vestiging>21AA00<', '<ins:vestiging>\n21AA00\n<')
        .replace('<bas:datumInschrijving>2026-08-20<', '<bas:datumInschrijving> 2026-08-20 <'),
    );
    const xml = await feedbackOn('21AA', spaced);
    const normalised = volgnummer.replace('-', ' - ');
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen: [] });
    expect([
      elementText(xml, 'burgerservicenummer'),
      elementText(xml, 'inschrijvingvolgnummer'),
      elementText(xml, 'brin'),
    ]).toEqual(['123456782', normalised, '21AA']);
    const stored = await broker().pool.query(
      'SELECT pgn, datum_inschrijving::text AS datum, stand FROM enrolments WHERE brin = $1 AND inschrijvingvolgnummer = $2',
      ['21AA', normalised],
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].pgn).toMatch(/^\S*123456782$/);
    expect(stored.rows[0].datum).toBe('2026-08-20');
    expect(stored.rows[0].stand.perioden[0].vestiging).toBe('21AA00');
  });

  test('a blank value is refused with Client.EK0035 naming the element, and nothing is stored', async () => {
    const body = enrolment('21AA', 'B-1', (x) => x.replace('<ins:vestiging>21AA00<', '<ins:vestiging> \t <'));
    const answer = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, from('21AA')));
    expect([answer.status, answer.faultCode, elementText(answer.text, 'element')]).toEqual([
      500,
      'Client.EK0035',
      'vestiging',
    ]);
    expect(answer.faultString).toContain('vestiging has no value');
    const rows = await broker().pool.query('SELECT 1 FROM inbound_messages WHERE document_id = $1', [
      elementText(body, 'identificatiecodeBedrijfsdocument'),
    ]);
    expect(rows.rows).toHaveLength(0);
  });

  test('a hanging school does not delay another school', async () => {
    endpoints.script('22AA', ...Array.from({ length: 8 }, () => 'hang' as const));
    const hung = Array.from({ length: 6 }, (_, i) => enrolment('22AA', `H-${i}`));
    await Promise.all(
      hung.map((body) => send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, from('22AA')))),
    );
    const healthy = Array.from({ length: 10 }, (_, i) => enrolment('23AA', `F-${i}`));
    await Promise.all(
      healthy.map((body) => send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, from('23AA')))),
    );
    const feedback = () =>
      endpoints.received('23AA').filter((r) => r.xml.includes('terugkoppelenInschrijvingVO_Request'));
    await waitFor(
      async () => feedback().length,
      (n) => n === 10,
      5000,
    );
    expect(feedback()).toHaveLength(10);
    // All delivered while the hanging school's first attempts still wait for their timeout.
    const ended = await broker().pool.query(
      "SELECT count(*)::int AS n FROM delivery_attempts a JOIN outbound_messages o ON o.id = a.outbound_id WHERE o.brin = '22AA'",
    );
    expect(ended.rows[0].n).toBe(0);
    expect(endpoints.received('22AA').length).toBeLessThanOrEqual(2); // at most its cap in flight
  });
});
