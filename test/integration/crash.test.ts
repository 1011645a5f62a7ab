/**
 * A worker process killed with SIGKILL while it processes and delivers: every message still ends
 * processed once and delivered, nothing twice in the register, the same MessageID on any redelivery.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { PIPELINE_READY_LINE } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { bodyFixture, lasRequest, send } from '../support/soap.js';

const MESSAGES = 60;

function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'main.js')], {
    env: { ...env, ROLE: 'pipeline' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(PIPELINE_READY_LINE)) resolve(child);
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    if (process.env.CRASH_LOG_LEVEL) child.stdout!.pipe(process.stderr);
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${output.slice(-1000)}`)));
  });
}

describe('crash safety', () => {
  // 60 messages at once from one sender: more than its default 32 in flight (then Server.BB0006), raised here.
  const broker = useTestBroker({ env: { SEED_DEMO: 'false', MAX_IN_FLIGHT_PER_SENDER: '64' } });
  let endpoints: TestEndpoints;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    await seedDemoPopulation(broker().pool);
    await upsertInstitution(broker().pool, {
      oin: '0000000700025BE00000',
      name: 'A',
      brins: ['25BE'],
      endpointUrl: endpoints.url('25BE'),
      enabled: true,
    });
    await broker().registry.refresh();
    const databaseUrl = (broker().pool as unknown as { options: { connectionString: string } }).options
      .connectionString;
    env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL,
      // Production profile (a named database): the test's endpoints are on loopback, which deliveries re-check.
      ALLOW_LOOPBACK_ENDPOINTS: 'true',
      QUEUE_PREFIX: broker().config.queuePrefix,
      JOB_LOCK_MS: '1000',
      SWEEP_INTERVAL_MS: '300',
      SWEEP_GRACE_MS: '500',
      DELIVERY_TIMEOUT_MS: '2000',
      DELIVERY_BACKOFF_MS: '100',
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'error',
      PROCESSING_CONCURRENCY: '4',
    };
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await endpoints.close();
  });

  test('SIGKILL during processing and delivery loses nothing and doubles nothing', async () => {
    // Slow deliveries so some are in flight when the worker dies.
    endpoints.script('25BE', ...Array.from({ length: 10 }, () => 'hang' as const));
    children.push(await startWorker(env));
    const bodies = Array.from({ length: MESSAGES }, (_, i) =>
      bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, `K-${i}`),
    );
    const answers = await Promise.all(
      bodies.map((body) => send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body))),
    );
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200));
    await waitFor(
      async () => (await broker().pool.query('SELECT count(*)::int AS n FROM outbound_messages')).rows[0].n,
      (n) => n >= 5,
      10_000,
    );
    children[0]!.kill('SIGKILL');

    children.push(await startWorker(env));
    const done = await waitFor(
      async () =>
        (await broker().pool.query("SELECT count(*)::int AS n FROM outbound_messages WHERE status = 'delivered'"))
          .rows[0].n,
      (n) => n === 2 * MESSAGES,
      45_000,
    );
    expect(done).toBe(2 * MESSAGES); // per stand a terugkoppeling and a funding status

    const register = (
      await broker().pool.query(
        "SELECT count(*)::int AS n, count(DISTINCT inschrijvingvolgnummer)::int AS d FROM enrolments WHERE inschrijvingvolgnummer LIKE 'K-%'",
      )
    ).rows[0];
    expect(register).toEqual({ n: MESSAGES, d: MESSAGES });
    const perMessage = (
      await broker().pool.query(
        'SELECT cause_message_id, operation, count(*)::int AS n FROM outbound_messages GROUP BY 1, 2 HAVING count(*) > 1',
      )
    ).rows;
    expect(perMessage).toEqual([]); // one of each per message, never two
    const processed = (
      await broker().pool.query("SELECT count(*)::int AS n FROM processing_results WHERE outcome = 'approved'")
    ).rows[0].n;
    expect(processed).toBe(MESSAGES);
    // The school may have seen a message twice (at-least-once), but always with the same MessageID.
    const received = endpoints.received('25BE');
    const ids = new Set(received.map((r) => r.messageId));
    const stored = (await broker().pool.query('SELECT wsa_message_id FROM outbound_messages')).rows.map(
      (r) => `urn:uuid:${r.wsa_message_id}`,
    );
    expect([...ids].every((id) => stored.includes(id))).toBe(true);
    expect(ids.size).toBe(2 * MESSAGES);
  }, 90_000);
});
