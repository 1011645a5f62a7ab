/**
 * The hostile corpus (test/fixtures/hostile): every input gets a Client or VersionMismatch fault,
 * quickly, nothing is stored or enqueued, and the broker keeps answering valid requests.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { GENERATED_HOSTILE } from '../fixtures/hostile/generate.js';
import { storedCounts, useTestBroker } from '../support/broker.js';
import { bodyFixture, elementText, FIXTURES, lasRequest, send } from '../support/soap.js';

const DIR = path.join(FIXTURES, 'hostile');
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  inschrijvingAction: string;
  expect: Record<string, string>;
  generated: Record<string, string>;
};

/**
 * POSTs with node:http so a body the server stops reading still gets its answer read (fetch gives up
 * on a request whose upload is cut short).
 */
function rawPost(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'text/xml; charset=UTF-8',
          'content-length': body.length,
          soapaction: `"${manifest.inschrijvingAction}"`,
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const cases: [string, string, () => Promise<{ body: Buffer; headers: Record<string, string> }>][] = [
  ...Object.entries(manifest.expect).map(
    ([file, code]) =>
      [file, code, async () => ({ body: fs.readFileSync(path.join(DIR, file)), headers: {} })] as [
        string,
        string,
        () => Promise<{ body: Buffer; headers: Record<string, string> }>,
      ],
  ),
  ...Object.entries(manifest.generated).map(
    ([name, code]) =>
      [name, code, async () => GENERATED_HOSTILE[name]!()] as [
        string,
        string,
        () => Promise<{ body: Buffer; headers: Record<string, string> }>,
      ],
  ),
];

describe('hostile input', () => {
  const broker = useTestBroker();

  test('every file in the corpus has an expectation', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.xml'));
    expect(files.sort()).toEqual(Object.keys(manifest.expect).sort());
  });

  test.each(cases)('%s → %s, nothing stored, still responsive', async (_name, code, make) => {
    const before = await storedCounts(broker());
    const { body, headers } = await make();

    const started = performance.now();
    const answer = await rawPost(
      `${broker().baseUrl}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1`,
      body,
      headers,
    );
    const elapsed = performance.now() - started;

    expect(answer.status).toBe(500);
    expect(/<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(answer.text)?.[1]).toBe(code);
    expect(elapsed).toBeLessThan(3000);
    expect(answer.text).not.toContain('/etc/passwd');
    expect(answer.text).not.toContain('root:');
    expect(await storedCounts(broker())).toEqual(before);

    const valid = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml')),
    );
    expect(elementText(valid.text, 'ontvangstBevestiging')).toBe('J');
  });

  test('a sender that reads only after uploading past what the broker discards still gets its fault', async () => {
    const url = new URL(`${broker().baseUrl}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1`);
    const body = Buffer.alloc(20 * 1024 * 1024, 'A'); // past 16 × MAX_BODY_BYTES, all the broker discards
    const socket = net.connect(Number(url.port), url.hostname);
    socket.pause(); // reads nothing until its upload is done, as a client that sends before it reads
    socket.on('error', () => undefined); // its writes may fail once the broker closes
    socket.write(
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: text/xml; charset=UTF-8\r\n` +
        `soapaction: "${manifest.inschrijvingAction}"\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    socket.write(body);
    // Until the broker has read all it will: the upload stalls, or the connection is gone.
    for (let last = -1, waited = 0; socket.bytesWritten !== last && !socket.destroyed && waited < 5000; waited += 200) {
      last = socket.bytesWritten;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const answer = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).includes('</soapenv:Envelope>')) resolve(Buffer.concat(chunks).toString('utf8'));
      });
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      if (socket.destroyed) resolve(''); // reset while it waited: its answer is gone
      socket.resume();
    });
    socket.destroy();
    expect(/<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(answer)?.[1]).toBe('Client.BB0001');
  });

  test('no prototype was polluted by __proto__ elements', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
