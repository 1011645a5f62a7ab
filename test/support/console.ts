/** Schools, enrolments and error-queued messages for the operator-console tests (real broker, real endpoints). */
import { afterAll, beforeAll } from '@jest/globals';
import type { Broker } from '../../src/broker.js';
import { silentLogger } from '../../src/infra/log.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { listProcessingErrors } from '../../src/store/processing-outbox.repo.js';
import { useTestBroker, waitFor } from './broker.js';
import { startTestEndpoints, type TestEndpoints } from './institution-endpoint.js';
import { acceptedMessage, bodyFixture, elementText, lasRequest, send } from './soap.js';

/** The test schools' OINs follow the demo pattern: 00000007000<BRIN>00000. */
export const oinOf = (brin: string): string => `00000007000${brin}00000`;

/** The connection string of the broker's database (for a CLI or a second process). */
export const databaseUrlOf = (broker: Broker): string =>
  (broker.pool as unknown as { options: { connectionString: string } }).options.connectionString;

/** Registers a school whose endpoint is the test's endpoint for its BRIN. */
export async function registerSchool(broker: Broker, endpoints: TestEndpoints, brin: string): Promise<string> {
  await upsertInstitution(broker.pool, {
    oin: oinOf(brin),
    name: `School ${brin}`,
    brins: [brin],
    endpointUrl: endpoints.url(brin),
    enabled: true,
  });
  await broker.registry.refresh();
  return oinOf(brin);
}

/** Sends an enrolment from the school of `brin`; returns its identificatiecode. */
export async function sendEnrolment(
  broker: Broker,
  brin: string,
  volgnummer: string,
  bsn = '123456782',
): Promise<string> {
  const body = bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/25BE/g, brin)
    .replace(/2026-0001/g, volgnummer)
    .replace('123456782', bsn);
  const answer = await send(
    broker.baseUrl,
    lasRequest('aanleverenInschrijvingVO', body, {
      from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}`,
    }),
  );
  if (answer.status !== 200) throw new Error(`enrolment refused: ${answer.faultCode} ${answer.faultString}`);
  return elementText(body, 'identificatiecodeBedrijfsdocument')!;
}

/** The outbound message caused by the inbound message with this identificatiecode, once it has `status`. */
export async function outboundOf(
  broker: Broker,
  documentId: string,
  status: string,
  timeoutMs = 10_000,
): Promise<{ id: number; inboundId: number; status: string }> {
  const row = await waitFor(
    async () =>
      (
        await broker.pool.query<{ id: number; inbound_id: number; status: string }>(
          'SELECT o.id, m.id AS inbound_id, o.status FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id WHERE m.document_id = $1',
          [documentId],
        )
      ).rows[0],
    (r) => r?.status === status,
    timeoutMs,
  );
  if (row?.status !== status)
    throw new Error(`message ${documentId} did not reach ${status} (is ${row?.status ?? 'not there'})`);
  return { id: row.id, inboundId: row.inbound_id, status: row.status };
}

/** Sends an enrolment whose feedback the school refuses with a Client fault: it lands in the error queue. */
export async function errorQueued(
  broker: Broker,
  endpoints: TestEndpoints,
  brin: string,
  volgnummer: string,
): Promise<{ id: number; inboundId: number; documentId: string }> {
  endpoints.script(brin, 'client-fault');
  const documentId = await sendEnrolment(broker, brin, volgnummer);
  return { ...(await outboundOf(broker, documentId, 'error')), documentId };
}

/** Stores an enrolment from the school of `brin` the way the accept path does, but without a job (the sweeper wakes it). */
async function storeAccepted(broker: Broker, brin: string, volgnummer: string, operation: string): Promise<number> {
  const body = bodyFixture('valid/aanleverenInschrijvingVO.xml')
    .replace(/25BE/g, brin)
    .replace(/2026-0001/g, volgnummer);
  const [stored] = await storeAcceptedBatch(
    broker.pool,
    [{ ...acceptedMessage('aanleverenInschrijvingVO', body), operation, senderOin: oinOf(brin) }],
    null,
  );
  if (!stored || stored instanceof Error) throw stored ?? new Error('not stored');
  return stored.messageId;
}

/** A message no handler takes: the pipeline moves it to the processing error queue. Returns its id. */
export async function unprocessable(broker: Broker, brin: string, volgnummer: string): Promise<number> {
  const id = await storeAccepted(broker, brin, volgnummer, 'anOperationWithoutHandler');
  const [failed] = await waitFor(
    () => listProcessingErrors(broker.pool, { ids: [id] }),
    (rows) => rows.length === 1,
  );
  if (!failed) throw new Error(`message ${id} did not reach the processing error queue`);
  return id;
}

/**
 * An enrolment put in the processing error queue directly with `failure` as its reason, before the
 * sweeper's grace period lets anything process it: it can be processed, so a replay succeeds.
 */
export async function processingErrorQueued(
  broker: Broker,
  brin: string,
  volgnummer: string,
  failure: string,
): Promise<number> {
  const id = await storeAccepted(broker, brin, volgnummer, 'aanleverenInschrijvingVO');
  await broker.pool.query('UPDATE processing_outbox SET failed_at = now(), failure = $2 WHERE message_id = $1', [
    id,
    failure,
  ]);
  return id;
}

/** Whether an inbound message has been processed (its result is recorded). */
export async function processed(broker: Broker, messageId: number): Promise<boolean> {
  return (
    (await broker.pool.query('SELECT 1 FROM processing_results WHERE message_id = $1', [messageId])).rowCount === 1
  );
}

/**
 * A broker with its processing and delivery pipeline (short retries) and a test endpoint for each
 * school of `brins`, for the tests of the describe it is called in.
 */
export function useBrokerWithSchools(brins: readonly string[]): {
  broker: () => Broker;
  endpoints: () => TestEndpoints;
} {
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
