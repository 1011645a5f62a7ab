/**
 * The send-time check of endpoint addresses: a name that resolves to a loopback address while loopback
 * endpoints are not allowed (as if its DNS changed after the operator set it) fails every attempt with
 * the reason and ends in the error queue; the same endpoint with loopback allowed is delivered.
 */

import { silentLogger } from '../../src/infra/log.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { type TestBrokerOptions, useTestBroker } from '../support/broker.js';
import { oinOf, outboundOf, sendEnrolment } from '../support/console.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';

const DELIVERY = { DELIVERY_BACKOFF_MS: '50', DELIVERY_TIMEOUT_MS: '1000', DELIVERY_RETRIES: '2' };

/** A broker with its pipeline and one school whose endpoint is `endpointOf(test endpoints)`, stored as a legacy row would be (no set-time check). */
function useSchoolAt(options: TestBrokerOptions, brin: string, endpointOf: (endpoints: TestEndpoints) => string) {
  const broker = useTestBroker(options);
  let endpoints: TestEndpoints | undefined;
  let pipeline: Pipeline | undefined;
  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    await upsertInstitution(broker().pool, {
      oin: oinOf(brin),
      name: `School ${brin}`,
      brins: [brin],
      endpointUrl: endpointOf(endpoints),
      enabled: true,
    });
    await broker().registry.refresh();
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline?.close();
    await endpoints?.close();
  });
  return { broker, endpoints: () => endpoints! };
}

const attemptsOf = async (broker: ReturnType<typeof useTestBroker>, outboundId: number) =>
  (
    await broker().pool.query<{ outcome: string; error: string | null }>(
      'SELECT outcome, error FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt',
      [outboundId],
    )
  ).rows;

const localhostUrl = (endpoints: TestEndpoints, brin: string): string =>
  `${endpoints.baseUrl.replace('127.0.0.1', 'localhost')}/institutions/${brin}`;

describe('loopback not allowed', () => {
  const env = { ...DELIVERY, ALLOW_LOOPBACK_ENDPOINTS: 'false' };
  const byName = useSchoolAt({ env }, '61AA', (e) => localhostUrl(e, '61AA'));

  test('a name resolving to 127.0.0.1: every attempt refused with the reason, then the error queue', async () => {
    const documentId = await sendEnrolment(byName.broker(), '61AA', 'A-1');
    const outbound = await outboundOf(byName.broker(), documentId, 'error');
    const attempts = await attemptsOf(byName.broker, outbound.id);
    // Three attempts (DELIVERY_RETRIES=2), each a transport failure worth retrying; then the error queue.
    expect(attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
    for (const attempt of attempts)
      expect(attempt.error).toContain(
        'endpoint address refused at send time: a loopback address (allowed only with ALLOW_LOOPBACK_ENDPOINTS=true)',
      );
    // Nothing reached the endpoint, and no value of the message is in the reason.
    expect(byName.endpoints().received('61AA')).toEqual([]);
    expect(attempts.map((a) => a.error).join(' ')).not.toMatch(/123456782|A-1/);
  });
});

describe('loopback not allowed, an IP literal', () => {
  const env = { ...DELIVERY, ALLOW_LOOPBACK_ENDPOINTS: 'false' };
  const literal = useSchoolAt({ env }, '62AA', (e) => e.url('62AA'));

  test('127.0.0.1 itself (connected to without a lookup) is refused the same way', async () => {
    const outbound = await outboundOf(literal.broker(), await sendEnrolment(literal.broker(), '62AA', 'B-1'), 'error');
    const attempts = await attemptsOf(literal.broker, outbound.id);
    expect(attempts).toHaveLength(3);
    expect(attempts[0]!.error).toContain('endpoint address refused at send time: a loopback address');
    expect(literal.endpoints().received('62AA')).toEqual([]);
  });
});

describe('loopback allowed by configuration', () => {
  const allowed = useSchoolAt({ env: { ...DELIVERY, ALLOW_LOOPBACK_ENDPOINTS: 'true' } }, '63AA', (e) =>
    localhostUrl(e, '63AA'),
  );

  test('the same kind of endpoint is delivered', async () => {
    await outboundOf(allowed.broker(), await sendEnrolment(allowed.broker(), '63AA', 'C-1'), 'delivered');
    expect(allowed.endpoints().received('63AA')).toHaveLength(1);
  });
});
