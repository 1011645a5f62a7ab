/** What `npm start` wires: accept → processing worker → delivery worker → the built-in demo receiver. */
import { DEMO_INSTITUTIONS, seedDemoPopulation } from '../../src/demo-seed.js';
import { silentLogger } from '../../src/infra/log.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

describe('demo loop', () => {
  const broker = useTestBroker();
  let pipeline: Pipeline;

  beforeAll(async () => {
    await seedDemoPopulation(broker().pool);
    const school = DEMO_INSTITUTIONS[0]!;
    await upsertInstitution(broker().pool, {
      ...school,
      endpointUrl: `${broker().baseUrl}/demo/institutions/${school.brins[0]}`,
    });
    await broker().registry.refresh();
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline.close();
  });

  test('an enrolment comes back to the school as a delivered terugkoppeling within a second', async () => {
    const started = Date.now();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml');
    const answer = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument');
    const row = await waitFor(
      async () =>
        (
          await broker().pool.query(
            `SELECT o.status, o.operation, r.outcome FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id
         JOIN processing_results r ON r.message_id = m.id WHERE m.document_id = $1 AND o.operation = 'terugkoppelenInschrijvingVO'`,
            [documentId],
          )
        ).rows[0],
      (r) => r?.status === 'delivered',
      5000,
    );
    expect(row).toEqual({ status: 'delivered', operation: 'terugkoppelenInschrijvingVO', outcome: 'approved' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
