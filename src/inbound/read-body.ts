import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BrokerFault } from '../infra/errors.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

const tooLarge = (limit: number, what: string): BrokerFault =>
  new BrokerFault('BB0001', `${what} is larger than the limit of ${limit} bytes`);

/**
 * A body over `thresholdBytes` waits for `wait()` before it is read on (or, decompressed, returned).
 * With `onPrefix`, its first `thresholdBytes` or more are read first and handed to `onPrefix` (which
 * may throw to refuse the request) before it waits.
 */
export interface LargeBody {
  readonly thresholdBytes: number;
  wait(): Promise<void>;
  onPrefix?(prefix: Buffer): void;
}

/**
 * Reads the raw request body, refusing more than `limit` bytes without buffering the excess. Once the
 * body is known to pass `large.thresholdBytes` (declared or read), reading pauses until `large.wait()`;
 * with `large.onPrefix`, once the bytes read pass it.
 */
function readRaw(req: IncomingMessage, limit: number, large: LargeBody | undefined): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit, 'request body'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    /** The wait for `large.wait()`, once begun: the body is given only after it. */
    let waiting: Promise<void> | undefined;
    const refuse = (error: unknown): void => {
      req.off('data', onData);
      reject(error);
    };
    const waitIfLarge = (bytes: number): void => {
      if (!large || waiting || bytes <= large.thresholdBytes) return;
      if (large.onPrefix && size <= large.thresholdBytes) return; // the prefix is read first
      req.pause();
      try {
        large.onPrefix?.(Buffer.concat(chunks, size));
      } catch (error) {
        waiting = new Promise<void>(() => undefined); // refused: never given
        refuse(error);
        return;
      }
      waiting = large.wait();
      waiting.then(() => req.resume(), refuse);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        refuse(tooLarge(limit, 'request body'));
        return;
      }
      chunks.push(chunk);
      waitIfLarge(size);
    };
    req.on('data', onData);
    if (Number.isFinite(declared)) waitIfLarge(declared);
    // The last chunk may be the one that passed the threshold: 'end' can come while it waits.
    req.once('end', () => {
      (waiting ?? Promise.resolve()).then(
        () => resolve(Buffer.concat(chunks, size)),
        () => undefined,
      );
    });
    req.once('error', reject);
  });
}

/** Undoes gzip/deflate, stopping as soon as the output would pass `limit` (a gzip bomb stops at the limit). */
async function decompress(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  const inflateFn = encoding === 'deflate' ? inflate : gunzip;
  try {
    return await inflateFn(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw tooLarge(limit, 'decompressed body');
    }
    throw new BrokerFault('BB0004', `body is not valid ${encoding} data`);
  }
}

/**
 * The request body as bytes: at most `limit` bytes on the wire and, for gzip/deflate bodies, at most
 * `limit` bytes once decompressed. A body over `large.thresholdBytes`, sent or decompressed, is
 * returned only after `large.wait()` (called once).
 */
export async function readBody(req: IncomingMessage, limit: number, large?: LargeBody): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!['identity', 'gzip', 'x-gzip', 'deflate'].includes(encoding)) {
    throw new BrokerFault(
      'BB0004',
      `Content-Encoding '${encoding.slice(0, 40)}' is not supported (use gzip, deflate or none)`,
    );
  }
  // A compressed body's first bytes say nothing: only its decompressed whole is looked at.
  const raw = await readRaw(
    req,
    limit,
    large && encoding !== 'identity' ? { thresholdBytes: large.thresholdBytes, wait: () => large.wait() } : large,
  );
  if (encoding === 'identity') return raw;
  const body = await decompress(raw, encoding, limit);
  // A small compressed body can be a large one to parse.
  if (large && raw.length <= large.thresholdBytes && body.length > large.thresholdBytes) await large.wait();
  return body;
}
