import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createTestDatabase } from '../support/services.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');

describe('bron-broker institution (CLI, real PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = { ...process.env, DATABASE_URL: await createTestDatabase() };
  });

  test('add then list shows the institution with its BRINs and endpoint', async () => {
    await run(process.execPath, [CLI, 'institution', 'add', '--oin', '00000003123456780000', '--name', 'Vendor X', '--brin', '25BE', '--brin', '25BF', '--endpoint', 'http://localhost:9000/las'], { env });
    const { stdout } = await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env });
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({ oin: '00000003123456780000', name: 'Vendor X', brins: ['25BE', '25BF'], endpointUrl: 'http://localhost:9000/las', enabled: true, paused: false, errorQueued: 0 }),
    ]);
    const table = (await run(process.execPath, [CLI, 'institution', 'list'], { env })).stdout;
    expect(table).toMatch(/00000003123456780000\s+25BE,25BF\s+yes\s+no/);
  });

  test('a malformed OIN is refused with a clear message and exit code 1', async () => {
    await expect(run(process.execPath, [CLI, 'institution', 'add', '--oin', '123', '--name', 'x', '--brin', '25BE'], { env }))
      .rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('an OIN is 20 digits or capitals') });
  });
});

describe('bron-broker errors and institution pause/resume (CLI, real PostgreSQL and Redis)', () => {
  let env: NodeJS.ProcessEnv;
  let pool: import('pg').Pool;
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env });

  beforeAll(async () => {
    const { createPool } = await import('../../src/store/database.js');
    const { migrate } = await import('../../src/store/migrate.js');
    const { insertOutbound } = await import('../../src/store/register.repo.js');
    const { upsertInstitution } = await import('../../src/store/institutions.repo.js');
    env = { ...process.env, DATABASE_URL: await createTestDatabase(), REDIS_URL: process.env.TEST_REDIS_URL, QUEUE_PREFIX: `cli${Date.now()}` };
    pool = createPool(env.DATABASE_URL!, 2);
    await migrate(pool);
    await upsertInstitution(pool, { oin: '0000000700025BE00000', name: 'A', brins: ['25BE'], endpointUrl: 'http://127.0.0.1:9/x', enabled: true });
    const client = await pool.connect();
    try {
      const ids = (await insertOutbound(client, [1, 2, 3].map((n) => ({
        institutionOin: '0000000700025BE00000', brin: '25BE', operation: 'terugkoppelenInschrijvingVO', wsaMessageId: `00000000-0000-4000-8000-00000000010${n}`,
        documentId: `00000000-0000-4000-8000-00000000020${n}`, bodyXml: '<x/>', causeMessageId: null,
      })))).map((row) => row.id);
      await client.query("UPDATE outbound_messages SET status = 'error', attempts = 4, last_error = 'connection failed' WHERE id = ANY($1)", [ids]);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await pool.end();
  });

  test('list, dry-run, replay one, purge the rest', async () => {
    const listed = JSON.parse((await cli('errors', 'list', '--json')).stdout) as { id: number; lastError: string }[];
    expect(listed.map((e) => e.lastError)).toEqual(['connection failed', 'connection failed', 'connection failed']);
    expect((await cli('errors', 'replay', '--all', '--dry-run')).stdout).toMatch(/^would replay 3 message/);
    expect((await pool.query("SELECT count(*)::int AS n FROM outbound_messages WHERE status = 'error'")).rows[0].n).toBe(3);
    expect((await cli('errors', 'replay', String(listed[0]!.id))).stdout).toMatch(/^replay 1 message/);
    expect((await cli('errors', 'purge', '--institution', '0000000700025BE00000')).stdout).toMatch(/^purge 2 message/);
    const statuses = (await pool.query('SELECT status FROM outbound_messages ORDER BY id')).rows.map((r) => r.status);
    expect(statuses).toEqual(['pending', 'purged', 'purged']);
    expect((await cli('errors', 'show', String(listed[1]!.id))).stdout).toMatch(/status\s+purged/);
  });

  test('replay without ids or a filter is refused', async () => {
    await expect(cli('errors', 'replay')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--all') });
  });

  test('pause and resume an institution', async () => {
    expect((await cli('institution', 'pause', '0000000700025BE00000')).stdout).toContain('paused');
    expect((await pool.query("SELECT paused FROM institutions WHERE oin = '0000000700025BE00000'")).rows[0].paused).toBe(true);
    expect((await cli('institution', 'resume', '0000000700025BE00000')).stdout).toMatch(/resumed .*; 1 message\(s\) queued/);
  });
});

describe('bron-broker population load (CLI)', () => {
  test('loads valid people and refuses a file with a bad BSN as a whole', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-pop-'));
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify([
      { burgerservicenummer: '123456782', geboorteDatum: '2013-04-17', geslacht: '2', achternaam: 'Jansen', voornamen: 'Anna', binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
      { burgerservicenummer: '111222333', geboorteDatum: '2012-00-00', geslacht: '1', achternaam: 'Bakker' },
    ]));
    expect((await run(process.execPath, [CLI, 'population', 'load', good], { env })).stdout).toBe('loaded 2 person(s)\n');
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify([{ burgerservicenummer: '123456789', geboorteDatum: '2013-04-17', geslacht: '2', achternaam: 'X' }]));
    await expect(run(process.execPath, [CLI, 'population', 'load', bad], { env })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('record 1: burgerservicenummer fails the elfproef') });
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const rows = (await client.query('SELECT bsn, surname, address FROM population_register ORDER BY bsn')).rows;
    await client.end();
    expect(rows).toEqual([
      { bsn: '111222333', surname: 'Bakker', address: null },
      { bsn: '123456782', surname: 'Jansen', address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } } },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bron-broker rio load (CLI)', () => {
  test('makes the file each named vestiging\'s whole set of onderwijslocaties; refuses a bad file as a whole', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-rio-'));
    const write = (name: string, content: unknown): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify(content));
      return file;
    };
    const first = write('first.json', [
      { vestiging: '25BE00', onderwijslocatie: '100X300' },
      { vestiging: '25BE00', onderwijslocatie: '100X302', datumBegin: '2020-08-01', datumEinde: '2026-07-31' },
      { vestiging: '00AH00', onderwijslocatie: '200X300' },
    ]);
    expect((await run(process.execPath, [CLI, 'rio', 'load', first], { env })).stdout).toBe('loaded 3 onderwijslocatie link(s) for 2 vestiging(en)\n');
    // A second file replaces 25BE00's set and leaves 00AH00 alone.
    const second = write('second.json', [{ vestiging: '25BE00', onderwijslocatie: '100X301' }]);
    await run(process.execPath, [CLI, 'rio', 'load', second], { env });
    const bad = write('bad.json', [{ vestiging: '25BE00', onderwijslocatie: '100X303' }, { vestiging: '25be00', onderwijslocatie: '100X300' }]);
    await expect(run(process.execPath, [CLI, 'rio', 'load', bad], { env })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('record 2: vestiging must be a BRIN and two digits') });
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const rows = (await client.query("SELECT vestiging, onderwijslocatie, to_char(datum_einde, 'YYYY-MM-DD') AS einde FROM rio_onderwijslocaties ORDER BY vestiging, onderwijslocatie")).rows;
    await client.end();
    expect(rows).toEqual([
      { vestiging: '00AH00', onderwijslocatie: '200X300', einde: null },
      { vestiging: '25BE00', onderwijslocatie: '100X301', einde: null },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000); // three CLI processes, each starting node and migrating: slow on a loaded machine
});
