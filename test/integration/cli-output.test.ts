/**
 * The CLI writes all of its output before it exits, also into a pipe whose reader is slow (a pipe
 * buffer holds 64 KiB; exiting before it drains cut `errors list --json | wc -c` off there).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { createTestDatabase } from '../support/services.js';

const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
const OIN = '0000000700025BE00000';
const ERROR_ROWS = 300;
const LONG_ERROR = 'connection failed: '.padEnd(2000, 'x'); // 300 of these make ~600 KB of JSON

interface Finished {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Runs the CLI with stdout a file (written synchronously, so never cut off): the output to expect. */
function runIntoFile(args: readonly string[], env: NodeJS.ProcessEnv): Buffer {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bron-cli-out-')), 'stdout');
  const fd = fs.openSync(file, 'w');
  try {
    expect(spawnSync(process.execPath, [CLI, ...args], { env, stdio: ['ignore', fd, 'inherit'] }).status).toBe(0);
  } finally {
    fs.closeSync(fd);
  }
  const written = fs.readFileSync(file);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return written;
}

/** Runs the CLI with stdout a pipe that is left unread for `stallMs`, then read to the end. */
function runWithSlowReader(args: readonly string[], env: NodeJS.ProcessEnv, stallMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.pause();
    setTimeout(() => child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk)).resume(), stallMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(stdout), stderr, code }));
  });
}

describe('bron-broker output into a slow pipe (CLI, real PostgreSQL and Redis)', () => {
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const { createPool } = await import('../../src/infra/database.js');
    const { migrate } = await import('../../src/infra/migrate.js');
    const { insertOutbound } = await import('../../src/store/register.repo.js');
    const { upsertInstitution } = await import('../../src/store/institutions.repo.js');
    env = {
      ...process.env,
      DATABASE_URL: await createTestDatabase(),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: `cliout${Date.now()}`,
    };
    const pool = createPool(env.DATABASE_URL!, 2);
    try {
      await migrate(pool);
      await upsertInstitution(pool, {
        oin: OIN,
        name: 'A',
        brins: ['25BE'],
        endpointUrl: 'http://127.0.0.1:9/x',
        enabled: true,
      });
      const client = await pool.connect();
      try {
        const drafts = Array.from({ length: ERROR_ROWS }, (_, n) => ({
          institutionOin: OIN,
          brin: '25BE',
          operation: 'terugkoppelenInschrijvingVO',
          wsaMessageId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
          documentId: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
          bodyXml: '<x/>',
          causeMessageId: null,
        }));
        const ids = (await insertOutbound(client, drafts)).map((row) => row.id);
        await client.query(
          "UPDATE outbound_messages SET status = 'error', attempts = 4, last_error = $2 WHERE id = ANY($1)",
          [ids, LONG_ERROR],
        );
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });

  test('errors list --json writes every byte and exits 0 although the reader waits before reading', async () => {
    const expected = runIntoFile(['errors', 'list', '--json'], env);
    expect(expected.length).toBeGreaterThan(4 * 64 * 1024);
    const { stdout, stderr, code } = await runWithSlowReader(['errors', 'list', '--json'], env, 300);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.length).toBe(expected.length);
    const listed = JSON.parse(stdout.toString()) as { lastError: string }[];
    expect(listed).toHaveLength(ERROR_ROWS);
    expect(listed.every((e) => e.lastError === LONG_ERROR)).toBe(true);
  });

  test('a reader that closes the pipe early ends the CLI without a stack trace', async () => {
    const child = spawn(process.execPath, [CLI, 'errors', 'list', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy()); // like `| head -c 1`
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
  });
});
