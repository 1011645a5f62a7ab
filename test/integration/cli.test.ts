import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { migrateDatabase } from '../support/broker.js';
import { createTestDatabase } from '../support/services.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');

describe('bron-broker institution (CLI, real PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    // Development: the tests' endpoints are on loopback, over plain http.
    env = { ...process.env, DATABASE_URL: await createTestDatabase(), BROKER_PROFILE: 'development' };
    await migrateDatabase(env.DATABASE_URL!); // what the broker's start does; the CLI never migrates
  });

  test('an unmigrated database: one line saying to start the broker, exit 1, and the database left as it was', async () => {
    const url = await createTestDatabase();
    const failed = await run(process.execPath, [CLI, 'institution', 'list'], {
      env: { ...process.env, DATABASE_URL: url },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    const lines = failed!.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^the database at \S+ lacks \d+ migration\(s\) \(1, 2, .*\); start the broker once \(any ROLE\): it migrates at start, the CLI never does$/,
    );
    const { createPool } = await import('../../src/infra/database.js');
    const pool = createPool(url, 1);
    try {
      expect((await pool.query("SELECT to_regclass('schema_migrations') AS t")).rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });

  test('an embedded database no broker runs on: the CLI warns that it started it, then says to start the broker', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const { freePort } = await import('../../src/infra/services/process-tools.js');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-cli-empty-'));
    fs.chmodSync(dataDir, 0o755); // the postgres system user must reach its data folder
    const cliEnv: NodeJS.ProcessEnv = {
      ...process.env,
      BROKER_DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
    };
    delete cliEnv.DATABASE_URL;
    try {
      const failed = await run(process.execPath, [CLI, 'institution', 'list'], { env: cliEnv }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed!.stderr).toContain(
        `warning: no broker is running on the embedded PostgreSQL in ${path.join(dataDir, 'pg')}; started it for this command only`,
      );
      expect(failed!.stderr).toMatch(/lacks \d+ migration\(s\)/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test('add then list shows the institution with its BRINs and endpoint', async () => {
    await run(
      process.execPath,
      [
        CLI,
        'institution',
        'add',
        '--oin',
        '00000003123456780000',
        '--name',
        'Vendor X',
        '--brin',
        '25BE',
        '--brin',
        '25BF',
        '--endpoint',
        'http://localhost:9000/las',
      ],
      { env },
    );
    const { stdout } = await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env });
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({
        oin: '00000003123456780000',
        name: 'Vendor X',
        brins: ['25BE', '25BF'],
        endpointUrl: 'http://localhost:9000/las',
        enabled: true,
        paused: false,
        errorQueued: 0,
      }),
    ]);
    const table = (await run(process.execPath, [CLI, 'institution', 'list'], { env })).stdout;
    expect(table).toMatch(/00000003123456780000\s+25BE,25BF\s+yes\s+no/);
  });

  test('institution update turns the check of receipt signatures on and off; add keeps it unless told', async () => {
    const oin = '00000003123456780000'; // added by the test above
    const show = async () =>
      JSON.parse((await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env })).stdout).find(
        (i: { oin: string }) => i.oin === oin,
      ).verifyReceiptSignature;
    expect(await show()).toBe(false);
    const on = await run(process.execPath, [CLI, 'institution', 'update', oin, '--verify-receipt-signature'], { env });
    expect(on.stdout).toBe(`${oin}: receipt signatures checked\n`);
    expect(await show()).toBe(true);
    const addAgain = ['institution', 'add', '--oin', oin, '--name', 'Vendor X', '--brin', '25BE', '--brin', '25BF'];
    await run(process.execPath, [CLI, ...addAgain], { env });
    expect(await show()).toBe(true);
    await run(process.execPath, [CLI, ...addAgain, '--no-verify-receipt-signature'], { env });
    expect(await show()).toBe(false);
    const nothing = await run(process.execPath, [CLI, 'institution', 'update', oin], { env }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(nothing?.stderr).toContain('--verify-receipt-signature or --no-verify-receipt-signature');
  });

  test('a BRIN another institution serves is refused, naming it and --also; with --also it is added as a further administration', async () => {
    const add = (...more: string[]) =>
      run(
        process.execPath,
        [CLI, 'institution', 'add', '--oin', '00000003999999990000', '--name', 'Vendor Y', '--brin', '25BF', ...more],
        { env },
      );
    const refused = add().then(
      () => 'saved',
      (error: { code: number; stderr: string }) => error,
    );
    expect(await refused).toMatchObject({ code: 1 });
    const { stderr } = (await refused) as { stderr: string };
    expect(stderr).toContain('25BF by 00000003123456780000 (Vendor X)');
    expect(stderr).toContain('repeat with --also');
    const listed = async () =>
      (
        JSON.parse((await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env })).stdout) as {
          oin: string;
          brins: string[];
        }[]
      ).map((i) => `${i.oin} ${i.brins.join(',')}`);
    expect(await listed()).toEqual(['00000003123456780000 25BE,25BF']);

    expect((await add('--also')).stdout).toBe('saved 00000003999999990000 Vendor Y (25BF)\n');
    expect(await listed()).toEqual(['00000003123456780000 25BE,25BF', '00000003999999990000 25BF']);
    // Replacing an institution by its own OIN needs no --also for BRINs only it serves.
    await run(
      process.execPath,
      [CLI, 'institution', 'add', '--oin', '00000003123456780000', '--name', 'Vendor X', '--brin', '25BE'],
      { env },
    );
    expect(await listed()).toEqual(['00000003123456780000 25BE', '00000003999999990000 25BF']);
  });

  test('in production an endpoint must be https and public: refused with the flag and the rule, exit 1, nothing stored', async () => {
    const production = { ...env, BROKER_PROFILE: 'production' };
    const add = (endpoint: string) =>
      run(
        process.execPath,
        [
          CLI,
          'institution',
          'add',
          '--oin',
          '00000003777777770000',
          '--name',
          'Vendor Z',
          '--brin',
          '77ZA',
          '--endpoint',
          endpoint,
        ],
        { env: production },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    expect(await add('http://las.example/bron')).toMatchObject({
      code: 1,
      stderr: '--endpoint: must use https:// (plain http:// is allowed only with ALLOW_HTTP_ENDPOINTS=true)\n',
    });
    expect(await add('https://127.0.0.1:9000/las')).toMatchObject({
      code: 1,
      stderr: '--endpoint: must not be a loopback address (allowed only with ALLOW_LOOPBACK_ENDPOINTS=true)\n',
    });
    expect(await add('https://u:p@las.example/bron')).toMatchObject({
      code: 1,
      stderr: '--endpoint: must not contain credentials (user:password@)\n',
    });
    const { stdout } = await run(process.execPath, [CLI, 'institution', 'list', '--json'], { env });
    expect((JSON.parse(stdout) as { oin: string }[]).map((i) => i.oin)).not.toContain('00000003777777770000');
    expect(await add('HTTPS://LAS.example/a/../bron')).toMatchObject({ code: 0 });
    const added = JSON.parse(
      (await run(process.execPath, [CLI, 'institution', 'show', '00000003777777770000', '--json'], { env })).stdout,
    ) as { institution: { endpointUrl: string } };
    expect(added.institution.endpointUrl).toBe('https://las.example/bron');
  });

  test('a malformed OIN is refused with a clear message and exit code 1', async () => {
    await expect(
      run(process.execPath, [CLI, 'institution', 'add', '--oin', '123', '--name', 'x', '--brin', '25BE'], { env }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('an OIN is 20 digits or capitals') });
  });
});

describe("the README's institution examples, followed literally on a demo install", () => {
  test('each runs; only the one with --also shares a demo BRIN, and it is refused without --also', async () => {
    const { createPool } = await import('../../src/infra/database.js');
    const { migrate } = await import('../../src/infra/migrate.js');
    const { seedDemoInstitutions } = await import('../../src/demo-seed.js');
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    const pool = createPool(env.DATABASE_URL, 1);
    try {
      await migrate(pool);
      await seedDemoInstitutions(pool);
      const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
      const examples = [...readme.matchAll(/^npx bron-broker (institution add .*)$/gm)].map((line) =>
        [...line[1]!.matchAll(/"([^"]*)"|(\S+)/g)].map((token) => token[1] ?? token[2]!),
      );
      expect(examples.map((args) => args.includes('--also'))).toEqual([false, true]);
      const withoutAlso = examples[1]!.filter((arg) => arg !== '--also');
      await expect(run(process.execPath, [CLI, ...withoutAlso], { env })).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('0000000700025BE00000 (Demo VO-school 25BE)'),
      });
      for (const args of examples) await run(process.execPath, [CLI, ...args], { env });
      const rows = await pool.query<{ oin: string; brins: string[] }>(
        "SELECT oin, brins FROM institutions WHERE '25BE' = ANY (brins) ORDER BY oin",
      );
      // The demo school keeps 25BE: the vendor is a further administration, not its replacement.
      expect(rows.rows.map((r) => r.oin)).toEqual(['00000003123456780001', '0000000700025BE00000']);
    } finally {
      await pool.end();
    }
  });
});

describe('bron-broker errors and institution pause/resume (CLI, real PostgreSQL and Redis)', () => {
  let env: NodeJS.ProcessEnv;
  let pool: import('pg').Pool;
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env });

  beforeAll(async () => {
    const { createPool } = await import('../../src/infra/database.js');
    const { migrate } = await import('../../src/infra/migrate.js');
    const { insertOutbound } = await import('../../src/store/register.repo.js');
    const { upsertInstitution } = await import('../../src/store/institutions.repo.js');
    env = {
      ...process.env,
      DATABASE_URL: await createTestDatabase(),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: `cli${Date.now()}`,
    };
    pool = createPool(env.DATABASE_URL!, 2);
    await migrate(pool);
    await upsertInstitution(pool, {
      oin: '0000000700025BE00000',
      name: 'A',
      brins: ['25BE'],
      endpointUrl: 'http://127.0.0.1:9/x',
      enabled: true,
    });
    const client = await pool.connect();
    try {
      const ids = (
        await insertOutbound(
          client,
          [1, 2, 3].map((n) => ({
            institutionOin: '0000000700025BE00000',
            brin: '25BE',
            operation: 'terugkoppelenInschrijvingVO',
            wsaMessageId: `00000000-0000-4000-8000-00000000010${n}`,
            documentId: `00000000-0000-4000-8000-00000000020${n}`,
            bodyXml: '<x/>',
            causeMessageId: null,
          })),
        )
      ).map((row) => row.id);
      await client.query(
        "UPDATE outbound_messages SET status = 'error', attempts = 4, last_error = 'connection failed' WHERE id = ANY($1)",
        [ids],
      );
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
    expect(
      (await pool.query("SELECT count(*)::int AS n FROM outbound_messages WHERE status = 'error'")).rows[0].n,
    ).toBe(3);
    expect((await cli('errors', 'replay', String(listed[0]!.id))).stdout).toMatch(/^replay 1 message/);
    expect((await cli('errors', 'purge', '--institution', '0000000700025BE00000')).stdout).toMatch(/^purge 2 message/);
    const statuses = (await pool.query('SELECT status FROM outbound_messages ORDER BY id')).rows.map((r) => r.status);
    expect(statuses).toEqual(['pending', 'purged', 'purged']);
    const shown = (await cli('errors', 'show', String(listed[1]!.id))).stdout;
    expect(shown).toMatch(/^status\s+purged$/m);
    // Labels and times as the other commands print them, not column names and ISO strings.
    expect(shown).toMatch(/^institution\s+0000000700025BE00000$/m);
    expect(shown).toMatch(/^created\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/m);
    expect(shown).not.toMatch(/institution_oin|wsa_message_id|\dT\d{2}:\d{2}/);
  });

  test('replay without ids or a filter is refused', async () => {
    await expect(cli('errors', 'replay')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--all') });
  });

  test('pause and resume an institution', async () => {
    expect((await cli('institution', 'pause', '0000000700025BE00000')).stdout).toContain('paused');
    expect(
      (await pool.query("SELECT paused FROM institutions WHERE oin = '0000000700025BE00000'")).rows[0].paused,
    ).toBe(true);
    expect((await cli('institution', 'resume', '0000000700025BE00000')).stdout).toMatch(
      /resumed .*; 1 message\(s\) queued/,
    );
  });
});

describe('bron-broker population load (CLI)', () => {
  test('loads valid people, with their first enrolment at a PO or VO school when known, and refuses a bad file as a whole', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    await migrateDatabase(env.DATABASE_URL);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-pop-'));
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(
      good,
      JSON.stringify([
        {
          burgerservicenummer: '123456782',
          geboorteDatum: '2013-04-17',
          geslacht: '2',
          achternaam: 'Jansen',
          voornamen: 'Anna',
          binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' },
          datumEersteInschrijvingPoVo: '2017-08-21',
        },
        { burgerservicenummer: '111222333', geboorteDatum: '2012-00-00', geslacht: '1', achternaam: 'Bakker' },
      ]),
    );
    expect((await run(process.execPath, [CLI, 'population', 'load', good], { env })).stdout).toBe(
      'loaded 2 person(s)\n',
    );
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(
      bad,
      JSON.stringify([
        { burgerservicenummer: '123456789', geboorteDatum: '2013-04-17', geslacht: '2', achternaam: 'X' },
      ]),
    );
    await expect(run(process.execPath, [CLI, 'population', 'load', bad], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('record 1: burgerservicenummer fails the elfproef'),
    });
    const badDate = path.join(dir, 'bad-date.json');
    for (const day of ['2017-13-01', '2017-02-30', '2017-08']) {
      fs.writeFileSync(
        badDate,
        JSON.stringify([
          {
            burgerservicenummer: '222333455',
            geboorteDatum: '2013-04-17',
            geslacht: '2',
            achternaam: 'X',
            datumEersteInschrijvingPoVo: day,
          },
        ]),
      );
      await expect(run(process.execPath, [CLI, 'population', 'load', badDate], { env })).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('record 1: datumEersteInschrijvingPoVo must be a date YYYY-MM-DD'),
      });
    }
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const rows = (
      await client.query(
        "SELECT bsn, surname, address, to_char(first_enrolment_po_vo, 'YYYY-MM-DD') AS first FROM population_register ORDER BY bsn",
      )
    ).rows;
    await client.end();
    expect(rows).toEqual([
      { bsn: '111222333', surname: 'Bakker', address: null, first: null },
      {
        bsn: '123456782',
        surname: 'Jansen',
        address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
        first: '2017-08-21',
      },
    ]);
    // The load is audited (the refused file changed nothing, so it is not); no BSN in the audit.
    const audit = JSON.parse((await run(process.execPath, [CLI, 'audit', '--json'], { env })).stdout) as {
      action: string;
      target: unknown;
      affected: number;
    }[];
    expect(audit.map((a) => [a.action, a.target, a.affected])).toEqual([['population.load', { file: 'good.json' }, 2]]);
    expect(JSON.stringify(audit)).not.toMatch(/123456782|111222333/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bron-broker rio load (CLI)', () => {
  test("makes the file each named vestiging's whole set of onderwijslocaties; refuses a bad file as a whole", async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const env = { ...process.env, DATABASE_URL: await createTestDatabase() };
    await migrateDatabase(env.DATABASE_URL); // what the broker's start does; the CLI never migrates
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
    expect((await run(process.execPath, [CLI, 'rio', 'load', first], { env })).stdout).toBe(
      'loaded 3 onderwijslocatie link(s) for 2 vestiging(en)\n',
    );
    // A second file replaces 25BE00's set and leaves 00AH00 alone.
    const second = write('second.json', [{ vestiging: '25BE00', onderwijslocatie: '100X301' }]);
    await run(process.execPath, [CLI, 'rio', 'load', second], { env });
    const bad = write('bad.json', [
      { vestiging: '25BE00', onderwijslocatie: '100X303' },
      { vestiging: '25be00', onderwijslocatie: '100X300' },
    ]);
    await expect(run(process.execPath, [CLI, 'rio', 'load', bad], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('record 2: vestiging must be a BRIN and two digits'),
    });
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    const rows = (
      await client.query(
        "SELECT vestiging, onderwijslocatie, to_char(datum_einde, 'YYYY-MM-DD') AS einde FROM rio_onderwijslocaties ORDER BY vestiging, onderwijslocatie",
      )
    ).rows;
    await client.end();
    expect(rows).toEqual([
      { vestiging: '00AH00', onderwijslocatie: '200X300', einde: null },
      { vestiging: '25BE00', onderwijslocatie: '100X301', einde: null },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000); // three CLI processes, each starting node and migrating: slow on a loaded machine
});
