/**
 * One way to run each role (ROLE): each is started as an operator starts it (dist/src/main.js) and does
 * what its role says. http answers and accepts but neither processes nor delivers; pipeline processes
 * and delivers what http accepted and listens on no port; all does both on its own. Every start
 * migrates the database before anything uses it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { listMigrations } from '../../src/infra/migrate.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { freePort } from '../../src/infra/services/process-tools.js';
import { PIPELINE_READY_LINE } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { waitFor } from '../support/broker.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { createTestDatabase } from '../support/services.js';
import { bodyFixture, elementText, lasRequest, OIN_25BE, send } from '../support/soap.js';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
const HTTP_READY = 'Admin dashboard:';

interface Started {
  readonly child: ChildProcess;
  output(): string;
}

const children: ChildProcess[] = [];

/** Starts main.js with `env` and resolves once it printed `ready` (rejects if it exits first). */
function startRole(env: NodeJS.ProcessEnv, ready: string): Promise<Started> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-roles-'));
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      BROKER_DATA_DIR: dataDir,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      // Production profile (a named database): the test's endpoints are on loopback, which deliveries re-check.
      ALLOW_LOOPBACK_ENDPOINTS: 'true',
      ...TEST_SECRETS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const started: Started = { child, output: () => output };
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve(started);
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${env.ROLE ?? 'all'} exited ${code}: ${output.slice(-2000)}`)));
  });
}

async function stop(started: Started): Promise<number | null> {
  if (started.child.exitCode !== null) return started.child.exitCode;
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGTERM');
  return exited;
}

/** TCP ports a process listens on: its socket inodes found among the LISTEN rows of /proc/net/tcp{,6}. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length > 9 && cols[3] === '0A' && inodes.has(cols[9]!))
        ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

const count = async (pool: Pool, sql: string): Promise<number> => (await pool.query<{ n: number }>(sql)).rows[0]!.n;

async function enrolment(baseUrl: string, volgnummer: string): Promise<string | undefined> {
  const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, volgnummer);
  const answer = await send(baseUrl, lasRequest('aanleverenInschrijvingVO', body));
  return elementText(answer.text, 'ontvangstBevestiging');
}

describe('roles', () => {
  let endpoints: TestEndpoints;

  /** An empty database: the role started first migrates it. */
  async function freshDatabase(): Promise<{ url: string; pool: Pool }> {
    const url = await createTestDatabase();
    return { url, pool: createPool(url, 2) };
  }

  /** The one school, 25BE, pushing to the test endpoints, and the pupils its messages name. */
  async function addSchool(pool: Pool): Promise<void> {
    await seedDemoPopulation(pool);
    await upsertInstitution(pool, {
      oin: OIN_25BE,
      name: 'School 25BE',
      brins: ['25BE'],
      endpointUrl: endpoints.url('25BE'),
      enabled: true,
    });
  }

  const terugkoppelingen = (volgnummer: string): number =>
    endpoints
      .received('25BE')
      .filter((r) => r.xml.includes('terugkoppelenInschrijvingVO') && r.xml.includes(volgnummer)).length;

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await endpoints.close();
  });

  test('ROLE=http accepts without processing; ROLE=pipeline, listening nowhere, processes and delivers it', async () => {
    const { url, pool } = await freshDatabase();
    try {
      const port = await freePort();
      const shared = {
        DATABASE_URL: url,
        REDIS_URL: process.env.TEST_REDIS_URL!,
        QUEUE_PREFIX: `roles${randomBytes(4).toString('hex')}`,
        SWEEP_INTERVAL_MS: '200',
        SWEEP_GRACE_MS: '300',
      };
      const http = await startRole({ ...shared, ROLE: 'http', PORT: String(port), HOST: '127.0.0.1' }, HTTP_READY);
      const baseUrl = `http://127.0.0.1:${port}`;
      // The http role's start migrated the empty database, every migration.
      expect(await count(pool, 'SELECT count(*)::int AS n FROM schema_migrations')).toBe(listMigrations().length);
      await addSchool(pool);
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect(listeningPorts(http.child.pid!)).toContain(port);

      // The registry reloads institutions within seconds; until then the school is unknown.
      const accepted = await waitFor(
        () => enrolment(baseUrl, 'ROLE-H-1'),
        (answer) => answer === 'J',
        10_000,
      );
      expect(accepted).toBe('J');
      // Several sweeps later the message still waits: nothing in this role processes.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await count(pool, 'SELECT count(*)::int AS n FROM processing_results')).toBe(0);
      expect(await count(pool, 'SELECT count(*)::int AS n FROM processing_outbox')).toBe(1);

      const pipeline = await startRole({ ...shared, ROLE: 'pipeline' }, PIPELINE_READY_LINE);
      expect(listeningPorts(pipeline.child.pid!)).toEqual([]);
      expect(
        await waitFor(
          async () => terugkoppelingen('ROLE-H-1'),
          (n) => n >= 1,
          20_000,
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(await count(pool, "SELECT count(*)::int AS n FROM processing_results WHERE outcome = 'approved'")).toBe(1);
      expect(listeningPorts(pipeline.child.pid!)).toEqual([]);

      expect(await stop(pipeline)).toBe(0);
      expect(await stop(http)).toBe(0);
    } finally {
      await pool.end();
    }
  }, 90_000);

  test('without DATA_KEYS, allowed in development only, the start says in one line that messages are kept in plain text', async () => {
    const { url, pool } = await freshDatabase();
    try {
      const http = await startRole(
        {
          ROLE: 'http',
          BROKER_PROFILE: 'development',
          DATA_KEYS: '',
          DATABASE_URL: url,
          REDIS_URL: process.env.TEST_REDIS_URL!,
          QUEUE_PREFIX: `roles${randomBytes(4).toString('hex')}`,
          PORT: String(await freePort()),
          HOST: '127.0.0.1',
        },
        HTTP_READY,
      );
      const lines = http
        .output()
        .split('\n')
        .filter((line) => line.includes('DATA_KEYS unset'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 'warn',
        message: 'DATA_KEYS unset: stored messages are kept in plain text; for development only (docs/security.md)',
      });
      expect(await stop(http)).toBe(0);
    } finally {
      await pool.end();
    }
  }, 60_000);

  test('ROLE=pipeline started first migrates the database itself', async () => {
    const { url, pool } = await freshDatabase();
    try {
      const pipeline = await startRole(
        {
          ROLE: 'pipeline',
          DATABASE_URL: url,
          REDIS_URL: process.env.TEST_REDIS_URL!,
          QUEUE_PREFIX: `roles${randomBytes(4).toString('hex')}`,
        },
        PIPELINE_READY_LINE,
      );
      expect(await count(pool, 'SELECT count(*)::int AS n FROM schema_migrations')).toBe(listMigrations().length);
      expect(await stop(pipeline)).toBe(0);
    } finally {
      await pool.end();
    }
  }, 60_000);

  test('ROLE=all (the default) answers, accepts, processes and delivers on its own', async () => {
    const { url, pool } = await freshDatabase();
    try {
      const port = await freePort();
      const all = await startRole(
        {
          DATABASE_URL: url,
          REDIS_URL: process.env.TEST_REDIS_URL!,
          QUEUE_PREFIX: `roles${randomBytes(4).toString('hex')}`,
          PORT: String(port),
          HOST: '127.0.0.1',
        },
        HTTP_READY,
      );
      await addSchool(pool);
      const baseUrl = `http://127.0.0.1:${port}`;
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect(
        await waitFor(
          () => enrolment(baseUrl, 'ROLE-A-1'),
          (answer) => answer === 'J',
          10_000,
        ),
      ).toBe('J');
      expect(
        await waitFor(
          async () => terugkoppelingen('ROLE-A-1'),
          (n) => n >= 1,
          20_000,
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(await stop(all)).toBe(0);
    } finally {
      await pool.end();
    }
  }, 90_000);

  test.each([['workers'], ['HTTP']])(
    'ROLE=%s: refused at start with a line naming the roles, exit 1',
    async (role) => {
      const failed = await startRole(
        { ROLE: role, DATABASE_URL: 'postgres://127.0.0.1:9/none', REDIS_URL: 'redis://127.0.0.1:9' },
        HTTP_READY,
      ).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failed?.message).toContain(
        `exited 1: invalid configuration:\n  - ROLE must be all, http, pipeline or unset (all), got '${role}'`,
      );
    },
    30_000,
  );
});
