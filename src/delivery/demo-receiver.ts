import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../infra/log.js';
import { institutionReceipt } from './institution-receipt.js';

const MAX_BYTES = 1024 * 1024;

/** Where the built-in demo receiver listens, per BRIN; mounted only while the demo is on (SEED_DEMO). */
export const DEMO_RECEIVER_PATH = '/demo/institutions/';

/** Longest value the demo receiver logs; anyone may post to it, so nothing it logs is trusted. */
const MAX_LOGGED = 64;
/** Most signal codes one log line lists. */
const MAX_SIGNALS = 20;

/**
 * A received value as it may be logged: control characters escaped (no forged lines), at most
 * `max` characters (no megabyte lines).
 */
export function loggable(value: string, max = MAX_LOGGED): string {
  const escaped = value.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this matches
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max)}...(${escaped.length} chars)` : escaped;
}

/** What the demo receiver logs about a message: operation, approval, signal codes — never the PGN. */
export function demoReceiptLine(xml: string, brin: string): Record<string, string | undefined> {
  const signals = [...xml.matchAll(/<(?:[\w.-]+:)?signaalcode>([^<]*)</g)].map((m) => loggable(m[1]!, 16));
  const approved = /<(?:[\w.-]+:)?leveringGoedgekeurd>([^<]*)</.exec(xml)?.[1];
  return {
    brin: /^[0-9]{2}[A-Z]{2}$/.test(brin) ? brin : `invalid: ${loggable(brin, 16)}`,
    operation: loggable(/<(?:[\w.-]+:)?(\w+)_Request[\s>]/.exec(xml)?.[1] ?? 'unknown'),
    leveringGoedgekeurd: approved === undefined ? undefined : loggable(approved, 16),
    signalen:
      signals.length === 0
        ? undefined
        : `${signals.slice(0, MAX_SIGNALS).join(',')}${signals.length > MAX_SIGNALS ? `,...(${signals.length})` : ''}`,
  };
}

/**
 * The built-in demo institution endpoint (`/demo/institutions/<BRIN>`): answers every message with a
 * valid receipt and logs what arrived, so a new user sees a delivered message come back as feedback.
 * Real institutions register their own endpoint.
 */
export function receiveAsDemoInstitution(req: IncomingMessage, res: ServerResponse, brin: string, log: Logger): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    const xml = Buffer.concat(chunks).toString('utf8');
    log.info('demo institution received', demoReceiptLine(xml, brin));
    const answer = institutionReceipt(xml);
    res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}
