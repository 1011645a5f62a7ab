/**
 * The institutions' SOAP endpoints, one HTTP server per school on its own port, each controllable:
 * `ok` (a receipt J), `down` (nothing listens: connection refused), `hang` (the request is read and
 * never answered), `http500` (a bare HTTP 500) or `client-fault` (a SOAP Client fault, which the broker
 * must not retry). Every request is recorded with its wsa:MessageID and how it was answered; an `ok`
 * answer is a delivery.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { institutionReceipt } from '../../src/delivery/institution-receipt.js';

export type EndpointMode = 'ok' | 'down' | 'hang' | 'http500' | 'client-fault';

export interface Push {
  readonly messageId: string;
  readonly operation: string;
  readonly answered: EndpointMode;
  readonly at: number;
}

const CLIENT_FAULT =
  '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>' +
  '<faultcode>s:Client.DK0004</faultcode><faultstring>refused by the chaos endpoint</faultstring></s:Fault></s:Body></s:Envelope>';

export class InstitutionEndpoint {
  readonly pushes: Push[] = [];
  private mode: EndpointMode = 'ok';
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<http.ServerResponse>();

  private constructor(
    readonly brin: string,
    public port: number,
  ) {}

  static async start(brin: string): Promise<InstitutionEndpoint> {
    const endpoint = new InstitutionEndpoint(brin, 0);
    await endpoint.listen();
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/las/${this.brin}`;
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const xml = Buffer.concat(chunks).toString('utf8');
        const messageId = (/<wsa:MessageID(?:\s[^>]*)?>([^<]+)<\/wsa:MessageID>/.exec(xml)?.[1] ?? '').replace(
          /^urn:uuid:/,
          '',
        );
        const operation = /<(?:[\w.-]+:)?(\w+)_Request[\s>]/.exec(xml)?.[1] ?? '?';
        const mode = this.mode === 'down' ? 'ok' : this.mode; // a request that got in before the close
        this.pushes.push({ messageId, operation, answered: mode, at: Date.now() });
        if (mode === 'hang') {
          this.hung.add(res);
          res.on('close', () => this.hung.delete(res));
        } else if (mode === 'http500') {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal server error');
        } else if (mode === 'client-fault') {
          res.writeHead(500, { 'content-type': 'text/xml; charset=UTF-8' });
          res.end(CLIENT_FAULT);
        } else {
          res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
          res.end(institutionReceipt(xml));
        }
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async setMode(mode: EndpointMode): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'down' && was !== 'down') await this.close();
    if (was === 'down' && mode !== 'down') {
      // The same port again; another process could take it meanwhile, so retry briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.listen();
          break;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
    if (was === 'hang' && mode !== 'hang') {
      for (const res of this.hung) res.destroy();
      this.hung.clear();
    }
  }

  /** wsa:MessageIDs the endpoint answered with a receipt J, with how often. */
  delivered(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const push of this.pushes)
      if (push.answered === 'ok') counts.set(push.messageId, (counts.get(push.messageId) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    this.mode = 'ok';
    await this.close();
  }
}
