/**
 * Over plain HTTP a large body's sender is checked from the soap:Header in its first 64 KiB, before
 * the rest is read (docs/security.md, "Hostile load"): each request here sends 100 KB of a declared
 * 600 KB and stops; the answer must come all the same. Real sockets.
 */
import net from 'node:net';
import type { Broker } from '../../src/broker.js';
import { startTestBroker } from '../support/broker.js';
import { UNKNOWN_OIN } from '../support/pki.js';
import { ANONYMOUS, bodyFixture, lasRequest, send } from '../support/soap.js';

const DECLARED = 600_000;

/** Sends the request's first `sent` bytes of a declared DECLARED and waits up to 3 s for the answer's status line and fault code. */
async function partialPost(
  port: number,
  request: { path: string; soapAction: string; xml: string },
  sent = 100_000,
): Promise<string> {
  const body = Buffer.from(request.xml);
  expect(body.length).toBeGreaterThanOrEqual(sent);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(
    `POST ${request.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=UTF-8\r\n` +
      `SOAPAction: ${request.soapAction}\r\nContent-Length: ${DECLARED}\r\n\r\n`,
  );
  socket.write(body.subarray(0, sent));
  try {
    return await new Promise<string>((resolve) => {
      let text = '';
      const timer = setTimeout(() => resolve('no answer within 3 s'), 3000);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const fault = /<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(text)?.[1];
        if (fault) {
          clearTimeout(timer);
          resolve(`${text.split('\r\n')[0]} ${fault}`);
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

const padded = (from: string, extraHeaders?: string) =>
  lasRequest(
    'aanleverenInschrijvingVO',
    bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
      '</ins:aanleverenInschrijvingVO_Request>',
      `<x>${'A'.repeat(DECLARED)}</x></ins:aanleverenInschrijvingVO_Request>`,
    ),
    { from: `${ANONYMOUS}?oin=${from}`, ...(extraHeaders ? { extraHeaders } : {}) },
  );

describe('plain HTTP: a large body is refused on its soap:Header before the rest is read', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  test('an unregistered wsa:From OIN: Client.DK0002', async () => {
    expect(await partialPost(broker.port, padded(UNKNOWN_OIN))).toBe(
      'HTTP/1.1 500 Internal Server Error Client.DK0002',
    );
  });

  test('more than MAX_HEADER_ELEMENTS in soap:Header: Client.BB0002', async () => {
    const request = padded('0000000700025BE00000', '<a/>'.repeat(50_000));
    expect(await partialPost(broker.port, request)).toBe('HTTP/1.1 500 Internal Server Error Client.BB0002');
  });

  test('a sender whose last 10 messages were refused gets no place for a large body: Server.BB0006 at once', async () => {
    const oin00AH = '0000000700000AH00000';
    const invalid = () =>
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, '00AH').replace('00AH</', '00ah</'),
        { from: `${ANONYMOUS}?oin=${oin00AH}` },
      );
    for (let i = 0; i < 10; i++) expect((await send(broker.baseUrl, invalid())).faultCode).toMatch(/^Client\./);
    expect(await partialPost(broker.port, padded(oin00AH))).toBe('HTTP/1.1 500 Internal Server Error Server.BB0006');
    // A small message of it is still read, one at a time.
    expect((await send(broker.baseUrl, invalid())).faultCode).toMatch(/^Client\./);
  });

  test('a registered sender is read on: no answer until the body is whole', async () => {
    expect(await partialPost(broker.port, padded('0000000700025BE00000'))).toBe('no answer within 3 s');
  });
});
