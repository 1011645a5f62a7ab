/**
 * bench:hostile — does a valid sender stay fast while others attack? One broker (ROLE=http, real
 * PostgreSQL and Redis, plain HTTP as in development, where the sender is only known from wsa:From),
 * one run: a valid sender's accept latency (request → receipt) quietly and with 16 hostile senders at
 * once, in windows that take turns (so the machine's other load weighs on both alike) (huge headers of many elements, an unregistered OIN, a registered OIN with invalid
 * bodies, 1 MB bodies, slow senders; a 10 MB body's fault is an integration test's, not load here). Reports the valid sender's p50/p99 of both
 * phases and their ratio (goal ≤ 2×), the HTTP process's RSS growth (goal ≤ 100 MB), and the rows the
 * hostile senders left in inbound_messages (must be 0).
 *
 * Environment: BENCH_SECONDS (20 per phase), BENCH_RATE (valid requests per second, 50), BENCH_WINDOW_MS (2500; 0: the quiet phase whole, then the hostile one),
 * BENCH_BROKER_NODE_ARGS (extra node flags for the broker), BENCH_TLS=1 (mutual TLS: each sender presents
 * the certificate of the OIN it claims, the unregistered one a certificate of an unknown OIN; the broker
 * limits new connections per address as production does with TLS, MAX_NEW_CONNECTIONS_PER_IP=20).
 * The valid sender connects from 127.0.0.2, the hostile ones from 127.0.0.1: a school has an address of
 * its own (Linux routes all of 127/8 to the loopback).
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../src/infra/migrate.js';
import { PROJECT_ROOT } from '../src/infra/paths.js';
import { startEmbeddedPostgres } from '../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../src/infra/services/local-redis.js';
import { freePort } from '../src/infra/services/process-tools.js';
import { upsertInstitution } from '../src/store/institutions.repo.js';
import { brokerTlsEnv, generateTestPki, type TestPki } from '../test/support/pki.js';
import { ANONYMOUS, BROKER_OIN, bodyFixture, lasRequest } from '../test/support/soap.js';
import { waitUntilHealthy } from './bench-support.js';
import type { HostileKind, HostileReport } from './hostile-senders.js';
import { sampleCpu, sampleMachine } from './process-cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
/** BENCH_TLS=1: mutual TLS, the sender known from its certificate before the body is read (production). */
const TLS = process.env.BENCH_TLS === '1';
/** Extra node arguments for the broker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const BROKER_NODE_ARGS = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const VALID_BRIN = '10BB';
const HOSTILE_BRIN = '20BB';
const oinOf = (brin: string): string => `00000007000${brin}00000`;
const UNREGISTERED_OIN = '00000003999999990000';
/** The valid sender's own address; the hostile senders connect from 127.0.0.1. */
const VALID_ADDRESS = '127.0.0.2';
const MIB = 1024 * 1024;
/**
 * Quiet and hostile windows alternate this long each (0: one quiet phase, then one hostile phase); a
 * valid request started in a window's first SETTLE_MS is not counted.
 */
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 2500) || SECONDS * 1000;
const SETTLE_MS = 300;

/** An enrolment of `brin`, sent as `fromOin`, with fresh ids; `edit` changes its text. */
function enrolment(
  brin: string,
  fromOin: string,
  options: { extraHeaders?: string; edit?: (xml: string) => string } = {},
) {
  const request = lasRequest(
    'aanleverenInschrijvingVO',
    bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, brin)
      .replace('2026-0001', randomUUID().slice(0, 18)),
    { from: `${ANONYMOUS}?oin=${fromOin}`, ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}) },
  );
  return { ...request, xml: options.edit ? options.edit(request.xml) : request.xml };
}

/** The hostile mix: 16 senders in all (the slow ones each keep several connections open). */
function hostileKinds(pki: TestPki | undefined): HostileKind[] {
  const hostile = oinOf(HOSTILE_BRIN);
  const kind = (
    name: string,
    senders: number,
    request: { path: string; soapAction: string; xml: string },
    slow?: HostileKind['slow'],
  ): HostileKind => {
    // Over mutual TLS each presents the certificate of the OIN its wsa:From names.
    const client = request.xml.includes(UNREGISTERED_OIN) ? pki?.unknownOin : pki?.school00AH;
    return {
      name,
      senders,
      path: request.path,
      soapAction: request.soapAction,
      body: Buffer.from(request.xml),
      ...(slow ? { slow } : {}),
      ...(client ? { client: { cert: client.cert, key: client.key } } : {}),
    };
  };
  // 259,000 empty elements in soap:Header, just under 1 MiB.
  const hugeHeader = enrolment(HOSTILE_BRIN, hostile, { extraHeaders: '<a/>'.repeat(259_000) });
  // A valid request of an OIN no one registered.
  const unregistered = enrolment(HOSTILE_BRIN, UNREGISTERED_OIN);
  // A registered OIN, a body the schema refuses.
  const invalid = enrolment(HOSTILE_BRIN, hostile, {
    edit: (xml) => xml.replace(`<bas:brin>${HOSTILE_BRIN}</bas:brin>`, '<bas:brin>20bb</bas:brin>'),
  });
  // A registered OIN, a body of nearly 1 MiB: text the schema refuses only after libxml2 has read it all.
  const oneMb = enrolment(HOSTILE_BRIN, hostile, {
    edit: (xml) =>
      xml.replace(
        '</ins:aanleverenInschrijvingVO_Request>',
        `<x>${'A'.repeat(MIB - 4096)}</x></ins:aanleverenInschrijvingVO_Request>`,
      ),
  });
  return [
    kind('header of 259,000 elements', 4, hugeHeader),
    kind('unregistered OIN', 3, unregistered),
    kind('registered OIN, invalid body', 3, invalid),
    kind('registered OIN, 1 MB body', 4, oneMb),
    // 10 bytes every 100 ms, 8 connections each: a request the server waits for (requestTimeout).
    kind('slow sender (8 connections)', 2, enrolment(HOSTILE_BRIN, hostile), {
      bytes: 10,
      pauseMs: 100,
      connections: 8,
    }),
  ];
}

/** /healthz over mutual TLS, as the valid sender. */
async function waitUntilHealthyTls(port: number, pki: TestPki, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            path: '/healthz',
            localAddress: VALID_ADDRESS,
            ca: pki.ca,
            cert: pki.school25BE.cert,
            key: pki.school25BE.key,
            servername: 'localhost',
          },
          (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          },
        )
        .on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('broker did not become healthy');
}

const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

interface ValidRun {
  readonly latencies: number[];
  readonly failures: Record<string, number>;
}

/**
 * The valid sender: one kept-alive connection, RATE requests a second, each timed request → receipt
 * and filed under what `phase()` said when it started (null: not counted).
 */
async function validSender(
  port: number,
  seconds: number,
  phase: () => string | null = () => 'all',
  pki?: TestPki,
): Promise<Map<string, ValidRun>> {
  const agent = pki
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        ca: pki.ca,
        cert: pki.school25BE.cert,
        key: pki.school25BE.key,
      })
    : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const runs = new Map<string, ValidRun>();
  const interval = 1000 / RATE;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const request = enrolment(VALID_BRIN, oinOf(VALID_BRIN));
      const name = phase();
      const started = performance.now();
      const outcome = await new Promise<string>((resolve) => {
        const req = (pki ? https.request : http.request)(
          {
            host: '127.0.0.1',
            port,
            path: request.path,
            method: 'POST',
            localAddress: VALID_ADDRESS,
            agent,
            headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: request.soapAction },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve(
                res.statusCode === 200 && text.includes('>J<')
                  ? 'ok'
                  : `${res.statusCode} ${/<faultcode>soapenv:([^<]+)/.exec(text)?.[1] ?? ''}`,
              );
            });
          },
        );
        req.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`));
        req.end(request.xml);
      });
      const elapsed = performance.now() - started;
      const run = name === null ? undefined : (runs.get(name) ?? { latencies: [], failures: {} });
      if (run && name !== null) {
        runs.set(name, run);
        if (outcome === 'ok') run.latencies.push(elapsed);
        else run.failures[outcome] = (run.failures[outcome] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - elapsed)));
    }
  } finally {
    agent.destroy();
  }
  for (const run of runs.values()) run.latencies.sort((a, b) => a - b);
  return runs;
}

const summary = (
  run: ValidRun = { latencies: [], failures: {} },
): { p50: number; p99: number; n: number; failed: number } => ({
  p50: percentile(run.latencies, 0.5),
  p99: percentile(run.latencies, 0.99),
  n: run.latencies.length,
  failed: Object.values(run.failures).reduce((a, b) => a + b, 0),
});

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-hostile-'));
  fs.chmodSync(dir, 0o755);
  // The valid sender is the first school's certificate, the registered hostile one the second's.
  const pki = TLS
    ? generateTestPki({ broker: BROKER_OIN, school25BE: oinOf(VALID_BRIN), school00AH: oinOf(HOSTILE_BRIN) })
    : undefined;
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const database = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'bench',
    log,
  });
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), log });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await migrate(pool);
  for (const brin of [VALID_BRIN, HOSTILE_BRIN])
    await upsertInstitution(pool, { oin: oinOf(brin), name: brin, brins: [brin], endpointUrl: null, enabled: true });

  const port = await freePort();
  const logFile = fs.openSync(path.join(dir, 'broker.log'), 'w');
  const broker = spawn(process.execPath, [...BROKER_NODE_ARGS, path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    env: {
      // With TLS, production's limit on new connections per address (the bench runs the development profile).
      ...(pki ? { ...brokerTlsEnv(pki), MAX_NEW_CONNECTIONS_PER_IP: '20' } : {}),
      ...process.env,
      ROLE: 'http',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      BROKER_PROFILE: 'development',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', logFile, logFile],
  });
  let worker: ChildProcess | undefined;
  try {
    if (pki) await waitUntilHealthyTls(port, pki, broker);
    else await waitUntilHealthy(`http://127.0.0.1:${port}/healthz`, broker);
    await validSender(port, Math.min(5, SECONDS), undefined, pki); // warm-up
    const rssBefore = rssMb(broker.pid!);
    worker = spawn('nice', ['-n', '19', process.execPath, path.join(PROJECT_ROOT, 'dist/bench/hostile-senders.js')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    worker.send({ port, kinds: hostileKinds(pki), ...(pki ? { ca: pki.ca } : {}) });
    worker.send('pause');
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMb(broker.pid!));
    }, 100);
    // Quiet and hostile windows take turns, so that whatever else the machine does weighs on both alike.
    const started = performance.now();
    const phase = (): string | null => {
      const into = performance.now() - started;
      if (into % WINDOW_MS < SETTLE_MS) return null;
      return Math.floor(into / WINDOW_MS) % 2 === 0 ? 'quiet' : 'hostile';
    };
    let current = 'quiet';
    // Broker CPU seconds, the machine's busy and total CPU seconds, per phase.
    // ... and the senders': this process (the valid one) and the hostile senders' process.
    const senders = worker;
    const generator = (): number => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6 + (senders.pid ? sampleCpu(senders.pid).broker : 0);
    };
    const usage = { quiet: [0, 0, 0, 0], hostile: [0, 0, 0, 0] };
    let last = [sampleCpu(broker.pid!).broker, sampleMachine().busy, sampleMachine().total, generator()];
    const account = (into: 'quiet' | 'hostile'): void => {
      const machine = sampleMachine();
      const now = [sampleCpu(broker.pid!).broker, machine.busy, machine.total, generator()];
      for (let i = 0; i < 4; i++) usage[into][i]! += now[i]! - last[i]!;
      last = now;
    };
    const switcher = setInterval(() => {
      const next = Math.floor((performance.now() - started) / WINDOW_MS) % 2 === 0 ? 'quiet' : 'hostile';
      if (next === current) return;
      account(current as 'quiet' | 'hostile');
      current = next;
      worker!.send(next === 'hostile' ? 'resume' : 'pause');
    }, 10);
    const runs = await validSender(port, 2 * SECONDS, phase, pki);
    clearInterval(switcher);
    account(current as 'quiet' | 'hostile');
    const quietRun = runs.get('quiet');
    const hostileRun = runs.get('hostile') ?? { latencies: [], failures: {} };
    const quiet = summary(quietRun);
    const underAttack = summary(hostileRun);
    const report = await new Promise<HostileReport>((resolve) => {
      worker!.once('message', (report) => resolve(report as HostileReport));
      worker!.send('stop');
    });
    clearInterval(sampler);

    const junk = (
      await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages WHERE sender_oin <> $1', [
        oinOf(VALID_BRIN),
      ])
    ).rows[0]!.n;
    const ms = (value: number): string => value.toFixed(1);
    process.stdout.write(
      `\n${SECONDS}s per phase${WINDOW_MS < SECONDS * 1000 ? ` in alternating ${WINDOW_MS / 1000}s windows` : ', quiet first'}, valid sender ${RATE} req/s on one kept-alive connection, ${TLS ? 'mutual TLS' : 'plain HTTP'}, ${os.cpus().length} cores (load average ${os.loadavg()[0]!.toFixed(1)}), node ${process.version}\n\n`,
    );
    process.stdout.write('| phase | valid requests | failed | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|\n');
    process.stdout.write(`| quiet | ${quiet.n} | ${quiet.failed} | ${ms(quiet.p50)} | ${ms(quiet.p99)} |\n`);
    process.stdout.write(
      `| 16 hostile senders | ${underAttack.n} | ${underAttack.failed} | ${ms(underAttack.p50)} | ${ms(underAttack.p99)} |\n\n`,
    );
    if (underAttack.failed > 0)
      process.stdout.write(`valid sender's failures: ${JSON.stringify(hostileRun.failures)}\n`);
    process.stdout.write(`p99 ratio (hostile / quiet): ${(underAttack.p99 / quiet.p99).toFixed(2)} (goal ≤ 2)\n`);
    process.stdout.write(
      `HTTP process RSS: ${rssBefore.toFixed(0)} MB before, ${rssPeak.toFixed(0)} MB at most under attack: +${(rssPeak - rssBefore).toFixed(0)} MB (goal ≤ 100)\n`,
    );
    const share = (part: number[]): string =>
      `broker ${((100 * part[0]!) / (part[2]! / os.cpus().length)).toFixed(0)} % of a core, senders ${((100 * part[3]!) / (part[2]! / os.cpus().length)).toFixed(0)} %, machine ${((100 * part[1]!) / part[2]!).toFixed(0)} % busy`;
    process.stdout.write(`CPU: quiet ${share(usage.quiet)}; hostile ${share(usage.hostile)}\n`);
    process.stdout.write(`rows stored for hostile senders: ${junk} (must be 0)\n\nhostile answers:\n`);
    for (const [name, outcomes] of Object.entries(report.answers))
      process.stdout.write(
        `  ${name}: ${Object.entries(outcomes)
          .map(([o, n]) => `${o} ×${n}`)
          .join(', ')}\n`,
      );
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGTERM');
    broker.kill('SIGTERM');
    await new Promise((resolve) => broker.once('exit', resolve));
    await pool.end();
    await redis.stop();
    await database.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
