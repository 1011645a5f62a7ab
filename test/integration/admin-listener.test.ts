/**
 * ADMIN_PORT: /admin, /metrics and /readyz on a listener of their own (plain HTTP, the admin tokens as
 * ever), and 404 for them on the SOAP listener; without it, all on the one port.
 */
import { useTestBroker } from '../support/broker.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const get = async (url: string, token?: string): Promise<number> =>
  (await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status;

const OPERATOR_PATHS = ['/metrics', '/readyz', '/admin/', '/admin/api/whoami'];

describe('with ADMIN_PORT', () => {
  const broker = useTestBroker({ env: { ADMIN_PORT: '0' } });

  test('the operator routes are served on the admin listener, with the tokens still required', async () => {
    const admin = broker().adminBaseUrl;
    expect(admin).not.toBe(broker().baseUrl);
    expect(admin.startsWith('http://localhost:')).toBe(true);
    expect(await get(`${admin}/metrics`)).toBe(200);
    expect(await get(`${admin}/readyz`)).toBe(200);
    expect(await get(`${admin}/healthz`)).toBe(200);
    expect(await get(`${admin}/admin/`)).toBe(200);
    expect(await get(`${admin}/admin/api/whoami`)).toBe(401);
    expect(await get(`${admin}/admin/api/whoami`, TEST_SECRETS.ADMIN_READ_TOKEN)).toBe(200);
  });

  test('the SOAP listener answers 404 for them, and the admin listener serves no SOAP', async () => {
    for (const path of OPERATOR_PATHS)
      expect([path, await get(`${broker().baseUrl}${path}`, TEST_SECRETS.ADMIN_READ_TOKEN)]).toEqual([path, 404]);
    expect(await get(`${broker().baseUrl}/healthz`)).toBe(200);
    const wsdl = '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1?wsdl';
    expect(await get(`${broker().baseUrl}${wsdl}`)).toBe(200);
    expect(await get(`${broker().adminBaseUrl}${wsdl}`)).toBe(404);
  });
});

describe('without ADMIN_PORT', () => {
  const broker = useTestBroker();

  test('the operator routes are on the SOAP listener', async () => {
    expect(broker().adminBaseUrl).toBe(broker().baseUrl);
    expect(await get(`${broker().baseUrl}/metrics`)).toBe(200);
    expect(await get(`${broker().baseUrl}/readyz`)).toBe(200);
    expect(await get(`${broker().baseUrl}/admin/api/whoami`, TEST_SECRETS.ADMIN_READ_TOKEN)).toBe(200);
  });
});
