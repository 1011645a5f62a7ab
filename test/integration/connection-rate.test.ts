/**
 * New connections per IP address a second (MAX_NEW_CONNECTIONS_PER_IP, docs/security.md "Hostile
 * load"): past the rate a connection is closed before its TLS handshake, another address is served,
 * and the address is served again once its bucket has refilled. Real mutual-TLS sockets.
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Broker } from '../../src/broker.js';
import { startTestBroker } from '../support/broker.js';
import { brokerTlsEnv, generateTestPki, type TestPki, UNKNOWN_OIN } from '../support/pki.js';
import { ANONYMOUS, BROKER_OIN, bodyFixture, lasRequest, OIN_25BE } from '../support/soap.js';

const OIN_00AH = '0000000700000AH00000';
const RATE = 3;

describe('new connections per IP address a second, over mutual TLS', () => {
  let pki: TestPki;
  let broker: Broker;
  beforeAll(async () => {
    pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: OIN_00AH });
    broker = await startTestBroker({ env: { ...brokerTlsEnv(pki), MAX_NEW_CONNECTIONS_PER_IP: String(RATE) } });
  });
  afterAll(async () => {
    await broker?.close();
    pki?.remove();
  });

  /** A new connection from `localAddress`: 'handshake' once TLS is up, else how it ended before. */
  const connect = (localAddress: string): Promise<{ outcome: string; socket: tls.TLSSocket }> =>
    new Promise((resolve) => {
      const socket = tls.connect({
        socket: net.connect({ host: '127.0.0.1', port: broker.port, localAddress }),
        ca: pki.ca,
        cert: pki.school25BE.cert,
        key: pki.school25BE.key,
        servername: 'localhost',
      });
      socket.once('secureConnect', () => resolve({ outcome: 'handshake', socket }));
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve({ outcome: `closed before the handshake (${error.code ?? error.message})`, socket }),
      );
    });

  /** A request on a new connection from `localAddress`. */
  const health = (localAddress: string): Promise<number | string> =>
    new Promise((resolve) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: broker.port,
            path: '/healthz',
            localAddress,
            agent: false,
            ca: pki.ca,
            cert: pki.school25BE.cert,
            key: pki.school25BE.key,
            servername: 'localhost',
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });

  test(`a ${RATE + 1}th new connection from one address within a second is closed before its handshake; others are served`, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the start-up's own connections' tokens back
    const first = await Promise.all(Array.from({ length: RATE }, () => connect('127.0.0.1')));
    expect(first.map((c) => c.outcome)).toEqual(Array(RATE).fill('handshake'));
    const over = await connect('127.0.0.1');
    expect(over.outcome).toMatch(/^closed before the handshake/);
    // The connections taken stay usable, and another address has a bucket of its own.
    expect(await health('127.0.0.2')).toBe(200);
    for (const { socket } of [...first, over]) socket.destroy();
    // A second later the address has tokens again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await health('127.0.0.1')).toBe(200);
  });

  test("after a fault before its body was read, a small request's connection stays usable, a large one's is closed", async () => {
    // An address of its own, so that the connections above do not count.
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      localAddress: '127.0.0.3',
      ca: pki.ca,
      cert: pki.unknownOin.cert,
      key: pki.unknownOin.key,
    });
    /** Posts `padding` bytes past the request (unknown certificate OIN: EK0030 before the body is read); its socket once answered. */
    const post = (padding: number): Promise<{ fault: string; socket: net.Socket }> =>
      new Promise((resolve, reject) => {
        const request = lasRequest(
          'aanleverenInschrijvingVO',
          bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
            '</ins:aanleverenInschrijvingVO_Request>',
            `<x>${'A'.repeat(padding)}</x></ins:aanleverenInschrijvingVO_Request>`,
          ),
          { from: `${ANONYMOUS}?oin=${UNKNOWN_OIN}` },
        );
        const req = https.request(
          {
            host: '127.0.0.1',
            port: broker.port,
            path: request.path,
            method: 'POST',
            agent,
            servername: 'localhost',
            headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: request.soapAction },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString('utf8');
            });
            // Answered and the whole body sent: what becomes of the connection is the broker's doing.
            const finished = new Promise((done) => (req.writableFinished ? done(undefined) : req.once('finish', done)));
            res.on(
              'end',
              () =>
                void finished.then(() =>
                  resolve({ fault: /<faultcode>soapenv:([^<]+)/.exec(text)?.[1] ?? '', socket: req.socket! }),
                ),
            );
          },
        );
        req.on('error', reject);
        req.end(request.xml);
      });
    const closedWithin = (socket: net.Socket, ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    try {
      const small = await post(0);
      expect(small.fault).toBe('Client.EK0030');
      expect(await closedWithin(small.socket, 500)).toBe(false);
      const again = await post(0);
      expect(again.socket).toBe(small.socket); // no new handshake
      const large = await post(600_000);
      expect(large.fault).toBe('Client.EK0030');
      expect(await closedWithin(large.socket, 2000)).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});
