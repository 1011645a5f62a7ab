/**
 * bench:pipeline — accept → process → deliver, against 100 institution endpoints played by this
 * process, with real PostgreSQL and Redis. Phases: a fixed 500 msg/s (latency from acceptance to the
 * delivered terugkoppeling), the same with one endpoint hanging (do the others stay fast?), and as
 * fast as it goes (sustained throughput and backlog).
 *
 * Environment: BENCH_SECONDS (20 per phase), BENCH_RATE (500), BENCH_PUPILS (200,000), BENCH_BROKER_NODE_ARGS (extra node flags for the broker),
 * BENCH_PG_FLAGS (extra PostgreSQL server flags, e.g. `-c synchronous_commit=off` to see what commits' flushes cost).
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrate } from '../src/infra/migrate.js';
import { PROJECT_ROOT } from '../src/infra/paths.js';
import { startEmbeddedPostgres } from '../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../src/infra/services/local-redis.js';
import { freePort } from '../src/infra/services/process-tools.js';
import { isValidBsn } from '../src/register/pgn.js';
import { upsertInstitution } from '../src/store/institutions.repo.js';
import { startTestEndpoints } from '../test/support/institution-endpoint.js';
import { bodyFixture, lasRequest } from '../test/support/soap.js';
import { waitUntilHealthy } from './bench-support.js';
import { rssOfTree, sampleCpu, sampleMachine } from './process-cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 500);
/** Extra node arguments for the broker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
/** BENCH_PG_STATS=1 prints the statements that took PostgreSQL longest (pg_stat_statements). */
const PG_STATS = process.env.BENCH_PG_STATS === '1';
const SEPARATE_WORKERS = process.env.BENCH_SEPARATE_WORKERS === '1';
const BROKER_NODE_ARGS = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const BRINS = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(2, '0')}BB`);
const oinOf = (brin: string): string => `00000007000${brin}00000`;
const CONTRACT_PATH = '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1';

/** Request parts per institution, so each request is a concatenation with fresh ids. */
const TEMPLATES = BRINS.map((brin) => {
  const xml = lasRequest(
    'aanleverenInschrijvingVO',
    bodyFixture('valid/aanleverenInschrijvingVO.xml', '11111111-1111-4111-8111-111111111111')
      .replace(/25BE/g, brin)
      .replace(/2026-0001/g, 'VOLGNR'),
    {
      messageId: 'urn:uuid:22222222-2222-4222-8222-222222222222',
      from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf(brin)}`,
    },
  ).xml;
  return xml.split(/22222222-2222-4222-8222-222222222222|11111111-1111-4111-8111-111111111111|VOLGNR/);
});
/**
 * Distinct pupils, all known to the population register, so stands are approved as in real traffic.
 * Enough that a run rarely enrols one pupil twice (BENCH_PUPILS): with 20,000, a pupil enrolled every
 * 20,000 messages gathered parallel enrolments at one school, and a long run's messages cost more and
 * more to process (each loads and weighs all of its pupil's enrolments), unlike real traffic.
 */
const PUPIL_COUNT = Number(process.env.BENCH_PUPILS ?? 200_000);
const PUPILS = (() => {
  const bsns: string[] = [];
  for (let n = 200_000_000; bsns.length < PUPIL_COUNT; n++) if (isValidBsn(String(n))) bsns.push(String(n));
  return bsns;
})();
let counter = 0;
function requestBody(): string {
  const parts = TEMPLATES[counter % TEMPLATES.length]!;
  const bsn = PUPILS[counter++ % PUPILS.length]!;
  const volgnummer = randomUUID().slice(0, 18);
  return (parts[0] + randomUUID() + parts[1] + randomUUID() + parts.slice(2).join(volgnummer)).replace(
    '123456782',
    bsn,
  );
}

/** Prints the queues' state every 2 s while a phase runs (stderr), to show which stage holds the backlog. */
function watchQueues(redisUrl: string): () => void {
  const redis = new Redis(redisUrl);
  const count = async (queue: string): Promise<string> => {
    const [wait, active, delayed] = await Promise.all([
      redis.llen(`bron:${queue}:wait`),
      redis.llen(`bron:${queue}:active`),
      redis.zcard(`bron:${queue}:delayed`),
    ]);
    return `${queue} wait ${wait} active ${active} delayed ${delayed}`;
  };
  const timer = setInterval(() => {
    void Promise.all([count('processing'), count('delivery')]).then(
      (parts) => process.stderr.write(`  queues: ${parts.join('; ')}\n`),
      () => undefined,
    );
  }, 2000);
  return () => {
    clearInterval(timer);
    redis.disconnect();
  };
}

async function load(url: string, rate?: number): Promise<{ rps: number; total: number; non2xx: number }> {
  const stopWatching = watchQueues(REDIS_URL);
  try {
    return await generateLoad(url, rate);
  } finally {
    stopWatching();
  }
}

let REDIS_URL = '';

async function generateLoad(url: string, rate?: number): Promise<{ rps: number; total: number; non2xx: number }> {
  const result = await autocannon({
    url,
    method: 'POST',
    duration: SECONDS,
    connections: 32,
    ...(rate ? { overallRate: rate } : {}),
    headers: {
      'content-type': 'text/xml; charset=UTF-8',
      soapaction: '"http://duo.nl/contract/DUO_VOAanlevering_InschrijvingVO_V1/aanleverenInschrijvingVO"',
    },
    requests: [{ setupRequest: (request) => ({ ...request, body: requestBody() }) }],
  });
  return { rps: result.requests.average, total: result.requests.total, non2xx: result.non2xx };
}

/** Waits until nothing is pending; returns the seconds it took. */
async function drain(db: pg.Client, limitMs: number, excludeBrin = ''): Promise<number> {
  const started = Date.now();
  let reported = started;
  for (;;) {
    const { processing, delivery } = (
      await db.query<{ processing: number; delivery: number }>(
        "SELECT (SELECT count(*) FROM processing_outbox)::int AS processing, (SELECT count(*) FROM outbound_messages WHERE status = 'pending' AND brin <> $1)::int AS delivery",
        [excludeBrin],
      )
    ).rows[0]!;
    if (Date.now() - reported >= 2000) {
      process.stderr.write(`  backlog: ${processing} to process, ${delivery} to deliver\n`);
      reported = Date.now();
    }
    if (processing + delivery === 0 || Date.now() - started > limitMs) return (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Latency figures of one phase, in whole ms ('—' where the phase delivered nothing to measure). */
interface Latency {
  /** The goal's figure: accept → the school's answer to its terugkoppeling, read and checked by the broker. */
  readonly p50: string;
  readonly p99: string;
  /** Stricter: accept → each delivery's record written (terugkoppeling and bekostigingsstatus, every delivery counted). */
  readonly recordedP50: string;
  readonly recordedP99: string;
  readonly toProcessedP50: string;
  readonly toProcessedP99: string;
  /** Outbound messages delivered (both kinds). */
  readonly n: number;
}

/**
 * Latency of what messages received since `since` caused, excluding one BRIN, and where the time went
 * (on stderr, under `phase`). From `received_at` (when the accept statement started, before its commit)
 * to the answer: the delivery attempt's start plus its latency, which ends once the broker has read and
 * checked the school's answer (a little after the school had the message). And, stricter, to
 * `delivered_at`: when the statement recording the delivery started.
 */
async function latency(db: pg.Client, phase: string, since: Date, excludeBrin = ''): Promise<Latency> {
  const perDelivery = `SELECT o.operation LIKE 'terugkoppelen%' AS feedback,
            extract(epoch FROM (a.started_at - m.received_at)) * 1000 + a.latency_ms AS answered_ms,
            extract(epoch FROM (o.delivered_at - m.received_at)) * 1000 AS recorded_ms,
            extract(epoch FROM (r.processed_at - m.received_at)) * 1000 AS processed_ms,
            extract(epoch FROM (a.started_at - r.processed_at)) * 1000 AS to_attempt_ms, a.latency_ms AS http_ms,
            extract(epoch FROM (o.delivered_at - a.started_at)) * 1000 - a.latency_ms AS record_ms
     FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id JOIN processing_results r ON r.message_id = m.id
     JOIN delivery_attempts a ON a.outbound_id = o.id AND a.attempt = o.attempts
     WHERE o.status = 'delivered' AND m.received_at >= $1 AND o.brin <> $2`;
  const pct = (p: number, column: string, where = 'true'): string =>
    `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${column}) FILTER (WHERE ${where})`;
  type Row = Record<
    'p50' | 'p99' | 'rp50' | 'rp99' | 'pp50' | 'pp99' | 'ap50' | 'ap99' | 'hp50' | 'hp99' | 'kp50' | 'kp99',
    number | null
  > & { n: number };
  const row = (
    await db.query<Row>(
      `SELECT ${pct(0.5, 'answered_ms', 'feedback')} AS p50, ${pct(0.99, 'answered_ms', 'feedback')} AS p99,
            ${pct(0.5, 'recorded_ms')} AS rp50, ${pct(0.99, 'recorded_ms')} AS rp99, count(*)::int AS n,
            ${pct(0.5, 'processed_ms')} AS pp50, ${pct(0.99, 'processed_ms')} AS pp99, ${pct(0.5, 'to_attempt_ms')} AS ap50, ${pct(0.99, 'to_attempt_ms')} AS ap99,
            ${pct(0.5, 'http_ms')} AS hp50, ${pct(0.99, 'http_ms')} AS hp99, ${pct(0.5, 'record_ms')} AS kp50, ${pct(0.99, 'record_ms')} AS kp99
     FROM (${perDelivery}) t`,
      [since, excludeBrin],
    )
  ).rows[0]!;
  const ms = (value: number | null): string => (value === null ? '—' : String(Math.round(value)));
  process.stderr.write(
    `  ${phase}, stages p50 / p99: accept→processing ${ms(row.pp50)} / ${ms(row.pp99)} ms, processing start→attempt start ${ms(row.ap50)} / ${ms(row.ap99)} ms, ` +
      `attempt ${ms(row.hp50)} / ${ms(row.hp99)} ms, answer→recorded ${ms(row.kp50)} / ${ms(row.kp99)} ms\n`,
  );
  if (row.p99 !== null) {
    const tail = (
      await db.query<Record<'pp' | 'ap' | 'hp', number>>(
        `SELECT avg(processed_ms)::float8 AS pp, avg(to_attempt_ms)::float8 AS ap, avg(http_ms)::float8 AS hp FROM (${perDelivery}) t WHERE feedback AND answered_ms >= $3`,
        [since, excludeBrin, row.p99],
      )
    ).rows[0]!;
    process.stderr.write(
      `  ${phase}, slowest 1 % of terugkoppelingen, mean ms: accept→processing ${ms(tail.pp)}, processing start→attempt start ${ms(tail.ap)}, attempt ${ms(tail.hp)}\n`,
    );
  }
  return {
    p50: ms(row.p50),
    p99: ms(row.p99),
    recordedP50: ms(row.rp50),
    recordedP99: ms(row.rp99),
    toProcessedP50: ms(row.pp50),
    toProcessedP99: ms(row.pp99),
    n: row.n,
  };
}

/** A table row of a fixed-rate phase. */
const latencyRow = (phase: string, rps: number, l: Latency): string =>
  `| ${phase} | ${Math.round(rps)} | ${l.p50} | ${l.p99} | ${l.recordedP50} / ${l.recordedP99} | ${l.toProcessedP50} / ${l.toProcessedP99} | ${l.n} |`;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-pipeline-'));
  fs.chmodSync(dir, 0o755);
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const database = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'bench',
    log,
    extraFlags: [
      ...(PG_STATS
        ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_utility=on']
        : []),
      ...(process.env.BENCH_PG_FLAGS ?? '').split(' ').filter(Boolean),
    ],
  });
  const redisService = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), log });
  REDIS_URL = redisService.url;
  const endpoints = await startTestEndpoints({ keepBodies: false });
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await migrate(pool);
  for (const brin of BRINS)
    await upsertInstitution(pool, {
      oin: oinOf(brin),
      name: brin,
      brins: [brin],
      endpointUrl: endpoints.url(brin),
      enabled: true,
    });
  await pool.query(
    "INSERT INTO population_register (bsn, birth_date, gender, surname) SELECT b, '2013-04-17', '2', 'Leerling' FROM unnest($1::text[]) AS b ON CONFLICT DO NOTHING",
    [PUPILS],
  );
  if (PG_STATS) await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await pool.end();

  const port = await freePort();
  const logFile = fs.openSync(path.join(dir, 'broker.log'), 'w');
  const brokerEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    REDIS_URL: redisService.url,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    ALLOW_LOOPBACK_ENDPOINTS: 'true', // the endpoints are on loopback, which deliveries re-check
    // Production requires a data key: a fresh one per run unless given (BROKER_PROFILE=development DATA_KEYS= for none).
    DATA_KEYS: process.env.DATA_KEYS ?? `bench:${randomBytes(32).toString('base64')}`,
    DELIVERY_TIMEOUT_MS: '2000',
    DELIVERY_BACKOFF_MS: '60000',
  };
  // BENCH_SEPARATE_WORKERS=1: a ROLE=http broker and a ROLE=pipeline process (as docker-compose runs them); else ROLE=all.
  const broker = spawn(process.execPath, [...BROKER_NODE_ARGS, path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    env: { ...brokerEnv, ROLE: SEPARATE_WORKERS ? 'http' : 'all' },
    stdio: ['ignore', logFile, logFile],
  });
  const workers = SEPARATE_WORKERS
    ? spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/src/main.js')], {
        env: { ...brokerEnv, ROLE: 'pipeline' },
        stdio: ['ignore', logFile, logFile],
      })
    : undefined;
  const url = `http://127.0.0.1:${port}${CONTRACT_PATH}`;
  await waitUntilHealthy(`http://127.0.0.1:${port}/healthz`, broker);
  const lines: string[] = [];
  let cpuLine = '';
  try {
    await load(url, RATE); // warm-up
    await drain(db, 60_000);

    let since = new Date();
    const steady = await load(url, RATE);
    await drain(db, 60_000);
    const steadyPhase = `${RATE} msg/s, 100 endpoints`;
    lines.push(latencyRow(steadyPhase, steady.rps, await latency(db, steadyPhase, since)));

    endpoints.always(BRINS[0]!, 'hang');
    since = new Date();
    const withHung = await load(url, RATE);
    await drain(db, 30_000, BRINS[0]);
    const hungPhase = `${RATE} msg/s, 1 of 100 endpoints hanging (others)`;
    lines.push(latencyRow(hungPhase, withHung.rps, await latency(db, hungPhase, since, BRINS[0])));
    endpoints.always(BRINS[0]!, undefined);

    // The hanging endpoint's messages wait for their retry (DELIVERY_BACKOFF_MS); the drains below leave them out.
    since = new Date();
    const cpuBefore = {
      ...sampleCpu([broker.pid!, ...(workers ? [workers.pid!] : [])]),
      bench: process.cpuUsage(),
      machine: sampleMachine(),
    };
    const max = await load(url);
    const machineInPhase = sampleMachine();
    const backlogAtEnd = (
      await db.query<{ n: number }>(
        "SELECT ((SELECT count(*) FROM processing_outbox) + (SELECT count(*) FROM outbound_messages WHERE status = 'pending' AND brin <> $1))::int AS n",
        [BRINS[0]],
      )
    ).rows[0]!.n;
    const drainSeconds = await drain(db, 120_000, BRINS[0]);
    const cpuAfter = {
      ...sampleCpu([broker.pid!, ...(workers ? [workers.pid!] : [])]),
      bench: process.cpuUsage(cpuBefore.bench),
    };
    const perMessage = (seconds: number): string => ((seconds * 1e6) / max.total).toFixed(0);
    const roles = Object.keys(cpuAfter.brokerRoles)
      .sort()
      .map((role) => `${role} ${perMessage((cpuAfter.brokerRoles[role] ?? 0) - (cpuBefore.brokerRoles[role] ?? 0))}`)
      .join(', ');
    cpuLine =
      `CPU per message (accept + process + deliver): broker ${perMessage(cpuAfter.broker - cpuBefore.broker)} µs (${roles}), PostgreSQL ${perMessage(cpuAfter.postgres - cpuBefore.postgres)} µs, ` +
      `Redis ${perMessage(cpuAfter.redis - cpuBefore.redis)} µs, load generator + 100 endpoints ${perMessage((cpuAfter.bench.user + cpuAfter.bench.system) / 1e6)} µs` +
      `; of which in the kernel: broker ${perMessage(cpuAfter.kernel.broker - cpuBefore.kernel.broker)}, PostgreSQL ${perMessage(cpuAfter.kernel.postgres - cpuBefore.kernel.postgres)}, ` +
      `Redis ${perMessage(cpuAfter.kernel.redis - cpuBefore.kernel.redis)}, load generator ${perMessage(cpuAfter.bench.system / 1e6)} µs` +
      `\nmachine during the max-rate phase: ${((100 * (machineInPhase.busy - cpuBefore.machine.busy)) / (machineInPhase.total - cpuBefore.machine.total)).toFixed(0)} % busy; ` +
      `whole machine ${perMessage(sampleMachine().busy - cpuBefore.machine.busy)} µs per message until drained`;
    const delivered = (await latency(db, 'as fast as it goes', since, BRINS[0])).n;
    lines.push(`| as fast as it goes | ${Math.round(max.rps)} | — | — | — | — | ${delivered} |`);

    const redis = new Redis(redisService.url);
    const info = await redis.info('memory');
    const jobs = (await redis.keys('bron:*:*')).filter((k) => /:processing:(\d+|batch-[0-9a-f-]+)$/.test(k)).length;
    redis.disconnect();
    const usedMb = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
    process.stdout.write(
      `\n${SECONDS}s per phase, ${os.cpus().length} cores; broker LOG_LEVEL=warn, workers ${SEPARATE_WORKERS ? 'in a separate ROLE=pipeline process' : 'as npm start runs them'}\n\n`,
    );
    process.stdout.write(
      '| phase | accepted msg/s | accept→terugkoppeling answered p50 ms | p99 ms | accept→each delivery recorded p50 / p99 ms | accept→processed p50 / p99 ms | delivered |\n|---|---:|---:|---:|---:|---:|---:|\n',
    );
    process.stdout.write(`${lines.join('\n')}\n\n`);
    process.stdout.write(
      `max-rate phase: backlog at its end ${backlogAtEnd}, drained in ${drainSeconds.toFixed(1)} s; sustained ≈ ${Math.round(max.total / (SECONDS + drainSeconds))} msg/s end to end\n`,
    );
    process.stdout.write(`${cpuLine}\n`);
    process.stdout.write(
      `Redis: ${usedMb.toFixed(1)} MB used with ${jobs} jobs retained (processing wake-ups not yet run; delivery keeps none)\n`,
    );
    process.stdout.write(
      `broker RSS (all its processes): ${rssOfTree(broker.pid!).toFixed(0)} MB${workers ? `, workers RSS: ${rssOfTree(workers.pid!).toFixed(0)} MB` : ''}\n`,
    );
    if (PG_STATS) {
      const top = await db.query<{
        ms: number;
        calls: number;
        rows: number;
        wal_mb: number;
        fpi: number;
        dirtied: number;
        query: string;
      }>(
        `SELECT round(total_exec_time)::int AS ms, calls::int, rows::int, round(wal_bytes / 1024 / 1024)::int AS wal_mb, wal_fpi::int AS fpi, shared_blks_dirtied::int AS dirtied,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`,
      );
      const background = (
        await db.query<{ checkpoints: number; autovacuums: number; autoanalyzes: number }>(
          `SELECT (SELECT num_timed + num_requested FROM pg_stat_checkpointer)::int AS checkpoints,
                (SELECT sum(autovacuum_count) FROM pg_stat_user_tables)::int AS autovacuums, (SELECT sum(autoanalyze_count) FROM pg_stat_user_tables)::int AS autoanalyzes`,
        )
      ).rows[0]!;
      process.stdout.write(
        `PostgreSQL background work during the run: ${background.checkpoints} checkpoints, ${background.autovacuums} autovacuums, ${background.autoanalyzes} autoanalyzes\n`,
      );
      const wal = (
        await db.query<{ mb: number; fpi: number; writes: number; syncs: number; commits: number }>(
          `SELECT (SELECT round(wal_bytes / 1024 / 1024)::int FROM pg_stat_wal) AS mb, (SELECT wal_fpi::int FROM pg_stat_wal) AS fpi,
                (SELECT sum(writes)::int FROM pg_stat_io WHERE object = 'wal' AND context = 'normal') AS writes,
                (SELECT sum(fsyncs)::int FROM pg_stat_io WHERE object = 'wal' AND context = 'normal') AS syncs,
                (SELECT sum(xact_commit)::int FROM pg_stat_database) AS commits`,
        )
      ).rows[0]!;
      // Whole server, setup included (the population register's load); flushes of WAL being written, not of new WAL files.
      process.stdout.write(
        `WAL: ${wal.mb} MB, ${wal.fpi} full-page images, ${wal.writes} writes, ${wal.syncs} flushes for ${wal.commits} commits\n`,
      );
      process.stdout.write('  exec ms   calls    rows  WAL MB  full-page images  blocks dirtied  statement\n');
      for (const row of top.rows) {
        process.stdout.write(
          `${String(row.ms).padStart(9)} ${String(row.calls).padStart(7)} ${String(row.rows).padStart(7)} ${String(row.wal_mb).padStart(7)} ${String(row.fpi).padStart(17)} ${String(row.dirtied).padStart(15)}  ${row.query}\n`,
        );
      }
    }
  } finally {
    workers?.kill('SIGTERM');
    broker.kill('SIGTERM');
    await new Promise((resolve) => broker.once('exit', resolve));
    await db.end();
    await endpoints.close();
    await redisService.stop();
    await database.stop();
    if (process.env.BENCH_KEEP_DIR === '1') process.stderr.write(`kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
