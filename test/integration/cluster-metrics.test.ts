/**
 * With HTTP_PROCESSES=2 the kernel spreads requests and scrapes over two processes; every scrape must
 * still count the whole cluster's requests (the primary aggregates the workers' registries).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { freePort } from '../../src/infra/services/process-tools.js';
import { waitFor } from '../support/broker.js';
import { sample } from '../support/metrics-text.js';
import { createTestDatabase } from '../support/services.js';
import { bodyFixture, lasRequest } from '../support/soap.js';

/** One request on its own connection, so the cluster's round robin sees every request. */
function request(
  port: number,
  method: string,
  pathname: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: pathname, agent: false, headers: { connection: 'close', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('metrics in a cluster of HTTP workers', () => {
  let child: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HTTP_PROCESSES: '2',
      DATABASE_URL: await createTestDatabase(),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: `cm${Date.now()}`,
      LOG_LEVEL: 'error',
      BROKER_PROFILE: 'development', // the demo school 25BE sends the test's messages
    };
    child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'src', 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Admin dashboard:')) resolve();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`broker exited ${code}: ${output.slice(-1000)}`)));
    });
  });
  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child!.once('exit', () => resolve());
      child!.kill('SIGTERM');
    });
  });

  test('every scrape, whichever worker answers it, counts all requests of both workers', async () => {
    const sent = 6;
    for (let i = 0; i < sent; i++) {
      const req = lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, `C-${i}`),
      );
      const answer = await request(port, 'POST', req.path, req.xml, {
        'content-type': 'text/xml; charset=UTF-8',
        soapaction: req.soapAction,
      });
      expect(answer.status).toBe(200);
    }
    // The pipeline process may still be starting (the HTTP processes were waited for): until it answers
    // the primary's collection, a scrape fails. Once it has, every scrape must succeed.
    await waitFor(
      () => request(port, 'GET', '/metrics'),
      (scrape) => scrape.status === 200,
      20_000,
    );
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const scrape = await request(port, 'GET', '/metrics');
      expect(scrape.status).toBe(200);
      counts.push(sample(scrape.text, 'bron_inbound_requests_total', { outcome: 'accepted' }));
      // Gauges read from PostgreSQL are the same in every worker: aggregated with max, not summed.
      expect(sample(scrape.text, 'bron_store_up')).toBe(1);
    }
    expect(counts).toEqual([sent, sent, sent, sent]);
  });
});
