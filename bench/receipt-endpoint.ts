/**
 * An institution's endpoint for bench:stages, in a process of its own so its CPU is counted apart:
 * answers every POST with a valid receipt (as the demo receiver does). Port from argv; says 'ready'.
 */
import http from 'node:http';
import { institutionReceipt } from '../src/delivery/institution-receipt.js';

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
    res.end(institutionReceipt(Buffer.concat(chunks).toString('utf8')));
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
// Ends with the benchmark, however that ends.
process.on('disconnect', () => process.exit(0));
