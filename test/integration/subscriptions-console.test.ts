/**
 * Prior-education subscriptions on the operator surfaces: the admin API, the CLI on the same database and
 * the dashboard's Subscriptions view, per institution, running or ended, the pupils' numbers masked.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { inTransaction } from '../../src/infra/database.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { endSubscriptions, listSubscriptions, startSubscription } from '../../src/store/subscriptions.repo.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import { databaseUrlOf, oinOf, useBrokerWithSchools } from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');
const READ = TEST_SECRETS.ADMIN_READ_TOKEN;
const PUPILS = ['123456782', '111222333', '222333444'];

describe('prior-education subscriptions: admin API, CLI and dashboard', () => {
  const { broker } = useBrokerWithSchools(['41MB', '42MB']);
  let browser: Browser;
  let cliEnv: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: cliEnv });

  beforeAll(async () => {
    const subscribe = (brin: string, pgn: string, startedAt: string) =>
      startSubscription(broker().pool, {
        institutionOin: oinOf(brin),
        brin,
        pgn,
        pgnKind: 'BSN',
        startedAt: new Date(startedAt),
        endsAt: new Date(new Date(startedAt).getTime() + 270 * 86_400_000),
        sourceMessageId: 0,
      });
    await subscribe('41MB', PUPILS[0]!, '2026-09-01T10:00:00Z');
    await subscribe('41MB', PUPILS[1]!, '2026-09-02T10:00:00Z');
    const stopped = await subscribe('42MB', PUPILS[2]!, '2026-09-03T10:00:00Z');
    await endSubscriptions(broker().pool, [stopped.id], new Date('2026-10-01T10:00:00Z'), 'stopped');
    cliEnv = { ...process.env, DATABASE_URL: databaseUrlOf(broker()), REDIS_URL: process.env.TEST_REDIS_URL };
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const call = async (pathName: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${broker().baseUrl}/admin/api/${pathName}`, {
      headers: { authorization: `Bearer ${READ}` },
    });
    return { status: response.status, body: await response.json() };
  };

  test('a listing per administration or per BRIN reads the table through an index', async () => {
    for (const owner of [{ institutionOin: oinOf('41MB') }, { brin: '42MB' }]) {
      const plan: string[] = [];
      await inTransaction(broker().pool, async (tx) => {
        // The table is tiny here: forbid whole-table reads unless no index can serve the filter.
        await tx.query('SET LOCAL enable_seqscan = off');
        const explaining = {
          query: async (text: string, values: unknown[]) => {
            const result = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values);
            plan.push(...result.rows.map((r) => r['QUERY PLAN']));
            return { rows: [] };
          },
        } as unknown as Parameters<typeof listSubscriptions>[0];
        await listSubscriptions(explaining, { owner, all: true });
      });
      expect(plan.join('\n')).toMatch(/Index Cond: \((institution_oin|brin) = /);
      expect(plan.join('\n')).not.toMatch(/Seq Scan/);
    }
  });

  test('API: running ones per institution (OIN or BRIN), ended ones with all, numbers masked', async () => {
    const running = (await call(`subscriptions?institution=${oinOf('41MB')}`)).body as { maskedPgn: string }[];
    expect(running.map((s) => s.maskedPgn)).toEqual(['*****2333', '*****6782']);
    expect((await call('subscriptions?institution=42MB')).body).toEqual([]);
    expect((await call('subscriptions?institution=42MB&all=true')).body).toEqual([
      expect.objectContaining({ brin: '42MB', state: 'stopped', endReason: 'stopped', maskedPgn: '*****3444' }),
    ]);
    expect((await call('subscriptions?institution=nonsense')).status).toBe(400);
    const all = JSON.stringify((await call('subscriptions?all=true')).body);
    for (const pgn of PUPILS) expect(all).not.toContain(pgn);
  });

  test('CLI: list per institution as a table and as JSON', async () => {
    const table = (await cli('subscriptions', 'list', '--institution', '41MB')).stdout;
    expect(table).toMatch(/41MB\s+\*{5}6782\s+.*running/);
    expect(table).not.toContain('42MB');
    const json = JSON.parse((await cli('subscriptions', 'list', '--institution', '42MB', '--all', '--json')).stdout);
    expect(json).toEqual([expect.objectContaining({ brin: '42MB', state: 'stopped' })]);
    for (const pgn of PUPILS) expect(table).not.toContain(pgn);
  });

  test('dashboard: the Subscriptions view lists them and filters per institution', async () => {
    const page = await browser.newPage();
    await page.goto(`${broker().baseUrl}/admin/#subscriptions?institution=41MB`);
    await page.fill('#login-token', READ);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#view-subscriptions:not([hidden])');
    await page.waitForSelector('#subscriptions tbody tr[data-state="running"]');
    expect(await page.locator('#subscriptions tbody tr').count()).toBe(2);
    await page.fill('#subscriptions-filter [name="institution"]', '42MB');
    await page.check('#subscriptions-filter [name="all"]');
    await page.click('#subscriptions-filter button[type="submit"]');
    await page.waitForSelector('#subscriptions tbody tr[data-state="stopped"]');
    expect(await page.locator('#subscriptions tbody tr').count()).toBe(1);
    for (const pgn of PUPILS) expect(await page.content()).not.toContain(pgn);
    await page.close();
  });
});
