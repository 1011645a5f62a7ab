/** Schools, enrolments and error-queued messages for the operator-console tests (real broker, real endpoints). */
import { afterAll, beforeAll } from '@jest/globals';
import type { Broker } from '../../src/broker.js';
import { silentLogger } from '../../src/log.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { type TestEndpoints, startTestEndpoints } from './institution-endpoint.js';
import { bodyFixture, elementText, lasRequest, send } from './soap.js';
import { useTestBroker, waitFor } from './broker.js';

/** The test schools' OINs follow the demo pattern: 00000007000<BRIN>00000. */
export const oinOf = (brin: string): string => `00000007000${brin}00000`;

/** The connection string of the broker's database (for a CLI or a second process). */
export const databaseUrlOf = (broker: Broker): string => (broker.pool as unknown as { options: { connectionString: string } }).options.connectionString;

/** Registers a school whose endpoint is the test's endpoint for its BRIN. */
export async function registerSchool(broker: Broker, endpoints: TestEndpoints, brin: string): Promise<string> {
  await upsertInstitution(broker.pool, { oin: oinOf(brin), name: `School ${brin}`, brins: [brin], endpointUrl: endpoints.url(brin), enabled: true });
  await broker.registry.refresh();
  return oinOf(brin);
}

/** Sends an enrolment from the school of `brin`; returns its identificatiecode. */
export async function sendEnrolment(broker: Broker, brin: string, volgnummer: string, bsn = '123456782'): Promise<string> {
  const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, brin).replace(/2026-0001/g, volgnummer).replace('123456782', bsn);
  const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body, { from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}` }));
  if (answer.status !== 200) throw new Error(`enrolment refused: ${answer.faultCode} ${answer.faultString}`);
  return elementText(body, 'identificatiecodeBedrijfsdocument')!;
}

/** The outbound message caused by the inbound message with this identificatiecode, once it has `status`. */
export async function outboundOf(broker: Broker, documentId: string, status: string, timeoutMs = 10_000): Promise<{ id: number; inboundId: number; status: string }> {
  const row = await waitFor(
    async () => (await broker.pool.query<{ id: number; inbound_id: number; status: string }>(
      'SELECT o.id, m.id AS inbound_id, o.status FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id WHERE m.document_id = $1', [documentId])).rows[0],
    (r) => r?.status === status, timeoutMs);
  if (row?.status !== status) throw new Error(`message ${documentId} did not reach ${status} (is ${row?.status ?? 'not there'})`);
  return { id: row.id, inboundId: row.inbound_id, status: row.status };
}

/** Sends an enrolment whose feedback the school refuses with a Client fault: it lands in the error queue. */
export async function errorQueued(broker: Broker, endpoints: TestEndpoints, brin: string, volgnummer: string): Promise<{ id: number; inboundId: number; documentId: string }> {
  endpoints.script(brin, 'client-fault');
  const documentId = await sendEnrolment(broker, brin, volgnummer);
  return { ...(await outboundOf(broker, documentId, 'error')), documentId };
}

/**
 * A broker with its processing and delivery pipeline (short retries) and a test endpoint for each
 * school of `brins`, for the tests of the describe it is called in.
 */
export function useBrokerWithSchools(brins: readonly string[]): { broker: () => Broker; endpoints: () => TestEndpoints } {
  const broker = useTestBroker({ env: { DELIVERY_BACKOFF_MS: '50', DELIVERY_TIMEOUT_MS: '1000' } });
  let endpoints: TestEndpoints | undefined;
  let pipeline: Pipeline | undefined;
  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    // No population register: every stand is rejected (I0012), so each enrolment causes exactly one
    // outbound message, its terugkoppeling, and no funding-status or bewijs pushes. These tests are
    // about delivery and operations, not register rules.
    for (const brin of brins) await registerSchool(broker(), endpoints, brin);
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline?.close();
    await endpoints?.close();
  });
  return { broker, endpoints: () => endpoints! };
}
