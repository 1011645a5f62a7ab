/**
 * Work in proportion to trust (docs/security.md, "Hostile load"): the limits on soap:Header and on the
 * elements of a message refuse before libxml2 builds a tree; the sender is checked before the body
 * costs anything; a sender's requests in flight and a peer's connections are capped; a body over the
 * limit still gets its fault; and no refused request leaves a row behind.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { promisify } from 'node:util';
import type { Broker } from '../../src/broker.js';
import { startTestBroker, storedCounts } from '../support/broker.js';
import { brokerTlsEnv, type Credentials, generateTestPki, type TestPki, UNKNOWN_OIN } from '../support/pki.js';
import { ANONYMOUS, BROKER_OIN, bodyFixture, elementText, lasRequest, OIN_25BE, send } from '../support/soap.js';

const execFileAsync = promisify(execFile);
const OIN_00AH = '0000000700000AH00000';

interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
  faultCode: string | null;
  faultString: string | null;
  ms: number;
}

const answerOf = (status: number, text: string, headers: http.IncomingHttpHeaders, started: number): Answer => ({
  status,
  text,
  headers,
  faultCode: /<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(text)?.[1] ?? null,
  faultString: /<faultstring[^>]*>([^<]*)<\/faultstring>/.exec(text)?.[1] ?? null,
  ms: performance.now() - started,
});

interface RawRequest {
  readonly path: string;
  readonly soapAction: string;
  /** Sent whole, or in these pieces (chunked, one per write). */
  readonly body: Buffer | readonly Buffer[];
  /** Leave the request unfinished after the body's pieces: a sender that stops sending. */
  readonly unfinished?: boolean;
  readonly declaredLength?: number;
}

/**
 * One request over node:http(s) on a connection of its own, so that an answer the broker sends before
 * the body is read whole is still read (fetch gives up on a request whose upload is cut short).
 */
function rawPost(baseUrl: string, request: RawRequest, tls?: { ca: Buffer; client: Credentials }): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const pieces = Buffer.isBuffer(request.body) ? [request.body] : request.body;
    const options: https.RequestOptions = {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'text/xml; charset=UTF-8',
        soapaction: request.soapAction,
        ...(request.declaredLength !== undefined
          ? { 'content-length': request.declaredLength }
          : Buffer.isBuffer(request.body)
            ? { 'content-length': request.body.length }
            : {}),
      },
      ...(tls ? { ca: tls.ca, cert: tls.client.cert, key: tls.client.key } : {}),
    };
    const onResponse = (response: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve(answerOf(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), response.headers, started)),
      );
      response.on('error', reject);
    };
    const req = tls
      ? https.request(`${baseUrl}${request.path}`, options, onResponse)
      : http.request(`${baseUrl}${request.path}`, options, onResponse);
    req.on('error', reject);
    void (async () => {
      for (const piece of pieces) {
        if (!req.write(piece)) await new Promise((resolve) => req.once('drain', resolve));
      }
      if (!request.unfinished) req.end();
    })();
  });
}

const inschrijving = (options: { from?: string; extraHeaders?: string; messageId?: string } = {}) =>
  lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'), {
    ...(options.from ? { from: `${ANONYMOUS}?oin=${options.from}` } : {}),
    ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
    ...(options.messageId ? { messageId: options.messageId } : {}),
  });

const asRaw = (request: { path: string; soapAction: string; xml: string }): RawRequest => ({
  path: request.path,
  soapAction: request.soapAction,
  body: Buffer.from(request.xml),
});

/** wsa:ReplyTo holding `children` empty elements: allowed, not read, and counted by MAX_HEADER_ELEMENTS. */
const replyToHeader = (children: number): string => `<wsa:ReplyTo>${'<x/>'.repeat(children)}</wsa:ReplyTo>`;

describe('plain HTTP (development): limits, the sender before the body, no junk stored', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  test('259,000 empty elements in soap:Header: Client.BB0002 naming MAX_HEADER_ELEMENTS, quickly', async () => {
    const request = inschrijving({ extraHeaders: '<a/>'.repeat(259_000) });
    expect(Buffer.byteLength(request.xml)).toBeLessThan(1024 * 1024);
    const before = await storedCounts(broker);
    const answer = await rawPost(broker.baseUrl, asRaw(request));
    expect(answer.faultCode).toBe('Client.BB0002');
    expect(answer.faultString).toContain('MAX_HEADER_ELEMENTS');
    // It took 0.65-0.9 s when the whole document was outlined and parsed first.
    expect(answer.ms).toBeLessThan(400);
    expect(await storedCounts(broker)).toEqual(before);
  });

  test('soap:Header at 100 elements is accepted, at 101 it is Client.BB0002', async () => {
    // To, Action, MessageID, From, From/Address: 5; wsa:ReplyTo and its children make up the rest.
    const atLimit = await send(broker.baseUrl, inschrijving({ extraHeaders: replyToHeader(94) }));
    expect(elementText(atLimit.text, 'ontvangstBevestiging')).toBe('J');
    const over = await send(broker.baseUrl, inschrijving({ extraHeaders: replyToHeader(95) }));
    expect(over.faultCode).toBe('Client.BB0002');
    expect(over.faultString).toContain('more than 100 elements in soap:Header');
  });

  test('a soap:Header over 16 KiB: Client.BB0002 naming MAX_HEADER_BYTES', async () => {
    const answer = await send(broker.baseUrl, inschrijving({ messageId: `urn:uuid:${'0'.repeat(17_000)}` }));
    expect(answer.faultCode).toBe('Client.BB0002');
    expect(answer.faultString).toContain('MAX_HEADER_BYTES');
  });

  test('more than 20,000 elements in the message: Client.BB0002 naming MAX_ELEMENTS', async () => {
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
      '</ins:aanleverenInschrijvingVO_Request>',
      `${'<x/>'.repeat(20_000)}</ins:aanleverenInschrijvingVO_Request>`,
    );
    expect(body).toContain('<x/>');
    const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    expect(answer.faultCode).toBe('Client.BB0002');
    expect(answer.faultString).toContain('MAX_ELEMENTS');
  });

  test('an unregistered wsa:From OIN is refused before the body is read: Client.DK0002, even for a broken body', async () => {
    const request = inschrijving({ from: UNKNOWN_OIN });
    // A body that is not even well-formed: refused as BB0003 if the body were scanned first.
    const broken = request.xml.replace('</soapenv:Body>', '<unclosed></soapenv:Body>');
    const answer = await rawPost(broker.baseUrl, { ...asRaw(request), body: Buffer.from(broken) });
    expect(answer.faultCode).toBe('Client.DK0002');
    expect(answer.faultString).toContain(`OIN ${UNKNOWN_OIN} is not registered`);
  });

  test('a 10 MB POST gets its Client.BB0001 fault, not a reset: with Content-Length and streamed in chunks', async () => {
    const request = inschrijving();
    const tenMb = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const declared = await rawPost(broker.baseUrl, {
      ...asRaw(request),
      body: Buffer.concat([Buffer.from(request.xml), tenMb]),
    });
    expect(declared).toMatchObject({ status: 500, faultCode: 'Client.BB0001' });
    const pieces = Array.from({ length: 160 }, () => Buffer.alloc(64 * 1024, 0x20));
    const streamed = await rawPost(broker.baseUrl, { ...asRaw(request), body: [Buffer.from(request.xml), ...pieces] });
    expect(streamed).toMatchObject({ status: 500, faultCode: 'Client.BB0001' });
    expect(streamed.text).toContain('larger than the limit of 1048576 bytes');
  });

  test('a 10 MB upload by a client that sends its whole body before it reads (Python http.client) gets its Client.BB0001 fault', async () => {
    const request = inschrijving();
    // http.client sends the whole body before it reads the answer: a connection closed under it is a broken pipe.
    const script = [
      'import http.client, sys',
      'head, tail = sys.argv[1], int(sys.argv[2])',
      "body = head.encode() + b' ' * tail",
      "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[3]), timeout=20)",
      "c.request('POST', sys.argv[4], body=body, headers={'content-type': 'text/xml; charset=UTF-8', 'soapaction': sys.argv[5]})",
      'r = c.getresponse()',
      'print(r.status, r.read().decode())',
    ].join('\n');
    const { stdout } = await execFileAsync('python3', [
      '-c',
      script,
      request.xml,
      String(10 * 1024 * 1024),
      String(broker.port),
      request.path,
      request.soapAction,
    ]);
    expect(stdout.startsWith('500 ')).toBe(true);
    expect(stdout).toContain('<faultcode>soapenv:Client.BB0001</faultcode>');
  });

  test('large bodies take turns; a sender gone while waiting for its turn does not keep the lane', async () => {
    /** Headers and 100 bytes of a declared 200 KB body: it takes (or waits for) the lane and stalls there. */
    const stall = (): http.ClientRequest => {
      const request = inschrijving();
      const req = http.request(`${broker.baseUrl}${request.path}`, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'text/xml; charset=UTF-8',
          soapaction: request.soapAction,
          'content-length': 200_000,
        },
      });
      req.on('error', () => undefined);
      req.write(request.xml.slice(0, 100));
      return req;
    };
    const holding = stall();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = stall();
    await new Promise((resolve) => setTimeout(resolve, 200));
    waiting.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    holding.destroy();
    // A valid message padded past 64 KiB with a comment: it needs the lane, and gets it at once.
    const padded = inschrijving();
    const xml = padded.xml.replace('<soapenv:Body>', `<soapenv:Body><!--${'x'.repeat(100_000)}-->`);
    const answer = await rawPost(broker.baseUrl, { ...asRaw(padded), body: Buffer.from(xml) });
    expect(answer.faultCode).toBeNull();
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    expect(answer.ms).toBeLessThan(3000);
  });

  test('16 hostile senders at once store nothing, and a valid sender is still answered', async () => {
    const before = await storedCounts(broker);
    const valid = inschrijving();
    // Another school than the one whose OIN the hostile senders claim (which they get distrusted).
    const otherSchool = lasRequest(
      'aanleverenInschrijvingVO',
      bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, '00AH'),
      { from: `${ANONYMOUS}?oin=${OIN_00AH}` },
    );
    const hostile = [
      // An unregistered OIN with a valid body.
      () => asRaw(inschrijving({ from: UNKNOWN_OIN })),
      // A registered OIN: a body invalid against the schema, a huge header, one not well-formed.
      () =>
        asRaw(
          lasRequest(
            'aanleverenInschrijvingVO',
            bodyFixture('valid/aanleverenInschrijvingVO.xml').replace('25BE</', '25be</'),
          ),
        ),
      () => asRaw(inschrijving({ extraHeaders: '<a/>'.repeat(50_000) })),
      () => ({ ...asRaw(valid), body: Buffer.from(valid.xml.replace('</soapenv:Body>', '<x></soapenv:Body>')) }),
    ];
    const senders = Array.from({ length: 16 }, async (_, i) => {
      const codes: (string | null)[] = [];
      for (let n = 0; n < 5; n++) codes.push((await rawPost(broker.baseUrl, hostile[i % hostile.length]!())).faultCode);
      return codes;
    });
    const answer = await send(broker.baseUrl, otherSchool);
    const codes = (await Promise.all(senders)).flat();
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    expect(codes).toHaveLength(80);
    // Client faults, and once the claimed OIN has 10 refused in a row, Server.BB0006 for all but one at a time.
    expect(codes.every((code) => code?.startsWith('Client.') || code === 'Server.BB0006')).toBe(true);
    expect(await storedCounts(broker)).toEqual({
      messages: before.messages + 1,
      outbox: expect.any(Number) as unknown as number,
    });
  });
});

describe('connection caps', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker({ env: { MAX_CONNECTIONS_PER_IP: '2' } });
  });
  afterAll(async () => {
    await broker?.close();
  });

  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(broker.port, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    });
  /** Whether the broker answers a request on the socket (true) or closes it unanswered (false). */
  const answers = (socket: net.Socket): Promise<boolean> =>
    new Promise((resolve) => {
      socket.once('data', () => resolve(true));
      socket.once('close', () => resolve(false));
      socket.once('error', () => resolve(false));
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });

  test('a third connection from one IP address is closed unanswered while two are open (MAX_CONNECTIONS_PER_IP)', async () => {
    const first = await connect();
    const second = await connect();
    const third = await connect();
    expect(await answers(third)).toBe(false);
    expect(await answers(first)).toBe(true);
    expect(await answers(second)).toBe(true);
    first.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = await connect();
    expect(await answers(fourth)).toBe(true);
    second.destroy();
    fourth.destroy();
  });
});

describe('mutual TLS: the certificate OIN before the body, requests in flight per sender', () => {
  let pki: TestPki;
  let broker: Broker;
  beforeAll(async () => {
    pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: OIN_00AH });
    broker = await startTestBroker({ env: { ...brokerTlsEnv(pki), MAX_IN_FLIGHT_PER_SENDER: '1' } });
  });
  afterAll(async () => {
    await broker?.close();
    pki?.remove();
  });

  /** A request whose body is sent only in part and never finished: it waits in the broker for the rest. */
  const stalled = (client: Credentials, from: string) => {
    const request = inschrijving({ from });
    const xml = Buffer.from(request.xml);
    return rawPost(
      broker.baseUrl,
      { ...asRaw(request), body: [xml.subarray(0, 100)], declaredLength: xml.length, unfinished: true },
      { ca: pki.ca, client },
    );
  };

  test('a 10 MB POST over HTTPS gets its Client.BB0001 fault, not a reset', async () => {
    const request = inschrijving({ from: OIN_00AH });
    const tenMb = Buffer.concat([Buffer.from(request.xml), Buffer.alloc(10 * 1024 * 1024, 0x20)]);
    const tls = { ca: pki.ca, client: pki.school00AH };
    const declared = await rawPost(broker.baseUrl, { ...asRaw(request), body: tenMb }, tls);
    expect(declared).toMatchObject({ status: 500, faultCode: 'Client.BB0001' });
    const pieces = Array.from({ length: 160 }, (_, i) => tenMb.subarray(i * 65_536, (i + 1) * 65_536));
    const streamed = await rawPost(broker.baseUrl, { ...asRaw(request), body: pieces }, tls);
    expect(streamed).toMatchObject({ status: 500, faultCode: 'Client.BB0001' });
  });

  test('an unknown certificate OIN gets Client.EK0030 at once, before its body has been sent', async () => {
    const before = await storedCounts(broker);
    const answer = await Promise.race([
      stalled(pki.unknownOin, UNKNOWN_OIN),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000)),
    ]);
    expect(answer).toMatchObject({ status: 500, faultCode: 'Client.EK0030' });
    expect(await storedCounts(broker)).toEqual(before);
  });

  test('a second request of one sender while its first waits: a quick Server.BB0006 with Retry-After; others are served', async () => {
    const request = inschrijving({ from: OIN_25BE });
    const xml = Buffer.from(request.xml);
    // The first request of 25BE: headers and part of its body, the rest held back until later.
    let finish: () => void = () => undefined;
    const firstDone = new Promise<Answer>((resolve, reject) => {
      const started = performance.now();
      const req = https.request(
        `${broker.baseUrl}${request.path}`,
        {
          method: 'POST',
          agent: false,
          ca: pki.ca,
          cert: pki.school25BE.cert,
          key: pki.school25BE.key,
          headers: {
            'content-type': 'text/xml; charset=UTF-8',
            soapaction: request.soapAction,
            'content-length': xml.length,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve(
              answerOf(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), response.headers, started),
            ),
          );
        },
      );
      req.on('error', reject);
      req.write(xml.subarray(0, 100));
      finish = () => req.end(xml.subarray(100));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const second = await rawPost(broker.baseUrl, asRaw(inschrijving({ from: OIN_25BE })), {
      ca: pki.ca,
      client: pki.school25BE,
    });
    expect(second).toMatchObject({ status: 500, faultCode: 'Server.BB0006' });
    expect(second.headers['retry-after']).toBe('1');
    expect(second.ms).toBeLessThan(1000);

    const other = await rawPost(
      broker.baseUrl,
      asRaw(
        lasRequest(
          'aanleverenInschrijvingVO',
          bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, '00AH'),
          { from: `${ANONYMOUS}?oin=${OIN_00AH}` },
        ),
      ),
      { ca: pki.ca, client: pki.school00AH },
    );
    expect(other.faultCode).not.toBe('Server.BB0006');

    finish();
    const first = await firstDone;
    expect(first).toMatchObject({ status: 200, faultCode: null });
    const again = await rawPost(broker.baseUrl, asRaw(inschrijving({ from: OIN_25BE })), {
      ca: pki.ca,
      client: pki.school25BE,
    });
    expect(again).toMatchObject({ status: 200, faultCode: null });
  });
});
