/**
 * Direct delivery: the first attempt straight after processing, without a delivery job; retries and
 * error-queue mirrors as jobs (real HTTP endpoints, Redis, PostgreSQL).
 */
import type { Queue } from 'bullmq';
import { silentLogger } from '../../src/log.js';
import { replayErrors, resumeInstitution, pauseInstitution } from '../../src/operator/error-queue.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { type DeliveryJobData, deliveryJobs, retryJob } from '../../src/queue/delivery-queue.js';
import { DirectDelivery } from '../../src/queue/direct-delivery.js';
import { type OutboundForDelivery, recordAttempts } from '../../src/store/outbound.repo.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { type DeliveryRig, TEST_BROKER_OIN as BROKER_OIN, startDeliveryRig } from '../support/delivery-rig.js';
import type { TestEndpoints } from '../support/institution-endpoint.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { useTestBroker, waitFor } from '../support/broker.js';

const TIMEOUT_MS = 300;
const RETRIES = 3;
const oinOf = (brin: string): string => `00000007000${brin}00000`;

describe('direct delivery', () => {
  const broker = useTestBroker();
  let rig: DeliveryRig;
  let endpoints: TestEndpoints;
  let queue: Queue<DeliveryJobData>;
  let direct: DirectDelivery;
  /** Lets a message wait for its institution's slot longer than an attempt can take. */
  let patient: DirectDelivery;
  const delivered: number[] = [];
  const patientDelivered: number[] = [];
  let enrolments = 0;

  beforeAll(async () => {
    rig = await startDeliveryRig(broker(), { timeoutMs: TIMEOUT_MS, retries: RETRIES, perInstitution: 1 });
    const { attempts, enqueuer } = rig;
    ({ endpoints, queue } = rig);
    // A message waits for a busy slot 100 ms here, less than a hung attempt's timeout (300 ms).
    direct = new DirectDelivery({
      attempts, queue, enqueue: (ids) => enqueuer.enqueue(...ids), retries: RETRIES, backoffMs: [50, 50, 50], maxActive: 8, maxWaitMs: 100, log: silentLogger(),
      onDelivered: (seconds) => delivered.push(seconds),
    });
    patient = new DirectDelivery({
      attempts, queue, enqueue: (ids) => enqueuer.enqueue(...ids), retries: RETRIES, backoffMs: [50, 50, 50], maxActive: 8, maxWaitMs: 5000, log: silentLogger(),
      onDelivered: () => patientDelivered.push(Date.now()),
    });
  });
  afterAll(async () => {
    await direct.drain();
    await patient.drain();
    await rig.close();
  });

  /** An enrolment from a school of its own, processed; returns its terugkoppeling as processing hands it on. */
  async function processedFeedback(brin: string, options: { paused?: boolean } = {}): Promise<OutboundForDelivery> {
    await upsertInstitution(broker().pool, { oin: oinOf(brin), name: brin, brins: [brin], endpointUrl: endpoints.url(brin), enabled: true });
    if (options.paused) await pauseInstitution({ pool: broker().pool }, oinOf(brin));
    await broker().registry.refresh();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, brin).replace(/2026-0001/g, `D-${(enrolments += 1)}`);
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, { from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}` }));
    const { id } = (await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [elementText(body, 'identificatiecodeBedrijfsdocument')])).rows[0];
    const { outbound } = await processMessage(broker().pool, createHandlers(), id, { brokerOin: BROKER_OIN });
    const feedback = outbound.filter((o) => o.operation === 'terugkoppelenInschrijvingVO');
    expect(feedback).toHaveLength(1);
    return feedback[0]!;
  }

  const finalState = (id: number) => waitFor(
    async () => (await broker().pool.query('SELECT status, attempts, last_error FROM outbound_messages WHERE id = $1', [id])).rows[0],
    (row) => row.status !== 'pending', 10_000);
  /** Runs `body` while the test holds these outbound rows, so recording an attempt at them waits. */
  async function whileRowsHeld(ids: number[], body: () => Promise<void>): Promise<void> {
    const holder = await broker().pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM outbound_messages WHERE id = ANY($1::bigint[]) FOR UPDATE', [ids]);
      await body();
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
  }
  const outcomes = async (id: number) => (await broker().pool.query('SELECT outcome FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt', [id])).rows.map((r) => r.outcome);

  test('processing hands on what it queued, ready to send: the row as stored, with its endpoint', async () => {
    const message = await processedFeedback('51AA');
    const stored = (await broker().pool.query('SELECT wsa_message_id, body_xml, status FROM outbound_messages WHERE id = $1', [message.id])).rows[0];
    expect(message).toMatchObject({ wsaMessageId: stored.wsa_message_id, bodyXml: stored.body_xml, status: 'pending', attempts: 0, institutionOin: oinOf('51AA'), endpointUrl: endpoints.url('51AA'), paused: false });
  });

  test('the first attempt needs no delivery job: delivered once, recorded, and its latency observed', async () => {
    const message = await processedFeedback('52AA');
    const before = delivered.length;
    direct.offer([message]);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(endpoints.received('52AA').map((r) => r.messageId)).toEqual([`urn:uuid:${message.wsaMessageId}`]);
    expect(await outcomes(message.id)).toEqual(['delivered']);
    expect(await queue.getJob(`out-${message.id}`)).toBeUndefined();
    expect(delivered.length).toBe(before + 1);
  });

  test('a failed first attempt continues as a job: 1 + 3 attempts in all, one MessageID, then the failed set', async () => {
    endpoints.always('53AA', 'server-error');
    const message = await processedFeedback('53AA');
    direct.offer([message]);
    const state = await finalState(message.id);
    endpoints.always('53AA', undefined);
    expect(state).toMatchObject({ status: 'error', attempts: 4, last_error: 'HTTP 503' });
    expect(await outcomes(message.id)).toEqual(['retry', 'retry', 'retry', 'retry']);
    expect(new Set(endpoints.received('53AA').map((r) => r.messageId)).size).toBe(1);
    const job = await waitFor(() => queue.getJob(`out-${message.id}`), (found) => found?.finishedOn !== undefined, 5_000);
    expect(await job!.getState()).toBe('failed');
    expect(job!.failedReason).toBe('HTTP 503');
  });

  test('503 on the direct attempt, then delivered by the retry job', async () => {
    endpoints.script('54AA', 'server-error');
    const message = await processedFeedback('54AA');
    direct.offer([message]);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await outcomes(message.id)).toEqual(['retry', 'delivered']);
  });

  test('a Client fault on the direct attempt: error queue after 1 attempt, mirrored in the failed set; replay delivers once', async () => {
    endpoints.script('55AA', 'client-fault');
    const message = await processedFeedback('55AA');
    direct.offer([message]);
    expect(await finalState(message.id)).toMatchObject({ status: 'error', attempts: 1, last_error: 'SOAP fault Client.DK0004' });
    const job = await waitFor(() => queue.getJob(`out-${message.id}`), (found) => found?.finishedOn !== undefined, 5_000);
    expect(await job!.getState()).toBe('failed');
    expect(job!.failedReason).toBe('SOAP fault Client.DK0004');
    expect(endpoints.received('55AA')).toHaveLength(1);

    const operator = { pool: broker().pool, deliveryQueue: queue, deliveryJobs: deliveryJobs(RETRIES) };
    expect(await replayErrors(operator, { ids: [message.id] })).toEqual([message.id]);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(endpoints.received('55AA')).toHaveLength(2);
  });

  test('a paused institution gets no direct attempt; resume delivers what waited', async () => {
    const message = await processedFeedback('56AA', { paused: true });
    expect(message.paused).toBe(true);
    direct.offer([message]);
    await direct.drain();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(endpoints.received('56AA')).toHaveLength(0);
    expect((await broker().pool.query('SELECT status, attempts FROM outbound_messages WHERE id = $1', [message.id])).rows[0]).toEqual({ status: 'pending', attempts: 0 });
    const operator = { pool: broker().pool, deliveryQueue: queue, deliveryJobs: deliveryJobs(RETRIES) };
    expect(await resumeInstitution(operator, oinOf('56AA'))).toBe(2);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  test("a message that waited too long for a hung institution's slot gets a job; the others' messages go direct", async () => {
    endpoints.script('57AA', 'hang');
    const hung = await processedFeedback('57AA');
    const waiting = { ...hung, id: (await processedFeedback('57AA')).id };
    const other = await processedFeedback('58AA');
    direct.offer([hung, waiting, other]); // perInstitution is 1: the hung attempt holds 57AA's only slot
    expect(await finalState(other.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await queue.getJob(`out-${other.id}`)).toBeUndefined();
    // After 100 ms of waiting, the queued path takes it.
    expect(await waitFor(() => queue.getJob(`out-${waiting.id}`), (job) => job !== undefined, 2000)).toBeDefined();
    expect(await finalState(waiting.id)).toMatchObject({ status: 'delivered' });
    expect(await finalState(hung.id)).toMatchObject({ status: 'delivered', attempts: 2 }); // timed out, then retried
  });

  test("a message whose institution's slot is busy waits in memory and goes direct when the slot frees: no job", async () => {
    endpoints.script('60AA', 'hang');
    const hung = await processedFeedback('60AA');
    const waiting = await processedFeedback('60AA');
    const offeredAt = Date.now();
    patient.offer([hung, waiting]);
    const [waited, first] = await Promise.all([finalState(waiting.id), finalState(hung.id)]);
    expect(waited).toMatchObject({ status: 'delivered', attempts: 1 });
    // Delivered by the direct path (only it reports here), not by a job.
    expect(patientDelivered).toHaveLength(1);
    expect(await queue.getJob(`out-${waiting.id}`)).toBeUndefined();
    // It started when the hung attempt's timeout freed the slot, not before.
    const started = (await broker().pool.query('SELECT started_at FROM delivery_attempts WHERE outbound_id = $1', [waiting.id])).rows[0].started_at as Date;
    expect(started.getTime() - offeredAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(first).toMatchObject({ status: 'delivered', attempts: 2 }); // timed out, then its retry job
    expect(await outcomes(hung.id)).toEqual(['retry', 'delivered']);
  });

  test("an institution's slot frees when its answer is in, before the attempt's record is written", async () => {
    const first = await processedFeedback('61AA');
    const second = await processedFeedback('61AA');
    // The test holds the first message's row, so recording its attempt waits; its HTTP exchange does not.
    await whileRowsHeld([first.id], async () => {
      patient.offer([first, second]); // perInstitution is 1
      const received = await waitFor(async () => endpoints.received('61AA'), (r) => r.length === 2, 3000);
      expect(received.map((r) => r.messageId)).toEqual([`urn:uuid:${first.wsaMessageId}`, `urn:uuid:${second.wsaMessageId}`]);
      expect((await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [first.id])).rows[0].status).toBe('pending');
    });
    expect(await finalState(first.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await finalState(second.id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  test('attempts answered but not yet recorded count too: at most twice DELIVERY_CONCURRENCY under way', async () => {
    // One HTTP exchange at a time, so at most two attempts under way; the test holds the first two records.
    const narrow = new DirectDelivery({
      attempts: rig.attempts, queue, enqueue: (ids) => rig.enqueuer.enqueue(...ids), retries: RETRIES, backoffMs: [50, 50, 50], maxActive: 1, maxWaitMs: 5000, log: silentLogger(),
    });
    const [a, b, c] = [await processedFeedback('62AA'), await processedFeedback('63AA'), await processedFeedback('64AA')];
    await whileRowsHeld([a.id, b.id], async () => {
      narrow.offer([a, b, c]);
      await waitFor(async () => endpoints.received('63AA').length, (n) => n === 1, 3000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([endpoints.received('62AA').length, endpoints.received('63AA').length, endpoints.received('64AA').length]).toEqual([1, 1, 0]);
    });
    expect(await finalState(c.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    await narrow.drain();
  });

  test('two attempts at one message recorded in one batch get their own numbers', async () => {
    const message = await processedFeedback('59AA');
    const attempt = { outboundId: message.id, startedAt: new Date(), endpoint: endpoints.url('59AA'), latencyMs: 5, outcome: 'retry' as const, error: 'HTTP 503', status: 'pending' as const };
    await recordAttempts(broker().pool, [attempt, attempt]);
    expect((await broker().pool.query('SELECT attempts FROM outbound_messages WHERE id = $1', [message.id])).rows[0].attempts).toBe(2);
    expect((await broker().pool.query('SELECT attempt FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt', [message.id])).rows.map((r) => r.attempt)).toEqual([1, 2]);
  });

  test('a retry job counts the attempt made before it: remaining attempts, backoff from then, timestamp kept', () => {
    const job = retryJob(7, 3, 1, [1000, 5000], 10_000, 10_250);
    expect(job.data).toEqual({ outboundId: 7, attemptsBefore: 1 });
    expect(job.opts).toMatchObject({ jobId: 'out-7', attempts: 3, timestamp: 10_000 });
    expect(job.opts.delay).toBeGreaterThanOrEqual(250 + 900);
    expect(job.opts.delay).toBeLessThanOrEqual(250 + 1100);
  });
});
