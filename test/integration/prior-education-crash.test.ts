/**
 * A pipeline process killed with SIGKILL while it processes changes for subscribed pupils and delivers
 * their prior education: every change still pushes to the subscribed institution exactly once (one
 * outbound message per cause), and a redelivery carries the same MessageID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { PIPELINE_READY_LINE } from '../../src/pipeline.js';
import { isValidBsn } from '../../src/register/pgn.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { databaseUrlOf, oinOf, registerSchool } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { ANONYMOUS, bodyFixture, lasRequest, send } from '../support/soap.js';

const PUPILS = 30;
const MBO = '41MB';
/** The school that enrols the students: DUO pushes changes while an enrolment is present. */
const VO = '31AA';

const bsns = (() => {
  const found: string[] = [];
  for (let n = 500_000_000; found.length < PUPILS; n++) if (isValidBsn(String(n))) found.push(String(n));
  return found;
})();

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
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${output.slice(-1000)}`)));
  });
}

describe('prior education under a killed pipeline process', () => {
  const broker = useTestBroker({ env: { SEED_DEMO: 'false' } });
  let endpoints: TestEndpoints;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  const count = async (sql: string): Promise<number> => (await broker().pool.query(sql)).rows[0].n;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    await registerSchool(broker(), endpoints, MBO);
    await registerSchool(broker(), endpoints, VO);
    for (const bsn of bsns) {
      await upsertPopulationRecord(broker().pool, {
        bsn,
        birthDate: '2009-04-17',
        gender: '1',
        surname: 'Student',
        prefixes: null,
        firstNames: null,
        address: {
          binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '1', postcode: '9712AB', plaatsnaam: 'Groningen' },
        },
        dateOfDeath: null,
      });
    }
    env = {
      ...process.env,
      DATABASE_URL: databaseUrlOf(broker()),
      REDIS_URL: process.env.TEST_REDIS_URL,
      // Production profile (a named database): the test's endpoints are on loopback, which deliveries re-check.
      ALLOW_LOOPBACK_ENDPOINTS: 'true',
      QUEUE_PREFIX: broker().config.queuePrefix,
      JOB_LOCK_MS: '1000',
      SWEEP_INTERVAL_MS: '300',
      SWEEP_GRACE_MS: '500',
      DELIVERY_TIMEOUT_MS: '2000',
      DELIVERY_BACKOFF_MS: '100',
      LOG_LEVEL: 'error',
      PROCESSING_CONCURRENCY: '4',
    };
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await endpoints.close();
  });

  test('SIGKILL while changes push to subscribers: each change pushes once, redeliveries keep their MessageID', async () => {
    children.push(await startWorker(env));
    const mbo = { from: `${ANONYMOUS}?oin=${oinOf(MBO)}` };
    // Each student is enrolled at a VO school and identified by the MBO institution before it asks.
    await Promise.all(
      bsns.flatMap((bsn) => [
        send(
          broker().baseUrl,
          lasRequest(
            'aanleverenInschrijvingVO',
            bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, VO).replace('123456782', bsn),
            { from: `${ANONYMOUS}?oin=${oinOf(VO)}` },
          ),
        ),
        send(
          broker().baseUrl,
          lasRequest(
            'aanleverenIdentificerenPersoonVO',
            bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml')
              .replace(/25BE/g, MBO)
              .replace('123456782', bsn)
              .replace('<idp:geboorteDatum>2013-04-17<', '<idp:geboorteDatum>2009-04-17<')
              .replace('<idp:geslacht>2<', '<idp:geslacht>1<'),
            mbo,
          ),
        ),
      ]),
    );
    expect(
      await waitFor(
        () => count("SELECT count(*)::int AS n FROM processing_results WHERE outcome IN ('approved', 'identified')"),
        (n) => n === 2 * PUPILS,
        30_000,
      ),
    ).toBe(2 * PUPILS);
    // ... and what they caused delivered, so the hanging deliveries below are the prior education's.
    await waitFor(
      () => count("SELECT count(*)::int AS n FROM outbound_messages WHERE status <> 'delivered'"),
      (n) => n === 0,
      30_000,
    );
    await Promise.all(
      bsns.map((bsn) =>
        send(
          broker().baseUrl,
          lasRequest(
            'aanvragenVooropleidingen',
            bodyFixture('valid/aanvragenVooropleidingen.xml').replace(/25BE/g, MBO).replace('123456782', bsn),
            mbo,
          ),
        ),
      ),
    );
    // Every subscription is in place before the changes come.
    expect(
      await waitFor(
        () => count('SELECT count(*)::int AS n FROM prior_education_subscriptions WHERE ended_at IS NULL'),
        (n) => n === PUPILS,
        20_000,
      ),
    ).toBe(PUPILS);

    // Slow deliveries, so some pushes are in flight when the process dies.
    endpoints.script(MBO, ...Array.from({ length: 8 }, () => 'hang' as const));
    await Promise.all(
      bsns.map((bsn) =>
        send(
          broker().baseUrl,
          lasRequest(
            'verwerkenPersoonsmutatie',
            bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml').replace('123456782', bsn),
          ),
        ),
      ),
    );
    await waitFor(
      () => count("SELECT count(*)::int AS n FROM outbound_messages WHERE operation = 'leverenVooropleidingsgegevens'"),
      (n) => n >= PUPILS + 3,
      10_000,
    );
    const deliveredBeforeKill = await count(
      "SELECT count(*)::int AS n FROM outbound_messages WHERE operation = 'leverenVooropleidingsgegevens' AND status = 'delivered'",
    );
    children[0]!.kill('SIGKILL');
    expect(deliveredBeforeKill).toBeLessThan(2 * PUPILS); // it died mid-way
    children.push(await startWorker(env));

    const delivered = await waitFor(
      () =>
        count(
          "SELECT count(*)::int AS n FROM outbound_messages WHERE operation = 'leverenVooropleidingsgegevens' AND status = 'delivered'",
        ),
      (n) => n === 2 * PUPILS,
      60_000,
    );
    expect(delivered).toBe(2 * PUPILS); // one answer per request, one push per address change
    const doubled = (
      await broker().pool.query(
        // A mutation tells the enrolling school and the subscriber: one message each.
        'SELECT cause_message_id, operation, institution_oin, count(*)::int AS n FROM outbound_messages GROUP BY 1, 2, 3 HAVING count(*) > 1',
      )
    ).rows;
    expect(doubled).toEqual([]);
    // The enrolments, the requests and the address changes.
    expect(await count("SELECT count(*)::int AS n FROM processing_results WHERE outcome = 'approved'")).toBe(
      3 * PUPILS,
    );
    expect(await count('SELECT count(*)::int AS n FROM prior_education_subscriptions')).toBe(PUPILS);
    // The institution may have seen a push twice (at-least-once), always with the same MessageID.
    const stored = (
      await broker().pool.query(
        "SELECT wsa_message_id FROM outbound_messages WHERE operation = 'leverenVooropleidingsgegevens'",
      )
    ).rows.map((r) => `urn:uuid:${r.wsa_message_id}`);
    const ids = new Set(
      endpoints
        .received(MBO)
        .filter((r) => r.xml.includes('leverenVooropleidingsgegevens_Request'))
        .map((r) => r.messageId),
    );
    expect([...ids].every((id) => stored.includes(id))).toBe(true);
    expect(ids.size).toBe(2 * PUPILS);
  }, 120_000);
});
