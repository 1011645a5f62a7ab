/**
 * bench:accept — sustained load on the full accept path (gate, envelope rules, XSD, group commit,
 * receipt, enqueue) against real PostgreSQL and Redis, with a bare node:http server and a node-soap
 * service as reference points. Each target runs in its own process; autocannon runs here.
 *
 * Environment: BENCH_SECONDS (30), BENCH_CONNECTIONS (64); HTTP_PROCESSES etc. pass through to the broker.
 * The broker runs as ROLE=http, without processing and delivery: this measures accepting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { PROJECT_ROOT } from '../src/infra/paths.js';
import { startEmbeddedPostgres } from '../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../src/infra/services/local-redis.js';
import { freePort } from '../src/infra/services/process-tools.js';
import { bodyFixture, lasRequest } from '../test/support/soap.js';
import { waitUntilHealthy } from './bench-support.js';
import { sampleCpu } from './process-cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const CONTRACT = 'DUO_VOAanlevering_InschrijvingVO_V1';
const ACTION = `http://duo.nl/contract/${CONTRACT}/aanleverenInschrijvingVO`;
const DOCUMENT_ID = '11111111-1111-4111-8111-111111111111';
const MESSAGE_ID = '22222222-2222-4222-8222-222222222222';
// The valid fixture as a LAS sends it (about 3 KB), split around its two ids so each request is a
// cheap concatenation with fresh ones (the load generator shares the machine's two cores).
const [HEAD, MIDDLE, TAIL] = (() => {
  const xml = lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', DOCUMENT_ID), {
    messageId: `urn:uuid:${MESSAGE_ID}`,
  }).xml;
  const [head, rest] = xml.split(MESSAGE_ID) as [string, string];
  const [middle, tail] = rest.split(DOCUMENT_ID) as [string, string];
  return [head, middle, tail];
})();

function requestBody(): string {
  return HEAD + randomUUID() + MIDDLE + randomUUID() + TAIL;
}

async function waitForOutput(child: ChildProcess, marker: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(marker)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`target exited (${code}): ${output.slice(-2000)}`)));
  });
}

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function load(name: string, url: string): Promise<Result> {
  const cpu0 = process.cpuUsage();
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: `"${ACTION}"` },
    requests: [{ setupRequest: (request) => ({ ...request, body: requestBody() }) }],
  });
  const cpu = process.cpuUsage(cpu0);
  process.stderr.write(
    `${name}: load generator CPU ${((cpu.user + cpu.system) / result.requests.total).toFixed(0)} µs/request\n`,
  );
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-bench-'));
  fs.chmodSync(dir, 0o755);
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const database = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'bench',
    log,
  });
  const redis = await startLocalRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), log });
  const results: Result[] = [];
  let cpuLine = '';
  try {
    const brokerPort = await freePort();
    // The broker logs to a file, as it would in production; the bench must not pay for reading it.
    const logFile = fs.openSync(path.join(dir, 'broker.log'), 'w');
    // Development profile: SEED_DEMO's endpoints are this broker's plain-http loopback demo receiver.
    const broker = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
        path.join(PROJECT_ROOT, 'dist/src/main.js'),
      ],
      {
        env: {
          ...process.env,
          PORT: String(brokerPort),
          HOST: '127.0.0.1',
          DATABASE_URL: database.url,
          REDIS_URL: redis.url,
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
          SEED_DEMO: 'true',
          BROKER_PROFILE: 'development',
          ROLE: 'http',
          // Every connection is one sender's from one address: the bench measures throughput, not the caps.
          MAX_IN_FLIGHT_PER_SENDER: process.env.MAX_IN_FLIGHT_PER_SENDER ?? String(Math.max(32, CONNECTIONS)),
          MAX_CONNECTIONS_PER_IP: process.env.MAX_CONNECTIONS_PER_IP ?? String(Math.max(64, CONNECTIONS + 8)),
        },
        stdio: ['ignore', logFile, logFile],
      },
    );
    await waitUntilHealthy(`http://127.0.0.1:${brokerPort}/healthz`, broker);
    await load('warm-up', `http://127.0.0.1:${brokerPort}/vo-webservices/${CONTRACT}`).catch(() => undefined);
    const cpuBefore = sampleCpu(broker.pid!);
    const measured = await load(
      'bron-broker full accept path',
      `http://127.0.0.1:${brokerPort}/vo-webservices/${CONTRACT}`,
    );
    const cpuAfter = sampleCpu(broker.pid!);
    results.push(measured);
    const perMessage = (key: 'broker' | 'postgres' | 'redis'): string =>
      (((cpuAfter[key] - cpuBefore[key]) * 1e6) / measured.total).toFixed(0);
    cpuLine = `CPU per accepted message: broker ${perMessage('broker')} µs, PostgreSQL ${perMessage('postgres')} µs, Redis ${perMessage('redis')} µs (${measured.total} messages)`;
    await stop(broker);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const stored = (await client.query<{ n: string }>('SELECT count(*) AS n FROM inbound_messages')).rows[0]!.n;
    await client.end();
    process.stdout.write(`messages stored durably: ${stored}\n`);

    for (const mode of ['bare', 'node-soap'] as const) {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [path.join(PROJECT_ROOT, 'dist/bench/reference-servers.js'), mode, String(port)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      await waitForOutput(child, 'ready');
      results.push(
        await load(
          mode === 'bare' ? 'bare node:http (no XML)' : 'node-soap echo (no store)',
          `http://127.0.0.1:${port}/vo-webservices/${CONTRACT}`,
        ),
      );
      await stop(child);
    }
  } finally {
    await redis.stop();
    await database.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const broker = results[0]!;
  process.stdout.write(
    `\n${SECONDS}s, ${CONNECTIONS} connections, ${os.cpus().length} cores, node ${process.version}\n\n`,
  );
  process.stdout.write('| target | req/s | p50 ms | p99 ms | non-2xx | errors |\n|---|---:|---:|---:|---:|---:|\n');
  for (const r of results)
    process.stdout.write(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |\n`);
  process.stdout.write(`\n${cpuLine}\n`);
  for (const r of results.slice(1)) process.stdout.write(`\nbroker / ${r.name}: ${(broker.rps / r.rps).toFixed(2)}`);
  process.stdout.write('\n');
  if (broker.non2xx > 0 || broker.errors > 0) {
    process.stderr.write('the broker refused or dropped requests: these numbers do not measure the accept path\n');
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
