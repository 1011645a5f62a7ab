/**
 * The one delivery path (real HTTP endpoints and PostgreSQL): the first attempt straight from what
 * processing queued, leases that hold across processes, a dead process's lease, and failures of our
 * own that use up no attempt.
 */
import { Writable } from 'node:stream';
import type { Deliverer } from '../../src/delivery/deliverer.js';
import { DataKeys } from '../../src/infra/data-keys.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { createLogger } from '../../src/infra/log.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { isValidBsn } from '../../src/register/pgn.js';
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
  /**
   * Takes the first attempts the processing writes lease. It has no poller: a poll holds the room it may
   * use while its claim runs, and a commit that found none would lease nothing.
   */
  let leaser: Deliverer;
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
    leaser = rig.startDeliverer({ owner: 'leaser', poll: false });
  });
  afterAll(async () => {
    await rig.close();
  });

  /** Registers a school of its own at the test's endpoint and has an enrolment of it accepted; returns its inbound id. */
  async function acceptedEnrolment(brin: string, options: { paused: boolean; bsn?: string }): Promise<number> {
    await upsertInstitution(broker().pool, {
      oin: oinOf(brin),
      name: brin,
      brins: [brin],
      endpointUrl: rig.endpoints.url(brin),
      enabled: true,
    });
    await setInstitutionPaused(broker().pool, oinOf(brin), options.paused);
    await broker().registry.refresh();
    const fixture = bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, brin)
      .replace(/2026-0001/g, `D-${++enrolments}`);
    const body = options.bsn ? fixture.replace(/123456782/g, options.bsn) : fixture;
    await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, {
        from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}`,
      }),
    );
    return (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0].id;
  }

  /** An enrolment from a school of its own, processed; returns what it queued (its funding status taken out of delivery). */
  async function processedFeedback(brin: string): Promise<OutboundForDelivery> {
    // Held until the pushes are taken out: on a slow machine a poller would otherwise deliver them first.
    const id = await acceptedEnrolment(brin, { paused: true });
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

  /** The reservations and releases a processing write made through a deliverer's first-attempt hook. */
  interface LeaseLedger {
    readonly reserved: number[];
    readonly released: number[];
  }

  /** An enrolment of a school of its own, processed with its first attempts leased to `leaser` in the write. */
  async function processedWithFirstLeases(
    brin: string,
    options: { paused?: boolean; pool?: Pool; beforeProcessing?: (messageId: number) => Promise<void> } = {},
  ): Promise<{ outbound: readonly OutboundForDelivery[]; ledger: LeaseLedger }> {
    // A pupil of its own: no other school's enrolment of the same pupil, so no pushes to other schools.
    do pupil += 1;
    while (!isValidBsn(String(pupil)));
    await broker().pool.query(
      "INSERT INTO population_register (bsn, birth_date, gender, surname) VALUES ($1, '2013-04-17', '2', 'Leerling')",
      [String(pupil)],
    );
    const id = await acceptedEnrolment(brin, { paused: options.paused ?? false, bsn: String(pupil) });
    await options.beforeProcessing?.(id);
    const hook = leaser.firstAttemptLeases();
    const ledger: LeaseLedger = { reserved: [], released: [] };
    const firstLeases = {
      terms: hook.terms,
      reserve: (wanted: number) => {
        const got = hook.reserve(wanted);
        ledger.reserved.push(got);
        return got;
      },
      release: (count: number) => {
        ledger.released.push(count);
        hook.release(count);
      },
    };
    const processed = processMessage(options.pool ?? broker().pool, createHandlers(), id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
      firstLeases,
    });
    const { outbound } = await processed.catch(() => ({ outbound: [] }));
    return { outbound, ledger };
  }
  let pupil = 300_000_000;
  const leasesOf = async (ids: readonly number[]) =>
    (
      await broker().pool.query(
        'SELECT outbound_id, owner FROM delivery_leases WHERE outbound_id = ANY($1) ORDER BY 1',
        [ids],
      )
    ).rows.map((r) => [Number(r.outbound_id), r.owner]);
  const delivery = 'delivery:';

  test('a processing transaction leases the first attempts it queues with its commit: no claim after it', async () => {
    const { outbound, ledger } = await processedWithFirstLeases('68AA');
    const ids = outbound.map((o) => o.id).sort((a, b) => a - b);
    expect(outbound).toHaveLength(2); // the terugkoppeling and the funding status
    expect(outbound.every((o) => o.leasedAtQueue)).toBe(true);
    expect(await leasesOf(ids)).toEqual(ids.map((id) => [id, 'leaser']));
    expect(ledger).toEqual({ reserved: [2], released: [] });
    // Leased already: a claim would be refused until the leases expire (TIMEOUT_MS + 2 s), so only their own offer attempts them now.
    const started = Date.now();
    leaser.offer(outbound);
    for (const id of ids) expect(await finalState(id, 3000)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(rig.endpoints.received('68AA')).toHaveLength(2);
    expect(await leasesOf(ids)).toEqual([]);
  });

  test("the commit leases no more than the institution's room across processes, and gives the rest back", async () => {
    // Another process holds one of 68BB's two leases.
    await broker().pool.query(
      "INSERT INTO delivery_leases (outbound_id, institution_oin, owner, leased_until) VALUES (-68, $1, 'second-process', now() + interval '1 minute')",
      [oinOf('68BB')],
    );
    try {
      const { outbound, ledger } = await processedWithFirstLeases('68BB');
      expect(outbound.filter((o) => o.leasedAtQueue)).toHaveLength(1);
      expect(ledger).toEqual({ reserved: [2], released: [1] });
      leaser.offer(outbound);
      const leased = outbound.find((o) => o.leasedAtQueue)!;
      expect(await finalState(leased.id, 3000)).toMatchObject({ status: 'delivered', attempts: 1 });
      // The other is offered as before and leased when the first attempt has freed the room.
      const other = outbound.find((o) => !o.leasedAtQueue)!;
      expect(await finalState(other.id, 3000)).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      await broker().pool.query('DELETE FROM delivery_leases WHERE outbound_id = -68');
    }
  });

  test("a paused institution's messages are not leased with the commit, and no room is taken", async () => {
    const { outbound, ledger } = await processedWithFirstLeases('69AA', { paused: true });
    expect(outbound).toHaveLength(2);
    expect(outbound.some((o) => o.leasedAtQueue)).toBe(false);
    expect(await leasesOf(outbound.map((o) => o.id))).toEqual([]);
    expect(ledger).toEqual({ reserved: [], released: [] });
    await broker().pool.query("UPDATE outbound_messages SET status = 'purged' WHERE id = ANY($1)", [
      outbound.map((o) => o.id),
    ]);
    await setInstitutionPaused(broker().pool, oinOf('69AA'), false);
  });

  test('a lease that cannot be had at the commit rolls the batch back and gives back the room it reserved', async () => {
    const impatient = createPool(databaseUrlOf(broker()), 2, {
      dataKeys: DataKeys.parse(TEST_SECRETS.DATA_KEYS),
      statementTimeoutMs: 300,
    });
    const holder = await broker().pool.connect();
    let messageId = 0;
    try {
      // 60AA's delivery lock is held elsewhere: the claim waits past its statement timeout, and the COMMIT never runs.
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1 || $2, 0))', [delivery, oinOf('60AA')]);
      const { outbound, ledger } = await processedWithFirstLeases('60AA', {
        pool: impatient,
        beforeProcessing: async (id) => {
          messageId = id;
        },
      });
      expect(outbound).toEqual([]);
      expect(ledger).toEqual({ reserved: [2], released: [2] });
      const queued = await broker().pool.query(
        'SELECT count(*)::int AS n FROM outbound_messages o JOIN processing_outbox p ON p.message_id = o.cause_message_id WHERE o.cause_message_id = $1',
        [messageId],
      );
      expect(queued.rows[0].n).toBe(0); // nothing it queued was kept
      const waiting = await broker().pool.query(
        'SELECT count(*)::int AS n FROM processing_outbox WHERE message_id = $1',
        [messageId],
      );
      expect(waiting.rows[0].n).toBe(1); // the message waits to be processed again
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
      await impatient.end();
    }
  });

  test('a write that fails reserves nothing and leases nothing', async () => {
    const impatient = createPool(databaseUrlOf(broker()), 2, {
      dataKeys: DataKeys.parse(TEST_SECRETS.DATA_KEYS),
      statementTimeoutMs: 300,
    });
    const holder = await broker().pool.connect();
    try {
      // Another transaction's uncommitted outcome for the same message: the write waits past its timeout and the batch rolls back.
      const { outbound, ledger } = await processedWithFirstLeases('60BB', {
        pool: impatient,
        beforeProcessing: async (messageId) => {
          await holder.query('BEGIN');
          await holder.query("INSERT INTO processing_results (message_id, outcome) VALUES ($1, 'approved')", [
            messageId,
          ]);
        },
      });
      expect(outbound).toEqual([]);
      expect(ledger).toEqual({ reserved: [], released: [] });
      const leases = await broker().pool.query(
        'SELECT count(*)::int AS n FROM delivery_leases WHERE institution_oin = $1',
        [oinOf('60BB')],
      );
      expect(leases.rows[0].n).toBe(0);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await impatient.end();
    }
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
