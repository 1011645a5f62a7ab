/**
 * The production profile: no demo receiver, institution endpoints checked by the endpoint policy
 * (https, public, no credentials) when added and again when pinged, pings audited, and the read role
 * told only healthy or not.
 */

import { DEMO_RECEIVER_PATH } from '../../src/delivery/demo-receiver.js';
import { GENERIC_PING_ERROR } from '../../src/operator/ping.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { useTestBroker } from '../support/broker.js';
import { startTestEndpoints } from '../support/institution-endpoint.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const READ = TEST_SECRETS.ADMIN_READ_TOKEN;
const OPERATOR = TEST_SECRETS.ADMIN_OPERATOR_TOKEN;

describe('production profile', () => {
  const broker = useTestBroker({ env: { BROKER_PROFILE: 'production' } });

  async function call(path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${broker().baseUrl}/admin/api/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  test('the demo is off and its unauthenticated receiver is not mounted', async () => {
    expect(broker().config.seedDemo).toBe(false);
    const posted = await fetch(`${broker().baseUrl}${DEMO_RECEIVER_PATH}25BE`, {
      method: 'POST',
      body: '<x_Request/>',
    });
    expect(posted.status).toBe(404);
    expect((await fetch(`${broker().baseUrl}${DEMO_RECEIVER_PATH}25BE`)).status).toBe(404);
  });

  test.each([
    ['http://las.example/bron', 'endpoint: must use https://'],
    [
      'https://127.0.0.1:9443/bron',
      'endpoint: must not be a loopback address (allowed only with ALLOW_LOOPBACK_ENDPOINTS=true)',
    ],
    ['https://localhost/bron', 'endpoint: must not name a host that resolves only to a loopback address'],
    [
      'https://10.0.0.8/bron',
      'endpoint: must not be a private address (allowed only with ALLOW_PRIVATE_ENDPOINTS=true)',
    ],
    ['https://169.254.169.254/latest/meta-data/', 'endpoint: must not be a link-local address'],
    ['https://user:secret@las.example/bron', 'endpoint: must not contain credentials'],
    ['https://las.example/bron\r\nX-Injected: 1', 'endpoint: must not contain control characters'],
  ])(
    'adding an institution with endpoint %j is refused (400), naming the field and the rule; nothing is stored',
    async (endpoint, rule) => {
      const refused = await call('institutions', OPERATOR, {
        oin: '00000003555555550000',
        name: 'Vendor P',
        brins: ['55PA'],
        endpoint,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toContain(rule);
      expect(refused.body.error).not.toContain('secret');
      expect((await call('institutions/00000003555555550000', READ)).status).toBe(404);
    },
  );

  test('an allowed endpoint is stored normalised, and audited as stored', async () => {
    const added = await call('institutions', OPERATOR, {
      oin: '00000003555555560000',
      name: 'Vendor Q',
      brins: ['56PA'],
      endpoint: 'HTTPS://LAS.Example:443/a/../bron',
    });
    expect(added).toEqual({
      status: 200,
      body: {
        oin: '00000003555555560000',
        name: 'Vendor Q',
        brins: ['56PA'],
        endpointUrl: 'https://las.example/bron',
        enabled: true,
      },
    });
    expect((await call('institutions/00000003555555560000', READ)).body.institution.endpointUrl).toBe(
      'https://las.example/bron',
    );
    expect((await call('audit?action=institution.add', READ)).body[0].target).toMatchObject({
      institution: '00000003555555560000',
      endpoint: 'https://las.example/bron',
    });
  });

  test('a ping of an endpoint the policy refuses (registered before it) probes nothing; read sees only "not healthy", operator why; each ping is audited', async () => {
    const endpoints = await startTestEndpoints();
    try {
      // A loopback endpoint that answers: were it probed, the read role would learn the port is open.
      const stored = endpoints.url('57PA').replace('http://', 'http://user:pw@');
      await upsertInstitution(broker().pool, {
        oin: '00000003555555570000',
        name: 'Old',
        brins: ['57PA'],
        endpointUrl: stored,
        enabled: true,
      });
      const shown = endpoints.url('57PA');

      const read = await call('institutions/00000003555555570000/ping', READ, {});
      expect(read).toEqual({ status: 200, body: { endpoint: shown, healthy: false, error: GENERIC_PING_ERROR } });
      const operator = await call('institutions/00000003555555570000/ping', OPERATOR, {});
      expect(operator.body).toMatchObject({
        endpoint: shown,
        reachable: false,
        healthy: false,
        httpStatus: null,
        error: expect.stringContaining('not probed: the endpoint: must use https://'),
      });
      expect(endpoints.received('57PA')).toHaveLength(0);

      const audit = (await call('audit?action=institution.ping', READ)).body as {
        actor: string;
        affected: number;
        target: Record<string, unknown>;
      }[];
      expect(audit.map((a) => a.actor)).toEqual(['api:operator', 'api:read']);
      for (const entry of audit)
        expect(entry.target).toEqual({ institution: '00000003555555570000', endpoint: shown, healthy: false });
      expect(JSON.stringify(audit)).not.toContain('pw@');
    } finally {
      await endpoints.close();
    }
  });
});

describe('ping in development (loopback allowed)', () => {
  const broker = useTestBroker();

  test('read sees a dead endpoint only as not healthy, never refused-vs-timeout or the status; operator sees the detail', async () => {
    await upsertInstitution(broker().pool, {
      oin: '00000003555555580000',
      name: 'Dead',
      brins: ['58PA'],
      endpointUrl: 'http://127.0.0.1:9/x',
      enabled: true,
    });
    const ping = (token: string) =>
      fetch(`${broker().baseUrl}/admin/api/institutions/00000003555555580000/ping`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.json());
    expect(await ping(READ)).toEqual({ endpoint: 'http://127.0.0.1:9/x', healthy: false, error: GENERIC_PING_ERROR });
    expect(await ping(OPERATOR)).toMatchObject({
      endpoint: 'http://127.0.0.1:9/x',
      reachable: false,
      healthy: false,
      error: expect.stringMatching(/^connection failed/),
    });
    const rows = await broker().pool.query(
      "SELECT actor FROM operator_audit WHERE action = 'institution.ping' ORDER BY id",
    );
    expect(rows.rows.map((r) => r.actor)).toEqual(['api:read', 'api:operator']);
  });
});
