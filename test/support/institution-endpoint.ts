/** Institutions' SOAP endpoints played by the test: real HTTP servers whose behaviour each test sets. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { institutionReceipt } from '../../src/delivery/institution-receipt.js';
import type { EnvelopeSigner } from '../../src/infra/xml/wss-signer.js';

export type EndpointMode =
  | 'ok'
  | 'hang'
  | 'server-error'
  | 'client-fault'
  | 'server-fault'
  | 'garbage'
  /** A receipt without a signature, also when the endpoints sign. */
  | 'unsigned'
  /** A signed receipt changed after signing (its ontvangstBevestiging's document id). */
  | 'tampered';

export interface Received {
  readonly xml: string;
  readonly messageId: string;
  readonly at: number;
}

export interface TestEndpoints {
  readonly baseUrl: string;
  url(brin: string): string;
  /** Modes to play for the next requests to this BRIN, then 'ok'. */
  script(brin: string, ...modes: EndpointMode[]): void;
  /** One mode for every request to this BRIN from now on (undefined: back to scripts). */
  always(brin: string, mode: EndpointMode | undefined): void;
  received(brin: string): Received[];
  close(): Promise<void>;
}

const fault = (code: string): string =>
  `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:${code}</faultcode><faultstring>${code}</faultstring></s:Fault></s:Body></s:Envelope>`;

export async function startTestEndpoints(
  options: { keepBodies?: boolean; receiptSigner?: EnvelopeSigner } = {},
): Promise<TestEndpoints> {
  const scripts = new Map<string, EndpointMode[]>();
  const always = new Map<string, EndpointMode>();
  const log = new Map<string, Received[]>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const brin = (req.url ?? '').split('/').pop() ?? '';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(chunks).toString('utf8');
      const messageId = /<wsa:MessageID(?:\s[^>]*)?>([^<]+)<\/wsa:MessageID>/.exec(xml)?.[1] ?? '';
      const entries = log.get(brin) ?? [];
      entries.push({ xml: options.keepBodies === false ? '' : xml, messageId, at: Date.now() });
      log.set(brin, entries);
      const mode = always.get(brin) ?? scripts.get(brin)?.shift() ?? 'ok';
      const send = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'text/xml; charset=UTF-8' });
        res.end(body);
      };
      if (mode === 'hang') hanging.add(res);
      else if (mode === 'server-error') send(503, 'unavailable');
      else if (mode === 'client-fault') send(500, fault('Client.DK0004'));
      else if (mode === 'server-fault') send(500, fault('Server.DK0051'));
      else if (mode === 'garbage') send(200, '<ok/>');
      else if (mode === 'unsigned') send(200, institutionReceipt(xml));
      else if (mode === 'tampered')
        send(
          200,
          institutionReceipt(xml, options.receiptSigner).replace(
            /(Bedrijfsdocument>)([0-9a-f])/,
            (_, tag, c) => tag + (c === '0' ? '1' : '0'),
          ),
        );
      else send(200, institutionReceipt(xml, options.receiptSigner));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    url: (brin) => `${baseUrl}/institutions/${brin}`,
    script: (brin, ...modes) => scripts.set(brin, modes),
    always: (brin, mode) => (mode ? always.set(brin, mode) : always.delete(brin)),
    received: (brin) => log.get(brin) ?? [],
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
