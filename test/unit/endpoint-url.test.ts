/**
 * Institution endpoint URLs: https only in production, no credentials, no control characters, no
 * loopback, link-local or private address (literal or by name) unless a setting allows it, never the
 * broker's own ports; stored normalised. Each refusal names the field and the rule.
 */

import { DEMO_RECEIVER_PATH } from '../../src/delivery/demo-receiver.js';
import { loadConfig } from '../../src/infra/config.js';
import {
  addressKind,
  checkEndpointUrl,
  type EndpointPolicy,
  endpointPolicy,
  type Resolve,
} from '../../src/operator/endpoint-url.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const PRODUCTION: EndpointPolicy = {
  allowHttp: false,
  allowLoopback: false,
  allowPrivate: false,
  ownPorts: [8080, 54329, 63790],
  ownPathPrefixes: [],
};
const DEVELOPMENT: EndpointPolicy = { ...PRODUCTION, allowHttp: true, allowLoopback: true };
/** A resolver that answers from a table, so no test depends on DNS. */
const names =
  (table: Record<string, string[]>): Resolve =>
  async (host) =>
    table[host] ?? [];
const check = (raw: string, policy = PRODUCTION, resolve = names({})) =>
  checkEndpointUrl(raw, '--endpoint', policy, resolve);

describe('endpoint URL policy', () => {
  test('a public https URL is stored normalised (WHATWG href)', async () => {
    await expect(check('HTTPS://LAS.Example.NL:443/a/../bron?x=1')).resolves.toBe('https://las.example.nl/bron?x=1');
    await expect(check('  https://las.example.nl  ')).resolves.toBe('https://las.example.nl/');
    await expect(check('https://203.0.113.7:8443/bron')).resolves.toBe('https://203.0.113.7:8443/bron');
  });

  test('plain http is refused in production, allowed with ALLOW_HTTP_ENDPOINTS', async () => {
    await expect(check('http://las.example.nl/bron')).rejects.toThrow(
      '--endpoint: must use https:// (plain http:// is allowed only with ALLOW_HTTP_ENDPOINTS=true)',
    );
    await expect(check('http://las.example.nl/bron', { ...PRODUCTION, allowHttp: true })).resolves.toBe(
      'http://las.example.nl/bron',
    );
  });

  test('other schemes and non-URLs are refused', async () => {
    await expect(check('ftp://las.example.nl/')).rejects.toThrow('--endpoint: must be an https:// URL, not ftp:');
    await expect(check('file:///etc/passwd')).rejects.toThrow('--endpoint: must be an https:// URL, not file:');
    await expect(check('las.example.nl/bron')).rejects.toThrow('--endpoint: is not a URL');
  });

  test('credentials in the URL are refused', async () => {
    await expect(check('https://user:secret@las.example.nl/')).rejects.toThrow(
      '--endpoint: must not contain credentials (user:password@)',
    );
    await expect(check('https://user@las.example.nl/')).rejects.toThrow('must not contain credentials');
  });

  test.each([
    ['CR LF', 'https://las.example.nl/a\r\nX-Evil: 1'],
    ['LF', 'https://las.example.nl/\nb'],
    ['tab', 'https://las.\texample.nl/'],
    ['NUL', 'https://las.example.nl/\u0000'],
    ['DEL', 'https://las.example.nl/\u007f'],
    ['C1', 'https://las.example.nl/\u0085'],
  ])('a control character (%s) is refused, not silently dropped', async (_name, raw) => {
    await expect(check(raw)).rejects.toThrow('--endpoint: must not contain control characters');
  });

  test.each([
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.1.2.3:9443/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://localhost/', 'loopback'],
    ['https://api.localhost/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://10.1.2.3/', 'private'],
    ['https://172.16.0.1/', 'private'],
    ['https://172.31.255.255/', 'private'],
    ['https://192.168.1.1/', 'private'],
    ['https://100.64.0.1/', 'private'],
    ['https://[fd00::1]/', 'private'],
    ['https://[fc00::1]/', 'private'],
    ['https://[::ffff:10.0.0.1]/', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[::ffff:169.254.169.254]/', 'link-local'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://[::]/', 'unspecified'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://255.255.255.255/', 'multicast'],
  ])('%s is refused as %s', async (raw, kind) => {
    await expect(check(raw)).rejects.toThrow(
      new RegExp(`^--endpoint: must not (be|name a host that resolves only to) (a|the) ${kind}`),
    );
  });

  test('loopback is allowed with ALLOW_LOOPBACK_ENDPOINTS, private with ALLOW_PRIVATE_ENDPOINTS; link-local never', async () => {
    await expect(check('https://127.0.0.1:9000/las', { ...PRODUCTION, allowLoopback: true })).resolves.toBe(
      'https://127.0.0.1:9000/las',
    );
    await expect(check('https://10.1.2.3/las', { ...PRODUCTION, allowLoopback: true })).rejects.toThrow(
      'ALLOW_PRIVATE_ENDPOINTS',
    );
    await expect(check('https://10.1.2.3/las', { ...PRODUCTION, allowPrivate: true })).resolves.toBe(
      'https://10.1.2.3/las',
    );
    const everything = { ...PRODUCTION, allowHttp: true, allowLoopback: true, allowPrivate: true };
    await expect(check('http://169.254.169.254/', everything)).rejects.toThrow('link-local');
  });

  test('a name that resolves only to refused addresses is refused; one with a public address, or none, is not', async () => {
    const resolve = names({
      'internal.example': ['10.0.0.5', '192.168.0.9'],
      'meta.example': ['169.254.169.254'],
      'mixed.example': ['10.0.0.5', '203.0.113.7'],
    });
    await expect(check('https://internal.example/', PRODUCTION, resolve)).rejects.toThrow(
      '--endpoint: must not name a host that resolves only to a private address',
    );
    await expect(check('https://meta.example/', PRODUCTION, resolve)).rejects.toThrow(
      'resolves only to a link-local address',
    );
    await expect(check('https://mixed.example/', PRODUCTION, resolve)).resolves.toBe('https://mixed.example/');
    await expect(check('https://unknown.example/', PRODUCTION, resolve)).resolves.toBe('https://unknown.example/');
  });

  test("the broker's own ports on its own addresses are refused, even where loopback is allowed; the demo receiver's path is not while the demo is on", async () => {
    await expect(check('http://localhost:8080/admin/api/errors/purge', DEVELOPMENT)).rejects.toThrow(
      "--endpoint: must not be this broker's own port 8080",
    );
    await expect(check('http://127.0.0.1:54329/', DEVELOPMENT)).rejects.toThrow('own port 54329');
    await expect(check('http://[::1]:63790/', DEVELOPMENT)).rejects.toThrow('own port 63790');
    await expect(check('http://localhost:9000/las', DEVELOPMENT)).resolves.toBe('http://localhost:9000/las');
    await expect(
      check('https://las.example.nl:8080/bron', DEVELOPMENT, names({ 'las.example.nl': ['203.0.113.7'] })),
    ).resolves.toBe('https://las.example.nl:8080/bron');
    const demo = { ...DEVELOPMENT, ownPathPrefixes: [DEMO_RECEIVER_PATH] };
    await expect(check(`http://localhost:8080${DEMO_RECEIVER_PATH}25BE`, demo)).resolves.toBe(
      `http://localhost:8080${DEMO_RECEIVER_PATH}25BE`,
    );
    await expect(check('http://localhost:8080/admin/api/errors/purge', demo)).rejects.toThrow('own port 8080');
  });

  test('the policy follows the settings: development allows http and loopback, production neither', () => {
    expect(endpointPolicy(loadConfig({ BROKER_PROFILE: 'development' }))).toEqual({
      allowHttp: true,
      allowLoopback: true,
      allowPrivate: false,
      ownPorts: [8080, 54329, 63790],
      ownPathPrefixes: [DEMO_RECEIVER_PATH],
    });
    expect(
      endpointPolicy(loadConfig({ BROKER_PROFILE: 'production', PORT: '9090', DATA_KEYS: TEST_SECRETS.DATA_KEYS })),
    ).toEqual({
      allowHttp: false,
      allowLoopback: false,
      allowPrivate: false,
      ownPorts: [9090, 54329, 63790],
      ownPathPrefixes: [],
    });
    expect(
      endpointPolicy(
        loadConfig({
          BROKER_PROFILE: 'production',
          DATA_KEYS: TEST_SECRETS.DATA_KEYS,
          ALLOW_HTTP_ENDPOINTS: 'true',
          ALLOW_LOOPBACK_ENDPOINTS: 'yes',
          ALLOW_PRIVATE_ENDPOINTS: '1',
        }),
      ),
    ).toMatchObject({ allowHttp: true, allowLoopback: true, allowPrivate: true });
  });

  test.each([
    ['8.8.8.8', 'public'],
    ['172.15.0.1', 'public'],
    ['172.32.0.1', 'public'],
    ['2001:db8::1', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['fec0::1', 'private'],
  ])('address %s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });
});
