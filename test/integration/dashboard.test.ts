/**
 * The dashboard in a real headless browser (Debian's chromium via playwright-core) against a running
 * broker: sign in, see an error-queued message, replay it after confirming, see it delivered and
 * the audit entry; the same for the processing error queue; the read-only token sees no action
 * buttons; no PGN in full on any page.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from '../support/broker.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium.js';
import {
  errorQueued,
  oinOf,
  outboundOf,
  processed,
  processingErrorQueued,
  useBrokerWithSchools,
} from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

describe('dashboard in a headless browser', () => {
  const { broker, endpoints } = useBrokerWithSchools(['61AA']);
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function signIn(token: string, name = ''): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${broker().baseUrl}/admin`);
    await page.fill('#login-token', token);
    await page.fill('#login-name', name);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#app:not([hidden])');
    return page;
  }

  test('a wrong token is refused on the sign-in page', async () => {
    const page = await browser.newPage();
    await page.goto(`${broker().baseUrl}/admin/`);
    await page.fill('#login-token', 'not-a-token-at-all');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-error', { hasText: 'not accepted' }).waitFor();
    expect(await page.isHidden('#app')).toBe(true);
    await page.close();
  });

  test('sign in, see the error-queued message, replay it after confirming, see it delivered and audited', async () => {
    const queued = await errorQueued(broker(), endpoints(), '61AA', 'D-1');
    const page = await signIn(TEST_SECRETS.ADMIN_OPERATOR_TOKEN, 'Dana');
    expect(await page.textContent('#whoami')).toBe('api:operator (Dana)');

    const row = `#institutions tr[data-oin="${oinOf('61AA')}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} [data-col="errors"]`)).toBe('1');
    expect(await page.textContent(`${row} .health`)).toContain('failing');
    // The chart loads its series after the overview; wait for it rather than racing it.
    await page.locator('#chart-svg polyline[data-series="accepted"]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator('#chart-svg polyline[data-series="accepted"]').count()).toBe(1);

    await page.click('nav a[data-view="errors"]');
    const errorRow = `#errors tr[data-id="${queued.id}"]`;
    await page.waitForSelector(errorRow);
    expect(await page.textContent(errorRow)).toContain('SOAP fault Client.DK0004');

    await page.click(`${errorRow} button[data-action="replay"]`);
    await page.waitForSelector('#confirm[open]');
    expect(await page.textContent('#confirm-text')).toContain('Replay 1 message(s) (message');
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: 'Replayed 1 message(s).' }).waitFor();
    await page.waitForSelector(errorRow, { state: 'detached' });

    await outboundOf(broker(), queued.documentId, 'delivered');
    await page.goto(`${broker().baseUrl}/admin/#trace?ref=o${queued.id}`);
    await page.waitForSelector('.timeline li[data-step="acknowledged"]');
    const steps = await page
      .locator('.timeline li')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-step')));
    expect(steps).toEqual([
      'received',
      'validated',
      'accepted',
      'processed',
      'push',
      'attempt',
      'error-queue',
      'operator',
      'attempt',
      'acknowledged',
    ]);
    expect(await page.textContent('.timeline li[data-step="operator"]')).toContain(
      'errors.replay by api:operator (Dana)',
    );

    await page.click('nav a[data-view="audit"]');
    await page.waitForSelector('#audit tr[data-action="errors.replay"]');
    const audit = await page
      .locator('#audit tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(1, 5).map((td) => td.textContent)));
    expect(audit).toContainEqual(['api:operator (Dana)', 'errors.replay', '1', '']);
    expect(audit).toContainEqual(['api:operator (Dana)', 'errors.replay', '1', 'yes']); // the count shown before confirming

    await page.click('nav a[data-view="overview"]');
    await page.locator(`${row} [data-col="errors"]`, { hasText: /^0$/ }).waitFor();
    expect(Number(await page.textContent(`${row} [data-col="delivered"]`))).toBe(1);
    await page.close();
  });

  test('a pupil trace shows the PGN masked, and no page shows it in full', async () => {
    const page = await signIn(TEST_SECRETS.ADMIN_READ_TOKEN);
    await page.click('nav a[data-view="trace"]');
    await page.fill('#trace-form [name="pupil"]', '123456782');
    await page.click('#trace-form button[type="submit"]');
    await page.waitForSelector('.trace');
    expect(await page.textContent('.trace')).toContain('pupil *****6782');
    expect(await page.inputValue('#trace-form [name="pupil"]')).toBe('');
    for (const view of ['trace', 'overview', 'errors', 'audit']) {
      await page.click(`nav a[data-view="${view}"]`);
      await page.waitForLoadState('networkidle');
      expect([view, (await page.content()).includes('123456782')]).toEqual([view, false]);
    }
    await page.close();
  });

  test('the processing error queue: counted in the overview, listed with its reason, replayed after confirming', async () => {
    const id = await processingErrorQueued(broker(), '61AA', 'D-P', 'Error: rule engine bug for ******782');
    const page = await signIn(TEST_SECRETS.ADMIN_OPERATOR_TOKEN, 'Dana');
    await page.locator('[data-stat="processing-errors"] .value', { hasText: /^1$/ }).waitFor();

    await page.click('[data-stat="processing-errors"] a');
    const row = `#processing-errors tr[data-id="${id}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent('#processing-count')).toBe('(1)');
    expect(await page.textContent(row)).toContain('rule engine bug for ******782');
    expect(await page.textContent(row)).toContain(oinOf('61AA'));

    await page.click(`${row} button[data-action="replay"]`);
    await page.waitForSelector('#confirm[open]');
    expect(await page.textContent('#confirm-text')).toContain(`Replay 1 message(s) (message ${id})`);
    await page.click('#confirm-ok');
    await page.locator('#flash', { hasText: 'Replayed 1 message(s).' }).waitFor();
    await page.waitForSelector(row, { state: 'detached' });
    expect(await page.isVisible('#processing-errors-empty')).toBe(true);
    expect(await waitFor(() => processed(broker(), id), Boolean)).toBe(true);
    await page.close();
  });

  test('the read-only token sees the queues but no replay, purge or pause buttons', async () => {
    await errorQueued(broker(), endpoints(), '61AA', 'D-2');
    const page = await signIn(TEST_SECRETS.ADMIN_READ_TOKEN);
    expect(await page.textContent('#whoami')).toContain('read-only');
    await page.waitForSelector(`#institutions tr[data-oin="${oinOf('61AA')}"]`);
    expect(await page.isVisible(`#institutions tr[data-oin="${oinOf('61AA')}"] button.operator`)).toBe(false);
    await page.click('nav a[data-view="errors"]');
    await page.waitForSelector('#errors tbody tr');
    expect(await page.isVisible('#errors tbody tr button[data-action="replay"]')).toBe(false);
    expect(await page.isVisible('#replay-matching')).toBe(false);
    await page.click('nav a[data-view="processing-errors"]');
    await page.waitForSelector('#processing-errors-empty:not([hidden])');
    expect(await page.isVisible('#replay-processing-matching')).toBe(false);
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
