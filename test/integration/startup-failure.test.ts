/**
 * A broker that cannot start says why in one line and exits non-zero. Before, a port in use made the
 * primary restart its HTTP process forever (39 times a minute, each with a stack trace).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { freePort } from '../../src/infra/services/process-tools.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { createTestDatabase } from '../support/services.js';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function startBroker(env: NodeJS.ProcessEnv, limitMs = 40_000): Promise<Exit> {
  return new Promise((resolve) => {
    const began = Date.now();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-startup-'));
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        BROKER_DATA_DIR: dataDir,
        SEED_DEMO: 'false',
        LOG_LEVEL: 'warn',
        DATA_KEYS: TEST_SECRETS.DATA_KEYS, // production (a named database) requires one
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Still running at the limit: a restart loop (or a hang); stop it and report what it printed.
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, ms: Date.now() - began });
    });
  });
}

const nonEmptyLines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('start-up failures', () => {
  let occupied: net.Server;
  let port: number;
  let databaseUrl: string;

  beforeAll(async () => {
    port = await freePort();
    occupied = net.createServer().listen(port, '0.0.0.0');
    await new Promise((resolve) => occupied.once('listening', resolve));
    databaseUrl = await createTestDatabase();
  });
  afterAll(() => new Promise<void>((resolve) => occupied.close(() => resolve())));

  test.each([
    ['ROLE=all: an HTTP process and a pipeline process (the default)', {}],
    ['ROLE=all with two HTTP processes', { HTTP_PROCESSES: '2' }],
    ['ROLE=http: one process', { ROLE: 'http' }],
    ['ROLE=http with two HTTP processes', { ROLE: 'http', HTTP_PROCESSES: '2' }],
  ])('a port in use, with %s: one line, exit 1, no restarts', async (_name, topology) => {
    const exit = await startBroker({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      ...topology,
    });
    expect(exit.code).toBe(1);
    expect(nonEmptyLines(exit.stderr)).toEqual([
      `bron-broker cannot start: port ${port} on 0.0.0.0 is already in use; stop what listens there or set PORT to a free port`,
    ]);
    expect(exit.stdout).not.toMatch(/starting a new one/);
  });

  test('the demo asked for in production, with its plain-http endpoint not allowed: one line naming the setting and the rule', async () => {
    const exit = await startBroker({
      PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      SEED_DEMO: 'true',
    });
    expect(exit.code).toBe(1);
    expect(nonEmptyLines(exit.stderr)).toEqual([
      'bron-broker cannot start: SEED_DEMO is on, but DEMO_BASE_URL: must use https:// (plain http:// is allowed only with ALLOW_HTTP_ENDPOINTS=true)',
    ]);
  });

  test('production without DATA_KEYS: the configuration error names it, exit 1, nothing started', async () => {
    const exit = await startBroker({
      PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      DATA_KEYS: '',
    });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('DATA_KEYS must be set in the production profile');
    expect(exit.stderr).not.toContain(TEST_SECRETS.DATA_KEYS.split(':')[1]!);
  });

  test('PostgreSQL unreachable: one line naming the address, never the password', async () => {
    const deadPort = await freePort();
    const exit = await startBroker({
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://broker:s3cret-pw@127.0.0.1:${deadPort}/bron`,
      REDIS_URL: process.env.TEST_REDIS_URL!,
    });
    expect(exit.code).toBe(1);
    const lines = nonEmptyLines(exit.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^bron-broker cannot start: PostgreSQL at 127\\.0\\.0\\.1:${deadPort} cannot be used: .*ECONNREFUSED.* \\(check DATABASE_URL\\)$`,
      ),
    );
    expect(exit.stderr + exit.stdout).not.toContain('s3cret-pw');
  });
});
