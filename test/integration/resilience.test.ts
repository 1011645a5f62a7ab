/**
 * Failures of the services behind the broker, on a private PostgreSQL and Redis this file may stop:
 * no store → Server.DK0051 fast and never a receipt; no Redis → still accepted, enqueued later.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { jest } from '@jest/globals';
import type { Broker } from '../../src/broker.js';
import { messageIdsOf } from '../../src/infra/processing-queue.js';
import type { RunningService } from '../../src/infra/services/embedded-postgres.js';
import { startEmbeddedPostgres } from '../../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../../src/infra/services/local-redis.js';
import { startTestBroker, storedCounts, waitFor } from '../support/broker.js';
import { startTestServices, stopTestServices, type TestServices } from '../support/services.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

jest.setTimeout(60_000);

describe('when PostgreSQL or Redis is down', () => {
  let services: TestServices;
  let broker: Broker;
  const noop = (): void => undefined;
  const restart = {
    postgres: (): Promise<RunningService> =>
      startEmbeddedPostgres({
        dataDir: path.join(services.dir, 'pg'),
        port: Number(new URL(services.postgres.url).port),
        database: 'postgres',
        log: noop,
      }),
    redis: (): Promise<RunningService> =>
      startLocalRedis({
        dataDir: path.join(services.dir, 'redis'),
        port: Number(new URL(services.redis.url).port),
        log: noop,
      }),
  };

  beforeAll(async () => {
    services = await startTestServices('resilience');
    broker = await startTestBroker({
      databaseUrl: services.postgres.url,
      redisUrl: services.redis.url,
      env: { ACCEPT_TIMEOUT_MS: '1500' },
    });
  });
  afterAll(async () => {
    await broker.close();
    await stopTestServices(services);
  });

  test('PostgreSQL stopped → Server.DK0051 within 2 s, no receipt; after restart the same message is accepted once', async () => {
    await services.postgres.stop();
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId);
    const started = performance.now();
    const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(answer.faultCode).toBe('Server.DK0051');
    expect(answer.text).not.toContain('ontvangstBevestiging');

    services = { ...services, postgres: await restart.postgres() };
    const again = await waitFor(
      () => send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body)),
      (a) => a.faultCode === null,
      15_000,
    );
    expect(elementText(again.text, 'ontvangstBevestiging')).toBe('J');
    const rows = await broker.pool.query('SELECT count(*)::int AS n FROM inbound_messages WHERE document_id = $1', [
      documentId,
    ]);
    expect(rows.rows[0].n).toBe(1);
  });

  test('Redis stopped → still accepted; the sweeper enqueues it after Redis returns', async () => {
    await services.redis.stop();
    const documentId = randomUUID();
    const answer = await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)),
    );
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const row = (await broker.pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    expect(row).toBeDefined();
    expect((await storedCounts(broker)).outbox).toBeGreaterThan(0);

    services = { ...services, redis: await restart.redis() };
    // Its wake-up was never added (Redis was down); the sweeper reads the waiting row from PostgreSQL.
    const wakeUps = await waitFor(
      async () =>
        (await broker.processingQueue.getJobs(['waiting']).catch(() => [])).filter((j) =>
          messageIdsOf(j.data).includes(row.id),
        ),
      (jobs) => jobs.length > 0,
      20_000,
    );
    expect(wakeUps.length).toBeGreaterThan(0);
    expect(broker.sweeper.reenqueued).toBeGreaterThanOrEqual(1);
  });
});
