/**
 * The quality checks' operator surfaces against a running broker and pipeline: the admin API (read
 * token lists, operator token runs, audited, 409 while a run is under way), the CLI on the same
 * database, and the dashboard's Quality view in a headless browser. Each school receives its report.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { dutchDate } from '../../src/register/calendar.js';
import type { EnrolmentStand } from '../../src/register/enrolment.js';
import { waitFor } from '../support/broker.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import { databaseUrlOf, oinOf, useBrokerWithSchools } from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
const READ = TEST_SECRETS.ADMIN_READ_TOKEN;
const OPERATOR = TEST_SECRETS.ADMIN_OPERATOR_TOKEN;
const PUPIL = '123456782';
/** Two pupils enrolled at 71AA under one volgnummer, Q-3. */
const AHEAD = '111222333';
const AHEAD_TOO = '222333444';
const FULL_PGNS = [PUPIL, AHEAD, AHEAD_TOO];
/** A Dutch calendar day, as the register counts its days (late in the UTC evening it is already tomorrow). */
const day = (offsetDays: number): string => dutchDate(new Date(Date.now() + offsetDays * 86_400_000));

describe('quality checks: admin API, CLI and dashboard', () => {
  const { broker, endpoints } = useBrokerWithSchools(['71AA', '72AA']);
  let browser: Browser;
  let cliEnv: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: cliEnv });

  async function saveEnrolment(
    brin: string,
    volgnummer: string,
    pgn: string,
    datumInschrijving: string,
  ): Promise<void> {
    const stand: EnrolmentStand = {
      pgn: { kind: 'BSN', value: pgn },
      brin,
      inschrijvingvolgnummer: volgnummer,
      datumInschrijving,
      ontwikkelingsperspectieven: [],
      verblijvenAndereInstelling: [],
      perioden: [
        {
          datumBegin: datumInschrijving,
          opleidingcode: '0050',
          aanvullendeOpleidingen: [],
          vestiging: `${brin}00`,
          indicatieBekostigbaar: true,
          experimenten: [],
        },
      ],
    };
    await broker().pool.query(
      `INSERT INTO enrolments (brin, inschrijvingvolgnummer, pgn, datum_inschrijving, document_time, stand, source_message_id) VALUES ($1, $2, $3, $4, now(), $5, 0)`,
      [brin, volgnummer, pgn, datumInschrijving, JSON.stringify(stand)],
    );
  }

  async function call(
    pathName: string,
    options: { token: string; method?: string; name?: string },
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      ...(options.name ? { 'x-operator-name': options.name } : {}),
    };
    const response = await fetch(`${broker().baseUrl}/admin/api/${pathName}`, {
      method: options.method ?? 'GET',
      headers,
    });
    return { status: response.status, body: await response.json() };
  }

  beforeAll(async () => {
    // One pupil at both schools now (Q0013 at each); two others enrolled at 71AA two years ahead (Q0001),
    // both with volgnummer Q-3.
    await saveEnrolment('71AA', 'Q-1', PUPIL, day(-10));
    await saveEnrolment('72AA', 'Q-2', PUPIL, day(-5));
    await saveEnrolment('71AA', 'Q-3', AHEAD, day(800));
    await saveEnrolment('71AA', 'Q-3', AHEAD_TOO, day(810));
    cliEnv = { ...process.env, DATABASE_URL: databaseUrlOf(broker()), REDIS_URL: process.env.TEST_REDIS_URL };
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('API: the read token lists but may not run; the operator runs, audited; each school gets its own report', async () => {
    expect((await call('quality', { token: READ })).body).toEqual({ counts: [], runs: [] });
    expect((await call('quality/run', { token: READ, method: 'POST' })).status).toBe(403);

    const ran = await call('quality/run', { token: OPERATOR, method: 'POST', name: 'Quinn' });
    expect(ran.status).toBe(200);
    expect(ran.body).toMatchObject({ ran: true, checkDate: day(0), pupils: 3, notified: 2 });

    const double = (await call('quality/signals?brin=71AA&code=Q0013', { token: READ })).body;
    expect(double).toEqual([
      expect.objectContaining({
        brin: '71AA',
        inschrijvingvolgnummer: 'Q-1',
        maskedPgn: '******782',
        code: 'Q0013',
        sleutelgegevens: [{ naam: 'brin', waarde: '72AA' }],
        omschrijving: expect.stringContaining('andere vo-school'),
      }),
    ]);
    const ahead = (await call('quality/signals?brin=71AA&code=Q0001', { token: READ })).body as Record<
      string,
      unknown
    >[];
    expect(ahead.map((s) => [s.inschrijvingvolgnummer, s.maskedPgn])).toEqual([
      ['Q-3', '******333'],
      ['Q-3', '******444'],
    ]);
    const all = JSON.stringify((await call('quality/signals', { token: READ })).body);
    for (const pgn of FULL_PGNS) expect(all).not.toContain(pgn);
    const ofSchool = (await call(`quality/signals?institution=${oinOf('72AA')}`, { token: READ })).body as {
      brin: string;
    }[];
    expect(ofSchool.length).toBeGreaterThan(0);
    expect(new Set(ofSchool.map((s) => s.brin))).toEqual(new Set(['72AA']));
    expect((await call('quality/signals?code=I0001', { token: READ })).status).toBe(400);
    const overview = (await call('quality', { token: READ })).body;
    expect(overview.runs).toEqual([
      expect.objectContaining({ trigger: 'operator', actor: 'api:operator (Quinn)', notified: 2 }),
    ]);
    expect(overview.counts).toContainEqual({ brin: '71AA', code: 'Q0001', count: 2 });

    const audit = (await call('audit?action=quality.run', { token: READ })).body;
    expect(audit).toEqual([
      expect.objectContaining({ actor: 'api:operator (Quinn)', action: 'quality.run', affected: ran.body.signals }),
    ]);

    const reports = await waitFor(
      async () =>
        ['71AA', '72AA'].map((brin) =>
          endpoints()
            .received(brin)
            .filter((r) => r.xml.includes('verstrekkenKwaliteitscontrole_Request')),
        ),
      (lists) => lists.every((list) => list.length > 0),
    );
    for (const pgn of [AHEAD, AHEAD_TOO])
      expect(reports[0]![0]!.xml).toContain(
        `<t:burgerservicenummer>${pgn}</t:burgerservicenummer><t:inschrijvingvolgnummer>Q-3</t:inschrijvingvolgnummer>`,
      );
    expect(reports[1]![0]!.xml).toContain(
      `<t:burgerservicenummer>${PUPIL}</t:burgerservicenummer><t:inschrijvingvolgnummer>Q-2</t:inschrijvingvolgnummer>`,
    );
    expect(reports[1]![0]!.xml).not.toContain('Q-1');
    expect(reports[1]![0]!.xml).not.toContain(AHEAD);
  });

  test('API: a run while another is under way is refused with 409', async () => {
    const holder = new pg.Client({ connectionString: databaseUrlOf(broker()) });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtextextended('quality-run', 0))");
      const refused = await call('quality/run', { token: OPERATOR, method: 'POST' });
      expect(refused).toEqual({ status: 409, body: { error: 'another quality run is under way' } });
    } finally {
      await holder.end();
    }
  });

  test("CLI: list by BRIN as JSON and by code as a table, the pupils' numbers masked", async () => {
    const json = (await cli('quality', 'list', '--brin', '71AA', '--json')).stdout;
    const listed = JSON.parse(json) as { inschrijvingvolgnummer: string; maskedPgn: string; code: string }[];
    expect(listed.map((s) => [s.inschrijvingvolgnummer, s.maskedPgn, s.code])).toEqual(
      expect.arrayContaining([
        ['Q-1', '******782', 'Q0013'],
        ['Q-3', '******333', 'Q0001'],
        ['Q-3', '******444', 'Q0001'],
      ]),
    );
    expect((await cli('quality', 'list', '--code', 'Q0013')).stdout).toMatch(
      /71AA\s+Q-1\s+\*{6}782\s+Q0013\s+brin=72AA/,
    );
    const table = (await cli('quality', 'list')).stdout;
    expect(table).toMatch(/71AA\s+Q-3\s+\*{6}333\s+Q0001/);
    expect(table).toMatch(/71AA\s+Q-3\s+\*{6}444\s+Q0001/);
    for (const pgn of FULL_PGNS) for (const out of [json, table]) expect(out).not.toContain(pgn);
  });

  test("CLI: run now, then the runs show it as the user's", async () => {
    expect((await cli('quality', 'run')).stdout).toMatch(
      /^quality run \d+ for \d{4}-\d{2}-\d{2}: 3 pupil\(s\) checked, \d+ signal\(s\), 2 school\(s\) told/,
    );
    const runs = JSON.parse((await cli('quality', 'runs', '--json')).stdout) as { trigger: string; actor: string }[];
    expect(runs[0]).toMatchObject({ trigger: 'operator', actor: expect.stringMatching(/^cli:/) });
  });

  test('CLI: a code that is not a quality code is refused', async () => {
    await expect(cli('quality', 'list', '--code', 'X1')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('a quality signal code such as Q0001'),
    });
  });

  async function signIn(token: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${broker().baseUrl}/admin/#quality`);
    await page.fill('#login-token', token);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#view-quality:not([hidden])');
    return page;
  }

  test('dashboard: counts per school link to the signals; the operator runs the checks after confirming', async () => {
    const page = await signIn(OPERATOR);
    await page.waitForSelector('#quality-counts tr[data-brin="71AA"][data-code="Q0013"]');
    await page.click('#quality-counts tr[data-brin="71AA"][data-code="Q0013"] a');
    await waitFor(
      () => page.locator('#quality-signals tbody tr').count(),
      (n) => n === 1,
    );
    expect(await page.textContent('#quality-signals tbody tr')).toContain('Q-1');
    expect(await page.textContent('#quality-signals tbody tr')).toContain('******782');
    const before = await page.locator('#quality-runs tbody tr').count();
    await page.click('#quality-run');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: /Quality run \d+: 3 pupil\(s\) checked/ }).waitFor();
    // The flash shows before the view re-renders: wait for the new run's row.
    expect(
      await waitFor(
        () => page.locator('#quality-runs tbody tr').count(),
        (n) => n === before + 1,
      ),
    ).toBe(before + 1);
    for (const pgn of FULL_PGNS) expect(await page.content()).not.toContain(pgn);
    await page.close();
  });

  test('dashboard: the read-only token sees the signals but no run button', async () => {
    const page = await signIn(READ);
    await page.waitForSelector('#quality-counts tbody tr');
    expect(await page.isVisible('#quality-run')).toBe(false);
    await page.close();
  });
});
