/**
 * The one delivery path (real HTTP endpoints and PostgreSQL): the first attempt straight from what
 * processing queued, leases that hold across processes, a dead process's lease, and failures of our
 * own that use up no attempt.
 */
import { Writable } from 'node:stream';
import { DataKeys } from '../../src/infra/data-keys.js';
import { createPool } from '../../src/infra/database.js';
import { createLogger } from '../../src/infra/log.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { setInstitutionPaused, upsertInstitution } from '../../src/store/institutions.repo.js';
import type { OutboundForDelivery } from '../../src/store/outbound.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { databaseUrlOf } from '../support/console.js';
import { TEST_BROKER_OIN as BROKER_OIN, type DeliveryRig, startDeliveryRig } from '../support/delivery-rig.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const TIMEOUT_MS = 300;
const oinOf = (brin: string): string => `00000007000${brin}00000`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deliverer', () => {
  const broker = useTestBroker();
  let rig: DeliveryRig;
  const delivered: number[] = [];
  let enrolments = 0;

  beforeAll(async () => {
    // Pollers take a new message only a second after it was queued: what a test sees delivered sooner
    // came through the offer it exercises.
    rig = await startDeliveryRig(broker(), {
      timeoutMs: TIMEOUT_MS,
      retries: 3,
      perInstitution: 2,
      handoffMs: 60_000,
      pollMs: 100,
      onDelivered: (s) => delivered.push(s),
    });
  });
  afterAll(async () => {
    await rig.close();
  });

  /** An enrolment from a school of its own, processed; returns what it queued (its funding status taken out of delivery). */
  async function processedFeedback(brin: string): Promise<OutboundForDelivery> {
    await upsertInstitution(broker().pool, {
      oin: oinOf(brin),
      name: brin,
      brins: [brin],
      endpointUrl: rig.endpoints.url(brin),
      enabled: true,
    });
    // Held until the pushes are taken out: on a slow machine a poller would otherwise deliver them first.
    await setInstitutionPaused(broker().pool, oinOf(brin), true);
    await broker().registry.refresh();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, brin)
      .replace(/2026-0001/g, `D-${++enrolments}`);
    await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, {
        from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}`,
      }),
    );
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    const { outbound } = await processMessage(broker().pool, createHandlers(), id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    const feedback = outbound.filter((o) => o.operation === 'terugkoppelenInschrijvingVO');
    expect(feedback).toHaveLength(1);
    await broker().pool.query("UPDATE outbound_messages SET status = 'purged' WHERE id = ANY($1) AND id <> $2", [
      outbound.map((o) => o.id),
      feedback[0]!.id,
    ]);
    await setInstitutionPaused(broker().pool, oinOf(brin), false);
    return { ...feedback[0]!, paused: false }; // as it is now, deliveries resumed
  }
  const state = async (id: number) =>
    (await broker().pool.query('SELECT status, attempts FROM outbound_messages WHERE id = $1', [id])).rows[0];
  const finalState = (id: number, timeoutMs = 10_000) =>
    waitFor(
      () => state(id),
      (row) => row.status !== 'pending',
      timeoutMs,
    );
  const makeDue = (ids: number[]) =>
    broker().pool.query("UPDATE outbound_messages SET next_attempt_at = '-infinity' WHERE id = ANY($1)", [ids]);

  test('an offered message is attempted at once, without a poll or a read back: delivered once, latency observed', async () => {
    const message = await processedFeedback('61AA');
    const before = delivered.length;
    rig.deliverer.offer([message]);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    // Counted from the offer; a poller could only have taken it a second after it was queued.
    expect(delivered[before]).toBeLessThan(1);
    expect(rig.endpoints.received('61AA').map((r) => r.messageId)).toEqual([`urn:uuid:${message.wsaMessageId}`]);
    expect(delivered.length).toBe(before + 1);
    expect((await broker().pool.query('SELECT count(*)::int AS n FROM delivery_leases')).rows[0].n).toBe(0);
  });

  test('the per-institution limit holds across two delivery processes', async () => {
    rig.endpoints.always('62AA', 'hang');
    const messages = await Promise.all([1, 2, 3, 4, 5, 6].map(() => processedFeedback('62AA')));
    const otherPool = createPool(databaseUrlOf(broker()), 4, { dataKeys: DataKeys.parse(TEST_SECRETS.DATA_KEYS) });
    const other = rig.startDeliverer({ owner: 'second-process', pool: otherPool });
    rig.deliverer.offer(messages.slice(0, 3));
    other.offer(messages.slice(3));
    await makeDue(messages.map((m) => m.id));
    let most = 0;
    for (let i = 0; i < 20; i++) {
      const n = (
        await broker().pool.query('SELECT count(*)::int AS n FROM delivery_leases WHERE institution_oin = $1', [
          oinOf('62AA'),
        ])
      ).rows[0].n;
      most = Math.max(most, n);
      await sleep(25);
    }
    expect(most).toBe(2);
    rig.endpoints.always('62AA', undefined);
    for (const message of messages) expect(await finalState(message.id)).toMatchObject({ status: 'delivered' });
    await other.close();
    await otherPool.end();
  });

  test("a hung institution's leases do not hold up another institution's messages", async () => {
    rig.endpoints.always('63AA', 'hang');
    const hung = await Promise.all([1, 2, 3, 4].map(() => processedFeedback('63AA')));
    await makeDue(hung.map((m) => m.id));
    await sleep(150); // the poller has leased the hung institution's two
    const fine = await processedFeedback('64AA');
    await makeDue([fine.id]);
    const started = Date.now();
    expect(await finalState(fine.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    rig.endpoints.always('63AA', undefined);
    for (const message of hung) await finalState(message.id);
  });

  test("a dead process's lease holds the message until it expires; then it is delivered with one attempt", async () => {
    const message = await processedFeedback('65AA');
    await broker().pool.query(
      "INSERT INTO delivery_leases (outbound_id, institution_oin, owner, leased_until) VALUES ($1, $2, 'dead-process', now() + interval '700 milliseconds')",
      [message.id, oinOf('65AA')],
    );
    await makeDue([message.id]);
    await sleep(400);
    expect(await state(message.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(rig.endpoints.received('65AA')).toHaveLength(0);
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  test('a database failure while recording uses up no attempt: the message is attempted again and delivered', async () => {
    const message = await processedFeedback('66AA');
    // A process whose statements time out quickly, and whose lease expires quickly.
    const fragilePool = createPool(databaseUrlOf(broker()), 4, {
      statementTimeoutMs: 200,
      dataKeys: DataKeys.parse(TEST_SECRETS.DATA_KEYS),
    });
    const warnings: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(chunk.toString());
        done();
      },
    });
    const fragile = rig.startDeliverer({
      owner: 'fragile',
      pool: fragilePool,
      log: createLogger('warn', capture),
      lease: { owner: 'fragile', perInstitution: 2, leaseMs: 600, handoffMs: 1000 },
    });
    // Not due for pollers: only the offer to the fragile process attempts it first.
    await broker().pool.query(
      "UPDATE outbound_messages SET next_attempt_at = now() + interval '1 hour' WHERE id = $1",
      [message.id],
    );
    const holder = await broker().pool.connect();
    try {
      // The row is locked while the attempt is recorded: the record times out (our failure, not the school's).
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM outbound_messages WHERE id = $1 FOR UPDATE', [message.id]);
      fragile.offer([message]);
      await waitFor(
        async () => rig.endpoints.received('66AA').length,
        (n) => n >= 1,
        5000,
      );
      // Held until the record has failed (its statement timed out on the lock).
      await waitFor(
        async () => warnings.join(''),
        (text) => text.includes('delivery attempt not recorded'),
        5000,
      );
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    expect(await state(message.id)).toMatchObject({ status: 'pending', attempts: 0 });
    await makeDue([message.id]); // its lease has expired: any poller may take it now
    expect(await finalState(message.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    const received = rig.endpoints.received('66AA');
    expect(received.length).toBe(2); // at least once: the same MessageID again
    expect(new Set(received.map((r) => r.messageId)).size).toBe(1);
    await fragile.close();
    await fragilePool.end();
  });

  test('a process that cannot open a leased message (no data key) gives its lease back at once', async () => {
    const message = await processedFeedback('67AA');
    const keylessPool = createPool(databaseUrlOf(broker()), 2); // a process started without DATA_KEYS
    const warnings: string[] = [];
    const keyless = rig.startDeliverer({
      owner: 'keyless',
      pool: keylessPool,
      log: createLogger(
        'warn',
        new Writable({ write: (chunk: Buffer, _e, done) => done(void warnings.push(String(chunk))) }),
      ),
      lease: { owner: 'keyless', perInstitution: 2, leaseMs: 60_000, handoffMs: 1000 },
      pollMs: 20,
    });
    try {
      await rig.deliverer.close(); // only the keyless process polls while the message becomes due (the last test)
      await makeDue([message.id]);
      await waitFor(
        async () => warnings.join(''),
        (text) => text.includes('delivery poll failed'),
        5000,
      );
    } finally {
      await keyless.close();
      await keylessPool.end();
      rig.startDeliverer(); // a process with the key, polling as the closed one did
    }
    // Its 60 s lease was given back: a process with the key delivers it now.
    expect(await finalState(message.id, 5000)).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
