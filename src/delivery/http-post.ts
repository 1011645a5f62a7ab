import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { TlsSettings } from '../infra/config.js';
import { clientTlsOptions, loadTlsMaterial } from '../infra/tls.js';

/** An answer read in full: its exact bytes and their UTF-8 text. */
export interface HttpAnswer {
  readonly status: number;
  readonly bytes: Buffer;
  readonly text: string;
}

/** Why no answer came: no connection, no answer in time, or an answer cut off or too large. */
export class HttpPostError extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection' | 'cut-off' | 'too-large',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpPostError';
  }
}

// Kept-alive connections: one institution's endpoint gets many messages in a row.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

/** An HTTPS agent that presents a client certificate and trusts only the given CAs (mutual TLS to schools). */
export function httpsAgentFor(tls: ConnectionOptions): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 256, ...tls });
}

export interface PostOptions {
  readonly timeoutMs: number;
  readonly maxAnswerBytes: number;
  /** For https URLs; default: Node's trust store and no client certificate. */
  readonly httpsAgent?: https.Agent;
  /** Resolves the host for a new connection (default dns.lookup): the send-time address check (address-check.ts). */
  readonly lookup?: LookupFunction;
}

/** The URL and the node module that speaks its scheme; HttpPostError when it is neither http nor https. */
function transportFor(url: string): { target: URL; client: typeof http | typeof https } {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new HttpPostError('connection', `not a URL: ${url}`);
  }
  if (target.protocol === 'https:') return { target, client: https };
  if (target.protocol === 'http:') return { target, client: http };
  throw new HttpPostError('connection', `unsupported protocol ${target.protocol}`);
}

/**
 * POSTs a body and reads the whole answer, all within `timeoutMs`. node:http rather than fetch:
 * on the delivery path it costs about half the CPU per request.
 */
export function postText(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // A throw in the executor (not a URL, another scheme) rejects the promise.
    const { target, client } = transportFor(url);
    const payload = Buffer.from(body, 'utf8');
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        agent: target.protocol === 'https:' ? (options.httpsAgent ?? agents['https:']) : agents['http:'],
        headers: { ...headers, 'content-length': payload.length },
        ...(options.lookup ? { lookup: options.lookup } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxAnswerBytes) {
            finish(() =>
              reject(
                new HttpPostError(
                  'too-large',
                  `answer larger than ${options.maxAnswerBytes} bytes`,
                  response.statusCode,
                ),
              ),
            );
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish(() => {
            const bytes = Buffer.concat(chunks);
            resolve({ status: response.statusCode ?? 0, bytes, text: bytes.toString('utf8') });
          }),
        );
        response.on('error', (error) =>
          finish(() => reject(new HttpPostError('cut-off', `answer cut off: ${error.message}`, response.statusCode))),
        );
        response.on('aborted', () =>
          finish(() => reject(new HttpPostError('cut-off', 'answer cut off', response.statusCode))),
        );
      },
    );
    const timer = setTimeout(() => {
      finish(() => reject(new HttpPostError('timeout', `no answer within ${options.timeoutMs} ms`)));
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish(() => reject(new HttpPostError('connection', `connection failed: ${error.code ?? error.message}`))),
    );
    request.end(payload);
  });
}

/**
 * The agent deliveries use for https endpoints: with TLS on, the broker's client certificate and only
 * DELIVERY_CA_FILE trusted; with TLS off, undefined (Node's trust store, no client certificate).
 */
export function deliveryHttpsAgent(tls: TlsSettings | null): https.Agent | undefined {
  return tls ? httpsAgentFor(clientTlsOptions(loadTlsMaterial(tls))) : undefined;
}

/**
 * GETs a URL over the same transport as deliveries (the agent's TLS settings) and returns the answer's
 * status, its body discarded; never follows a redirect. Rejects with HttpPostError (timeout, connection).
 */
export function probeStatus(url: string, options: { timeoutMs: number; httpsAgent?: https.Agent }): Promise<number> {
  return new Promise((resolve, reject) => {
    // A throw in the executor (not a URL, another scheme) rejects the promise.
    const { target, client } = transportFor(url);
    const request = client.request(target, {
      method: 'GET',
      agent: target.protocol === 'https:' ? (options.httpsAgent ?? false) : false,
    });
    const timer = setTimeout(() => {
      request.destroy(new HttpPostError('timeout', `no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    request.on('response', (response) => {
      clearTimeout(timer);
      response.resume();
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error instanceof HttpPostError
          ? error
          : new HttpPostError('connection', `connection failed: ${error.code ?? error.message}`),
      );
    });
    request.end();
  });
}
