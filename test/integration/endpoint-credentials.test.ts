/**
 * An institution row stored before endpoint URLs were checked may carry a user and password: the
 * overview (API, dashboard, CLI) and the attempt timeline never show them; deliveries still use them.
 */
import { showOutbound } from '../../src/operator/error-queue.js';
import { institutionOverview } from '../../src/operator/institutions.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { oinOf, outboundOf, sendEnrolment, useBrokerWithSchools } from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

describe('endpoint URLs with credentials (a legacy row)', () => {
  const { broker, endpoints } = useBrokerWithSchools(['71AA']);
  const withSecret = (): string => endpoints().url('71AA').replace('http://', 'http://las-user:s3cret-pw@');

  beforeAll(async () => {
    await upsertInstitution(broker().pool, {
      oin: oinOf('71AA'),
      name: 'School 71AA',
      brins: ['71AA'],
      endpointUrl: withSecret(),
      enabled: true,
    });
    await broker().registry.refresh();
  });

  test('the overview and the admin API show the URL without user and password', async () => {
    const [school] = await institutionOverview(broker().pool, oinOf('71AA'));
    expect(school!.endpointUrl).toBe(endpoints().url('71AA'));
    for (const path of ['overview', `institutions/${oinOf('71AA')}`]) {
      const answer = await fetch(`${broker().adminBaseUrl}/admin/api/${path}`, {
        headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_READ_TOKEN}` },
      });
      const text = await answer.text();
      expect([path, answer.status, text.includes('s3cret-pw'), text.includes('las-user')]).toEqual([
        path,
        200,
        false,
        false,
      ]);
      expect(text).toContain(endpoints().url('71AA'));
    }
  });

  test('a delivery is recorded, and shown, without them', async () => {
    const outbound = await outboundOf(broker(), await sendEnrolment(broker(), '71AA', 'D-1'), 'delivered');
    const stored = (
      await broker().pool.query<{ endpoint: string }>('SELECT endpoint FROM delivery_attempts WHERE outbound_id = $1', [
        outbound.id,
      ])
    ).rows;
    expect(stored).toEqual([{ endpoint: endpoints().url('71AA') }]);
    const shown = await showOutbound({ pool: broker().pool }, outbound.id);
    expect(JSON.stringify(shown)).not.toContain('s3cret-pw');
  });
});
