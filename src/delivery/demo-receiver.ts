import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.js';
import { institutionReceipt } from './institution-receipt.js';

const MAX_BYTES = 1024 * 1024;

/**
 * The built-in demo institution endpoint (`/demo/institutions/<BRIN>`): answers every message with a
 * valid receipt and logs what arrived (operation, approval, signal codes — never the PGN), so a new
 * user sees a delivered message come back as feedback. Real institutions register their own endpoint.
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
    const operation = /<(?:[\w.-]+:)?(\w+)_Request[\s>]/.exec(xml)?.[1] ?? 'unknown';
    log.info('demo institution received', {
      brin: brin.slice(0, 8),
      operation,
      leveringGoedgekeurd: /<(?:[\w.-]+:)?leveringGoedgekeurd>([^<]*)</.exec(xml)?.[1],
      signalen: [...xml.matchAll(/<(?:[\w.-]+:)?signaalcode>([^<]*)</g)].map((m) => m[1]).join(',') || undefined,
    });
    const answer = institutionReceipt(xml);
    res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}
