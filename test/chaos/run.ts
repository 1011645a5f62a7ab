/**
 * npm run test:chaos — the chaos suite. Per scenario: a fresh database on the harness's own
 * PostgreSQL, a fresh queue prefix on its own Redis, four schools whose endpoints this process plays,
 * one HTTP broker and several pipeline processes (from dist/), steady load, one fault, recovery, and
 * the checker (checker.ts). Prints a table and exits non-zero when any scenario has lost, stuck,
 * duplicated or unexpected messages.
 *
 *   node dist/test/chaos/run.js [--profile full|short] [--only 1,5,12] [--keep]
 *
 * CHAOS_PROFILE sets the profile too; --keep leaves the temporary folder (process logs) in place.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/infra/migrate.js';
import { freePort } from '../../src/infra/services/process-tools.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { check, unfinished, type Verdict } from './checker.js';
import { type EndpointMode, InstitutionEndpoint } from './endpoints.js';
import { documentKey, enrolmentRequest, LoadGenerator, pupils, SCHOOLS, sendOnce } from './load.js';
import {
  type BrokerCluster,
  killAllSpawned,
  type Supervised,
  startCluster,
  waitHealthy,
  waitReady,
} from './processes.js';
import { ChaosPostgres, ChaosRedis, sleep } from './services.js';

interface Profile {
  readonly name: 'short' | 'full';
  /** Messages a second from the load generator. */
  readonly rate: number;
  readonly warmupMs: number;
  readonly faultMs: number;
  /** Messages sent once everything is final again: does the broker still accept, process and deliver? */
  readonly probeMessages: number;
  /** Time between kill -9s in the kill scenarios. */
  readonly killEveryMs: number;
  /** How long Redis stays dead before it is restarted empty. */
  readonly redisDeadMs: number;
  /** Messages sent at once just before PostgreSQL is killed, so processing has a backlog when it goes. */
  readonly burst: number;
  /** Longest wait after the fault for everything to be final. */
  readonly recoveryWindowMs: number;
  readonly pipelines: number;
  readonly restartDelayMs: number;
  readonly env: Record<string, string>;
}

const PROFILES: Record<'short' | 'full', Profile> = {
  short: {
    name: 'short',
    rate: 10,
    warmupMs: 1500,
    faultMs: 3000,
    probeMessages: 10,
    burst: 60,
    killEveryMs: 1000,
    redisDeadMs: 1000,
    recoveryWindowMs: 30_000,
    pipelines: 2,
    restartDelayMs: 300,
    env: {
      DELIVERY_TIMEOUT_MS: '1000',
      DELIVERY_BACKOFF_MS: '300,600,1200',
      SWEEP_INTERVAL_MS: '500',
      SWEEP_GRACE_MS: '1000',
      JOB_LOCK_MS: '3000',
    },
  },
  full: {
    name: 'full',
    rate: 20,
    warmupMs: 5000,
    faultMs: 30_000,
    probeMessages: 40,
    burst: 200,
    killEveryMs: 4000,
    redisDeadMs: 5000,
    recoveryWindowMs: 150_000,
    pipelines: 3,
    restartDelayMs: 500,
    env: {
      DELIVERY_TIMEOUT_MS: '2000',
      DELIVERY_BACKOFF_MS: '300,600,1200',
      SWEEP_INTERVAL_MS: '1000',
      SWEEP_GRACE_MS: '2000',
      JOB_LOCK_MS: '5000',
    },
  },
};

/** What a scenario run gives the harness. */
interface Run {
  readonly cluster: BrokerCluster;
  readonly pg: ChaosPostgres;
  readonly redis: ChaosRedis;
  readonly endpoints: readonly InstitutionEndpoint[];
  readonly load: LoadGenerator;
  readonly profile: Profile;
}

interface Scenario {
  readonly id: number;
  readonly name: string;
  /** The fault, started after the warm-up; resolves when it has ended (everything restored). Default: steady load around it. */
  readonly fault?: (run: Run) => Promise<void>;
  /** Instead of steady load and a fault: the whole scenario. Resolves at the end of its fault. */
  readonly custom?: (run: Run) => Promise<void>;
}

/** The endpoint the endpoint scenarios break: the first school's. */
const FAULTY = 0;

async function killEvery(run: Run, pick: (round: number) => Supervised, midRequest: boolean): Promise<void> {
  const end = Date.now() + run.profile.faultMs;
  // At least two kills, however short the fault.
  for (let round = 0; (round < 2 || Date.now() < end) && round < 100; round++) {
    // Mid-request: wait (briefly) for a request of the load generator to be under way.
    for (let i = 0; midRequest && run.load.inFlight === 0 && i < 100; i++) await sleep(5);
    pick(round).kill9();
    await sleep(run.profile.restartDelayMs + 50);
    await waitRunning(run);
    await sleep(run.profile.killEveryMs);
  }
}

/** Until every supervised process runs again, has said it is ready, and the HTTP one answers. */
async function waitRunning(run: Run): Promise<void> {
  await waitReady([run.cluster.http, ...run.cluster.pipelines], 60_000);
  await waitHealthy(run.cluster.baseUrl, 30_000);
}

/**
 * A backlog for the fault that follows: the pipeline processes are held (SIGSTOP) while a burst of
 * messages beside the steady load is receipted, PostgreSQL is killed, and they go on (SIGCONT) —
 * with the burst's processing jobs to run against a database that is not there.
 */
async function killPostgresUnderBacklog(run: Run): Promise<void> {
  for (const p of run.cluster.pipelines) p.pause();
  try {
    await run.load.run({ rate: 10_000, maxInFlight: 50, maxMessages: run.profile.burst, until: () => false });
    await run.pg.kill();
  } finally {
    for (const p of run.cluster.pipelines) p.resume();
  }
}

async function endpointFault(run: Run, mode: EndpointMode): Promise<void> {
  await run.endpoints[FAULTY]!.setMode(mode);
  await sleep(run.profile.faultMs);
  await run.endpoints[FAULTY]!.setMode('ok');
}

const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    name: 'kill -9 a pipeline process every few seconds',
    fault: (run) => killEvery(run, (round) => run.cluster.pipelines[round % run.cluster.pipelines.length]!, false),
  },
  { id: 2, name: 'kill -9 the HTTP process mid-request', fault: (run) => killEvery(run, () => run.cluster.http, true) },
  {
    id: 3,
    name: 'Redis killed, restarted empty',
    fault: async (run) => {
      await run.redis.kill();
      run.redis.wipe();
      await sleep(run.profile.redisDeadMs);
      await run.redis.restart();
    },
  },
  {
    id: 4,
    name: 'Redis unreachable (SIGSTOP)',
    fault: async (run) => {
      run.redis.pause();
      await sleep(run.profile.faultMs);
      run.redis.resume();
    },
  },
  {
    id: 5,
    name: 'PostgreSQL stopped (SIGSTOP)',
    fault: async (run) => {
      run.pg.pause();
      await sleep(run.profile.faultMs);
      run.pg.resume();
    },
  },
  {
    id: 6,
    name: 'PostgreSQL killed -9 under a backlog, restarted',
    fault: async (run) => {
      await killPostgresUnderBacklog(run);
      await sleep(run.profile.faultMs);
      await run.pg.restart();
    },
  },
  { id: 7, name: 'an endpoint down (connection refused)', fault: (run) => endpointFault(run, 'down') },
  { id: 8, name: 'an endpoint hung', fault: (run) => endpointFault(run, 'hang') },
  { id: 9, name: 'an endpoint answering HTTP 500', fault: (run) => endpointFault(run, 'http500') },
  { id: 10, name: 'an endpoint answering a Client fault', fault: (run) => endpointFault(run, 'client-fault') },
  {
    id: 11,
    name: 'an endpoint hung + PostgreSQL killed under a backlog',
    fault: async (run) => {
      await run.endpoints[FAULTY]!.setMode('hang');
      await sleep(Math.min(1000, run.profile.faultMs / 4)); // attempts under way at the hung endpoint
      await killPostgresUnderBacklog(run);
      await sleep(run.profile.faultMs);
      await run.pg.restart();
      await run.endpoints[FAULTY]!.setMode('ok');
    },
  },
  {
    id: 12,
    name: '100 concurrent copies of one message',
    custom: async (run) => {
      const enrolment = run.load.next();
      const request = enrolmentRequest(enrolment, BSNS[enrolment.pupil]!);
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => sendOnce(run.cluster.baseUrl, request, 15_000)),
      );
      run.load.sends += answers.length;
      for (const answer of answers) run.load.record(enrolment.school.oin, enrolment.documentId, answer);
      const doc = run.load.documents.get(documentKey(enrolment.school.oin, enrolment.documentId))!;
      const kinds = new Map<string, number>();
      for (const a of doc.answers)
        kinds.set(
          a.kind === 'fault' ? `fault ${a.code}` : a.kind,
          (kinds.get(a.kind === 'fault' ? `fault ${a.code}` : a.kind) ?? 0) + 1,
        );
      process.stderr.write(`  answers to the 100 copies: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
      // Every copy must get the one receipt (docs/reliability.md): a cap that turned copies away would hide the race.
      if (kinds.get('receipt') !== answers.length)
        throw new Error(`only ${kinds.get('receipt') ?? 0} of 100 copies got a receipt`);
    },
  },
];

// ---------------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : args.find((a) => a.startsWith(`${name}=`))?.split('=')[1];
};
const profileName = (argValue('--profile') ?? process.env.CHAOS_PROFILE ?? 'full') as 'short' | 'full';
if (!(profileName in PROFILES)) {
  process.stderr.write(`unknown profile '${profileName}' (short or full)\n`);
  process.exit(2);
}
const PROFILE = PROFILES[profileName];
const ONLY = argValue('--only')?.split(',').map(Number);
const KEEP = args.includes('--keep');
const PUPIL_COUNT =
  Math.ceil((PROFILE.rate * (PROFILE.warmupMs + PROFILE.faultMs + 60_000)) / 1000) +
  PROFILE.probeMessages +
  2 * PROFILE.burst;
const BSNS = pupils(PUPIL_COUNT);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-chaos-'));
fs.chmodSync(dir, 0o755); // the postgres system user must reach its data folder
const say = (message: string): void => void process.stderr.write(`${message}\n`);

// Everything this process started, for the clean-up on any exit.
let pgServer: ChaosPostgres | undefined;
let redisServer: ChaosRedis | undefined;
let currentCluster: BrokerCluster | undefined;
let cleanedUp = false;
function cleanUpNow(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  killAllSpawned(); // SIGKILL ends stopped processes too
  currentCluster?.killNow();
  pgServer?.killNow();
  redisServer?.killNow();
  if (KEEP) say(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanUpNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    say(`\n${sig}: stopping every child process and removing ${dir}`);
    cleanUpNow();
    process.exit(130);
  });
}

async function withClient<T>(url: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 10_000 });
  db.on('error', () => undefined);
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function prepareDatabase(url: string, endpoints: readonly InstitutionEndpoint[]): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await migrate(pool);
    for (const [index, school] of SCHOOLS.entries()) {
      await upsertInstitution(pool, {
        oin: school.oin,
        name: `Chaos school ${school.brin}`,
        brins: [school.brin],
        endpointUrl: endpoints[index]!.url,
        enabled: true,
      });
    }
    await pool.query(
      "INSERT INTO population_register (bsn, birth_date, gender, surname) SELECT b, '2013-04-17', '2', 'Leerling' FROM unnest($1::text[]) AS b ON CONFLICT DO NOTHING",
      [BSNS],
    );
  } finally {
    await pool.end();
  }
}

interface Outcome {
  readonly scenario: Scenario;
  readonly verdict?: Verdict;
  readonly recoveryMs?: number;
  readonly error?: string;
  readonly sends: number;
  readonly restarts: number;
  /** Probe messages receipted / sent after recovery. */
  readonly probe?: string;
}

/** Milliseconds from `from` until nothing is unfinished (and `ready()`), or undefined after the recovery window. */
async function waitFinal(databaseUrl: string, from: number, ready: () => boolean): Promise<number | undefined> {
  const deadline = from + PROFILE.recoveryWindowMs;
  while (Date.now() < deadline) {
    if (ready()) {
      const left = await withClient(databaseUrl, unfinished).catch(() => undefined);
      if (left && left.outbox === 0 && left.pending === 0) return Date.now() - from;
    }
    await sleep(100);
  }
  return undefined;
}

async function runScenario(scenario: Scenario, endpoints: readonly InstitutionEndpoint[]): Promise<Outcome> {
  const pgs = pgServer!;
  const redis = redisServer!;
  await pgs.ensureRunning();
  await redis.ensureRunning();
  for (const endpoint of endpoints) {
    await endpoint.setMode('ok');
    endpoint.pushes.length = 0;
  }
  const databaseUrl = await pgs.createDatabase(`chaos_${scenario.id}_${randomBytes(3).toString('hex')}`);
  await prepareDatabase(databaseUrl, endpoints);
  const port = await freePort();
  const logDir = path.join(dir, `scenario-${scenario.id}`);
  fs.mkdirSync(logDir);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...TEST_SECRETS,
    ...PROFILE.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    // Production profile (a named database): the endpoints are on loopback, which deliveries re-check.
    ALLOW_LOOPBACK_ENDPOINTS: 'true',
    // The load generator stands in for many LASes from one address: 100 copies at once must all be answered.
    MAX_CONNECTIONS_PER_IP: '0',
    MAX_IN_FLIGHT_PER_SENDER: '128',
    PORT: String(port),
    HOST: '127.0.0.1',
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    QUEUE_PREFIX: `chaos${scenario.id}-${randomBytes(3).toString('hex')}`,
    BROKER_DATA_DIR: path.join(logDir, 'var'),
  };
  const cluster = await startCluster({
    env,
    port,
    pipelines: PROFILE.pipelines,
    logDir,
    restartDelayMs: PROFILE.restartDelayMs,
  });
  currentCluster = cluster;
  const load = new LoadGenerator(cluster.baseUrl, BSNS, 15_000);
  const run: Run = { cluster, pg: pgs, redis, endpoints, load, profile: PROFILE };
  try {
    let faultEnd: number;
    let loading: Promise<void> = Promise.resolve();
    let loadDone = true;
    if (scenario.custom) {
      await scenario.custom(run);
      faultEnd = Date.now();
    } else {
      // Steady load from the start until the fault has ended (bounded in count and time).
      let loadStop = Number.POSITIVE_INFINITY;
      const hardStop = Date.now() + PROFILE.warmupMs + PROFILE.faultMs + 120_000;
      loadDone = false;
      loading = load
        .run({
          rate: PROFILE.rate,
          maxInFlight: 50,
          maxMessages: BSNS.length - PROFILE.probeMessages - PROFILE.burst - 1,
          until: () => Date.now() >= Math.min(loadStop, hardStop),
        })
        .finally(() => {
          loadDone = true;
        });
      await sleep(PROFILE.warmupMs);
      await scenario.fault!(run);
      faultEnd = Date.now();
      loadStop = faultEnd;
    }
    // Recovery: every request answered, nothing waiting in the outbox (outside its error queue), nothing pending.
    const recoveryMs = await waitFinal(databaseUrl, faultEnd, () => loadDone);
    await loading;
    // The probe: a few more messages once the dust has settled, which must be receipted, processed and delivered like any other.
    const before = load.documents.size;
    await load.run({ rate: PROFILE.rate, maxInFlight: 10, maxMessages: PROFILE.probeMessages, until: () => false });
    const probe = [...load.documents.values()].slice(before);
    const probeReceipted = probe.filter((d) => d.answers.some((a) => a.kind === 'receipt')).length;
    // (When recovery never finished, the stranded rows would hold this wait for the whole window again.)
    if (recoveryMs !== undefined) await waitFinal(databaseUrl, Date.now(), () => true);
    else await sleep(5000);
    await sleep(1000); // late redeliveries still reach the endpoints' records
    const verdict = await withClient(databaseUrl, (db) => check(db, load.documents, endpoints));
    if (probeReceipted < probe.length)
      verdict.details.push(`after recovery only ${probeReceipted} of ${probe.length} probe messages were receipted`);
    return {
      scenario,
      verdict,
      ...(recoveryMs !== undefined ? { recoveryMs } : {}),
      probe: `${probeReceipted}/${probe.length}`,
      sends: load.sends,
      restarts: [cluster.http, ...cluster.pipelines].reduce((n, p) => n + p.restarts, 0),
    };
  } finally {
    await cluster.stop();
    currentCluster = undefined;
  }
}

const REQUIRED = ['lost', 'stuck', 'duplicated', 'unexpected'] as const;
const passed = (o: Outcome): boolean => o.verdict !== undefined && REQUIRED.every((k) => o.verdict![k] === 0);

function table(outcomes: readonly Outcome[]): string {
  const head =
    '| # | scenario | sent | receipted | faulted | no answer | processed | delivered | error-queued | lost | stuck | duplicated | unexpected | redelivered | recovery | probe | result |';
  const rule = '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const rows = outcomes.map((o) => {
    const v = o.verdict;
    if (!v) return `| ${o.scenario.id} | ${o.scenario.name} | | | | | | | | | | | | | | | ERROR: ${o.error} |`;
    const recovery =
      o.recoveryMs !== undefined ? `${(o.recoveryMs / 1000).toFixed(1)} s` : `> ${PROFILE.recoveryWindowMs / 1000} s`;
    return (
      `| ${o.scenario.id} | ${o.scenario.name} | ${v.sent} | ${v.receipted} | ${v.faulted} | ${v.noAnswer} | ${v.processed} | ${v.delivered} | ${v.errorQueued} | ` +
      `${v.lost} | ${v.stuck} | ${v.duplicated} | ${v.unexpected} | ${v.redelivered} | ${recovery} | ${o.probe ?? ''} | ${passed(o) ? 'pass' : 'FAIL'} |`
    );
  });
  return [head, rule, ...rows].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  say(
    `chaos suite, profile ${PROFILE.name}: ${PROFILE.rate} msg/s, fault ${PROFILE.faultMs / 1000} s, ${PROFILE.pipelines} pipeline processes; temporary folder ${dir}`,
  );
  if (!fs.existsSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'src', 'main.js'))) {
    throw new Error('dist/src/main.js is missing: run npm run build first');
  }
  pgServer = await ChaosPostgres.start(dir);
  redisServer = await ChaosRedis.start(dir);
  const endpoints = await Promise.all(SCHOOLS.map((s) => InstitutionEndpoint.start(s.brin)));
  const outcomes: Outcome[] = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.id))) {
      const t0 = Date.now();
      say(`scenario ${scenario.id}: ${scenario.name}`);
      let outcome: Outcome;
      try {
        outcome = await runScenario(scenario, endpoints);
      } catch (error) {
        outcome = { scenario, error: (error as Error).message.split('\n')[0]!, sends: 0, restarts: 0 };
      }
      outcomes.push(outcome);
      say(
        `  ${outcome.verdict ? (passed(outcome) ? 'pass' : 'FAIL') : `ERROR ${outcome.error}`} in ${((Date.now() - t0) / 1000).toFixed(0)} s` +
          `${outcome.verdict ? `; requests ${outcome.sends}, process restarts ${outcome.restarts}` : ''}`,
      );
      for (const line of outcome.verdict?.details ?? []) say(`  ${line}`);
    }
  } finally {
    for (const endpoint of endpoints) await endpoint.stop();
    await redisServer.stop();
    await pgServer.stop();
  }
  process.stdout.write(
    `\nchaos suite, profile ${PROFILE.name} (${PROFILE.rate} msg/s; faults of ${PROFILE.faultMs / 1000} s; ${PROFILE.pipelines} pipeline processes; ` +
      `${os.cpus().length} cores), ${((Date.now() - started) / 1000).toFixed(0)} s\n\n${table(outcomes)}\n\n`,
  );
  for (const o of outcomes)
    for (const line of o.verdict?.details ?? []) process.stdout.write(`- ${o.scenario.id}: ${line}\n`);
  const failed = outcomes.filter((o) => !passed(o));
  process.stdout.write(
    failed.length === 0
      ? '\nall scenarios: lost 0, stuck 0, duplicated 0, unexpected 0\n'
      : `\nFAILED: scenarios ${failed.map((o) => o.scenario.id).join(', ')}\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().then(
  () => {
    cleanUpNow();
    process.exit(process.exitCode ?? 0);
  },
  (error: unknown) => {
    say(`chaos suite failed: ${(error as Error).stack ?? String(error)}`);
    cleanUpNow();
    process.exit(2);
  },
);
