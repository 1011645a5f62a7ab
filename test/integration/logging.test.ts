/** One JSON line per request, with request id, outcome and fault code; never raw XML or a value from the body. */
import { Writable } from 'node:stream';
import type { Broker } from '../../src/broker.js';
import { createLogger } from '../../src/infra/log.js';
import { startTestBroker, waitFor } from '../support/broker.js';
import { bodyFixture, lasRequest, send } from '../support/soap.js';

describe('request log', () => {
  const lines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker({ log: createLogger('info', capture) });
  });
  afterAll(async () => {
    await broker.close();
  });

  const requestLines = () => lines.filter((line) => line.message === 'request');

  test('an accepted and a refused request each give one line; the refusal names the element and the kind, not the value', async () => {
    const accepted = await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml')),
    );
    const refused = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml').replace('123456782', '12345678'),
      ),
    );
    expect(accepted.status).toBe(200);
    expect(refused.faultString).toContain('12345678'); // the sender is told its own value

    const logged = await waitFor(
      async () => requestLines(),
      (l) => l.length >= 2,
    );
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 'info',
      outcome: 'accepted',
      operation: 'aanleverenInschrijvingVO',
      senderOin: '0000000700025BE00000',
      brin: '25BE',
    });
    expect(logged[1]).toMatchObject({
      outcome: 'fault',
      faultCode: 'Client.DK0004',
      element: 'burgerservicenummer',
      reason: 'body not valid against the schema: pattern',
    });
    for (const line of logged) {
      expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof line.ms).toBe('number');
    }
    const text = JSON.stringify(lines);
    expect(text).not.toContain('12345678');
    expect(text).not.toContain('123456782');
    expect(text).not.toContain('******678'); // not even masked: no value from the body is logged
    expect(text).not.toMatch(/Envelope|<\w/);
  });
});
