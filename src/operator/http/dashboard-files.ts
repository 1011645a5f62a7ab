import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { DASHBOARD_DIR } from '../../infra/paths.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=UTF-8',
  '.js': 'text/javascript; charset=UTF-8',
  '.css': 'text/css; charset=UTF-8',
  '.svg': 'image/svg+xml',
};

/**
 * Scripts, styles and data only from the broker itself: no CDN, no inline script, no framing. The
 * dashboard shows the error queue, so it must not be embeddable or leak through a referrer.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The dashboard's files, read once: a handful of small files, the same for the life of the process. */
const files = new Map<string, { type: string; body: Buffer }>(
  fs
    .readdirSync(DASHBOARD_DIR)
    .filter((file) => TYPES[path.extname(file)])
    .map((file) => [file, { type: TYPES[path.extname(file)]!, body: fs.readFileSync(path.join(DASHBOARD_DIR, file)) }]),
);

/** Serves `/admin/` (index.html) and `/admin/<file>`; false when there is no such file. */
export function serveDashboardFile(res: ServerResponse, name: string): boolean {
  const file = files.get(name === '' ? 'index.html' : name);
  if (!file) return false;
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
    ...SECURITY_HEADERS,
  });
  res.end(file.body);
  return true;
}
