/**
 * `institutions ping` says whether an endpoint is healthy. The demo school's endpoint (the broker's own
 * demo receiver) answered a ping's GET with 404 while every delivery to it succeeded.
 */
import { DEMO_INSTITUTIONS, DEMO_RECEIVER_PATH } from '../../src/demo-seed.js';
import { isHealthyAnswer, pingEndpoint } from '../../src/operator/institutions.js';
import { useTestBroker } from '../support/broker.js';

describe('institutions ping', () => {
  const broker = useTestBroker();

  test("the demo school's endpoint is healthy", async () => {
    const result = await pingEndpoint(
      `${broker().baseUrl}${DEMO_RECEIVER_PATH}${DEMO_INSTITUTIONS[0]!.brins[0]}`,
      5000,
    );
    expect(result).toMatchObject({ reachable: true, healthy: true, httpStatus: 200, error: null });
  });

  test('a URL with nothing behind it is reachable but not healthy, and says why', async () => {
    const result = await pingEndpoint(`${broker().baseUrl}/no/such/endpoint`, 5000);
    expect(result).toMatchObject({
      reachable: true,
      healthy: false,
      httpStatus: 404,
      error: 'nothing is registered at this URL (HTTP 404)',
    });
  });

  test.each([
    [200, true],
    [204, true],
    [301, true],
    [400, true],
    [401, true],
    [405, true],
    [415, true],
    [404, false],
    [410, false],
    [500, false],
    [502, false],
    [503, false],
  ])('HTTP %i to a GET: healthy %s', (status, healthy) => {
    expect(isHealthyAnswer(status)).toBe(healthy);
  });
});
