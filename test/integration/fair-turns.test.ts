/**
 * Fair turns at the body work (docs/security.md, "Hostile load"): when one sender's requests and
 * another's are ready at once, the other's is served after at most the piece already running, not
 * after the whole flood. Real sockets: every request's last byte is held back, then all last bytes are
 * sent in one go, so that the broker finds them all ready in the same turn of its event loop.
 */
import net from 'node:net';
import type { Broker } from '../../src/broker.js';
import { startTestBroker } from '../support/broker.js';
import { ANONYMOUS, bodyFixture, lasRequest } from '../support/soap.js';

const OIN_00AH = '0000000700000AH00000';
const FLOOD = 12;

/** An HTTP/1.1 POST on a connection of its own, sent but for its last byte. */
interface HeldRequest {
  /** Sends the last byte. */
  finish(): void;
  /** When the answer's first bytes came, and its status line. */
  readonly answered: Promise<{ at: number; status: string }>;
}

async function holdRequest(
  port: number,
  request: { path: string; soapAction: string; xml: string },
): Promise<HeldRequest> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const body = Buffer.from(request.xml);
  const head =
    `POST ${request.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=UTF-8\r\n` +
    `SOAPAction: ${request.soapAction}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, body.length - 1)]));
  const answered = new Promise<{ at: number; status: string }>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => {
      resolve({ at: performance.now(), status: chunk.toString('latin1').split('\r\n')[0]! });
      socket.destroy();
    });
    socket.once('error', reject);
  });
  return { finish: () => socket.write(body.subarray(body.length - 1)), answered };
}

describe('fair turns at the body work', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  test("one sender's flood, all ready at once, does not stand before another sender's request", async () => {
    // School 00AH: bodies of 3,000 stray elements (under the 64 KiB of the bulk lane) that the schema refuses.
    const flood = () =>
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml')
          .replace(/25BE/g, '00AH')
          .replace(
            '</ins:aanleverenInschrijvingVO_Request>',
            `${'<x/>'.repeat(3000)}</ins:aanleverenInschrijvingVO_Request>`,
          ),
        { from: `${ANONYMOUS}?oin=${OIN_00AH}` },
      );
    const hostile = await Promise.all(Array.from({ length: FLOOD }, () => holdRequest(broker.port, flood())));
    // School 25BE: one small request, refused by the schema too, so that it is answered as soon as its piece has run.
    const other = await holdRequest(
      broker.port,
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml').replace('25BE</', '25be</'),
      ),
    );
    // Let the broker read everything but the last bytes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const request of hostile) request.finish();
    other.finish();

    const otherAnswer = await other.answered;
    const hostileAnswers = await Promise.all(hostile.map((request) => request.answered));
    expect([otherAnswer, ...hostileAnswers].every((answer) => answer.status.startsWith('HTTP/1.1 500'))).toBe(true);
    // First come, first served, the other request waited for all twelve; in turns, for the piece running and at most one more.
    const before = hostileAnswers.filter((answer) => answer.at < otherAnswer.at).length;
    expect(before).toBeLessThanOrEqual(2);
  });
});
