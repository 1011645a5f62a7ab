/**
 * Delivery to institutions' endpoints played by the test (real HTTP, PostgreSQL): success, retries
 * with the same MessageID, timeouts, final failures into the error queue, replay, purge, pause.
 */

import { Writable } from 'node:stream';
import { XmlDocument } from 'libxml2-wasm';
import { retryDelay } from '../../src/delivery/policy.js';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { createLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { listErrors, showOutbound } from '../../src/operator/error-queue.js';
import {
  pauseInstitution,
  purgeErrorQueue,
  replayErrorQueue,
  resumeInstitution,
} from '../../src/operator/operator-actions.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { setInstitutionPaused, upsertInstitution } from '../../src/store/institutions.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { type DeliveryRig, startDeliveryRig } from '../support/delivery-rig.js';
import type { TestEndpoints } from '../support/institution-endpoint.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const TIMEOUT_MS = 300;
const RETRIES = 3;
const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;

describe('delivery', () => {
  const broker = useTestBroker();
  let rig: DeliveryRig;
  let endpoints: TestEndpoints;
  const logLines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });

  beforeAll(async () => {
    // Pollers take a new message a second after it was queued: the test takes the funding status out of delivery first.
    rig = await startDeliveryRig(broker(), {
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
      perInstitution: 4,
      log: createLogger('info', logStream),
    });
    ({ endpoints } = rig);
  });
  afterAll(async () => {
    await rig.close();
  });

  /** An institution with its own BRIN and endpoint; an enrolment from it is processed and its terugkoppeling queued. */
  async function feedbackFor(
    brin: string,
    endpoint = endpoints.url(brin),
    options: { keepPaused?: boolean; keepFundingStatus?: boolean } = {},
  ): Promise<number> {
    const oin = `00000007000${brin}00000`;
    if (!options.keepPaused)
      await upsertInstitution(broker().pool, { oin, name: brin, brins: [brin], endpointUrl: endpoint, enabled: true });
    // Held until the pushes are taken out: on a slow machine a poller would otherwise deliver them first.
    await setInstitutionPaused(broker().pool, oin, true);
    await broker().registry.refresh();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, brin);
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, {
        from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oin}`,
      }),
    );
    const { id } = (await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    const { outbound } = await processMessage(broker().pool, createHandlers(), id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: '00000001800866472000',
    });
    // Only the terugkoppeling is delivered here; the funding-status pushes of the same stand stay pending.
    const feedback = (
      await broker().pool.query(
        "SELECT id FROM outbound_messages WHERE id = ANY($1) AND operation = 'terugkoppelenInschrijvingVO'",
        [outbound.map((o) => o.id)],
      )
    ).rows;
    expect(feedback).toHaveLength(1);
    if (!options.keepFundingStatus) {
      await broker().pool.query("UPDATE outbound_messages SET status = 'purged' WHERE id = ANY($1) AND id <> $2", [
        outbound.map((o) => o.id),
        feedback[0].id,
      ]);
    }
    if (!options.keepPaused) await setInstitutionPaused(broker().pool, oin, false);
    return feedback[0].id as number;
  }

  const finalState = (id: number) =>
    waitFor(
      async () =>
        (await broker().pool.query('SELECT status, attempts, last_error FROM outbound_messages WHERE id = $1', [id]))
          .rows[0],
      (row) => row.status !== 'pending',
      10_000,
    );
  const attempts = async (id: number) =>
    (
      await broker().pool.query(
        'SELECT attempt, outcome, http_status, fault_code, latency_ms FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt',
        [id],
      )
    ).rows;

  test('a terugkoppeling is delivered once, valid against the outbound XSD, and the receipt is checked', async () => {
    const id = await feedbackFor('11AA');
    expect(await finalState(id)).toMatchObject({ status: 'delivered', attempts: 1 });
    const [received] = endpoints.received('11AA');
    const doc = XmlDocument.fromString(received!.xml);
    try {
      const body = doc.get('//*[local-name()="terugkoppelenInschrijvingVO_Request"]');
      outboundSchema.validate(body as never);
    } finally {
      doc.dispose();
    }
    expect(elementText(received!.xml, 'leveringGoedgekeurd')).toBe('true');
    expect(elementText(received!.xml, 'To')).toBe(
      'http://www.w3.org/2005/08/addressing/anonymous?oin=0000000700011AA00000',
    );
  });

  test('HTTP 503 twice, then success: delivered on the third attempt with one MessageID throughout', async () => {
    endpoints.script('12AA', 'server-error', 'server-error');
    const id = await feedbackFor('12AA');
    expect(await finalState(id)).toMatchObject({ status: 'delivered', attempts: 3 });
    const received = endpoints.received('12AA');
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.messageId)).size).toBe(1);
    expect((await attempts(id)).map((a) => a.outcome)).toEqual(['retry', 'retry', 'delivered']);
  });

  test('a Client fault goes to the error queue after one attempt', async () => {
    endpoints.script('13AA', 'client-fault');
    const id = await feedbackFor('13AA');
    expect(await finalState(id)).toMatchObject({
      status: 'error',
      attempts: 1,
      last_error: 'SOAP fault Client.DK0004',
    });
    expect(endpoints.received('13AA')).toHaveLength(1);
  });

  test('an answer that is not a receipt J goes to the error queue at once', async () => {
    endpoints.script('14AA', 'garbage');
    const id = await feedbackFor('14AA');
    const state = await finalState(id);
    expect(state).toMatchObject({ status: 'error', attempts: 1 });
    expect(state.last_error).toContain('not a valid OntvangstBevestiging');
  });

  test('an endpoint that is down: error queue after exactly 1 + 3 attempts', async () => {
    const id = await feedbackFor('15AA', 'http://127.0.0.1:9/institutions/15AA');
    expect(await finalState(id)).toMatchObject({ status: 'error', attempts: 4 });
    const timeline = await attempts(id);
    expect(timeline.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry', 'retry']);
    // The log says when it entered the error queue: three retry lines, then one error line.
    const about = await waitFor(
      async () => logLines.filter((line) => line.outboundId === id),
      (lines) => lines.length >= 4,
    );
    expect(about.map((line) => [line.level, line.message, line.attempt])).toEqual([
      ['warn', 'delivery attempt failed; will retry', 1],
      ['warn', 'delivery attempt failed; will retry', 2],
      ['warn', 'delivery attempt failed; will retry', 3],
      ['error', 'delivery failed; the message is in the error queue', 4],
    ]);
  });

  test('an endpoint that hangs: each attempt ends at the timeout, then the error queue', async () => {
    endpoints.script('16AA', 'hang', 'hang', 'hang', 'hang');
    const id = await feedbackFor('16AA');
    const state = await finalState(id);
    expect(state).toMatchObject({ status: 'error', attempts: 4 });
    expect(state.last_error).toContain(`no answer within ${TIMEOUT_MS} ms`);
    for (const attempt of await attempts(id)) {
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(attempt.latency_ms).toBeLessThan(TIMEOUT_MS + 1000);
    }
  });

  const operator = () => ({ pool: broker().pool });

  test('replay after recovery delivers exactly once, with the original MessageID; replaying twice delivers once', async () => {
    endpoints.script('17AA', 'client-fault');
    const id = await feedbackFor('17AA');
    expect(await finalState(id)).toMatchObject({ status: 'error' });
    expect((await listErrors(operator(), { institutionOin: '0000000700017AA00000' })).map((e) => e.id)).toEqual([id]);
    expect(await replayErrorQueue(operator(), 'test:delivery', { ids: [id] }, { dryRun: true })).toEqual([id]);
    expect((await showOutbound(operator(), id))?.message.status).toBe('error'); // dry run changed nothing

    const [first, second] = await Promise.all([
      replayErrorQueue(operator(), 'test:delivery', { ids: [id] }),
      replayErrorQueue(operator(), 'test:delivery', { ids: [id] }),
    ]);
    expect([...first!, ...second!]).toEqual([id]);
    expect(await finalState(id)).toMatchObject({ status: 'delivered' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const received = endpoints.received('17AA');
    expect(received).toHaveLength(2); // the faulted attempt, then one delivery
    expect(received[1]!.messageId).toBe(received[0]!.messageId);
    expect(await replayErrorQueue(operator(), 'test:delivery', { ids: [id] })).toEqual([]);
    const timeline = (await showOutbound(operator(), id))!.attempts.map((a) => a.outcome);
    expect(timeline).toEqual(['failed', 'delivered']);
  });

  test('purge takes messages out of the error queue for good', async () => {
    endpoints.script('18AA', 'client-fault');
    const id = await feedbackFor('18AA');
    await finalState(id);
    expect(await purgeErrorQueue(operator(), 'test:delivery', { institutionOin: '0000000700018AA00000' })).toEqual([
      id,
    ]);
    expect((await showOutbound(operator(), id))?.message.status).toBe('purged');
    expect(await replayErrorQueue(operator(), 'test:delivery', { ids: [id] })).toEqual([]);
  });

  test('a paused institution gets nothing and uses no attempts; resume delivers what waited', async () => {
    await upsertInstitution(broker().pool, {
      oin: '0000000700019AA00000',
      name: '19AA',
      brins: ['19AA'],
      endpointUrl: endpoints.url('19AA'),
      enabled: true,
    });
    expect(await pauseInstitution(operator(), 'test:delivery', '0000000700019AA00000')).toBe(true);
    const id = await feedbackFor('19AA', endpoints.url('19AA'), { keepPaused: true, keepFundingStatus: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await showOutbound(operator(), id))?.message).toMatchObject({ status: 'pending', attempts: 0 });
    expect(endpoints.received('19AA')).toHaveLength(0);
    expect(await resumeInstitution(operator(), 'test:delivery', '0000000700019AA00000')).toBe(2); // the terugkoppeling and the stand's funding status waited
    expect(await finalState(id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  test('retry waits come from the configured list with ±10 % jitter, the last value repeating', () => {
    expect(retryDelay([1000, 5000], 1, () => 0.5)).toBe(1000);
    expect(retryDelay([1000, 5000], 2, () => 0)).toBe(4500);
    expect(retryDelay([1000, 5000], 3, () => 1)).toBe(5500);
  });
});
