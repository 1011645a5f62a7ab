import http from 'node:http';
import type { Logger } from '../../infra/log.js';
import type { OperatorRoutes } from './operator-http.js';

const sendText = (res: http.ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/**
 * The operator's own listener (ADMIN_PORT): /admin (dashboard and API, bearer tokens as ever),
 * /metrics, /readyz and /healthz, over plain HTTP without client certificates, so a scraper or a load
 * balancer needs none; nothing else is served here, and these are then not served on the SOAP port.
 */
export function createAdminServer(routes: OperatorRoutes, log: Logger): http.Server {
  return http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://broker.invalid');
    if (req.method === 'GET' && url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    routes(req, res, url)
      .then((handled) => (handled ? undefined : sendText(res, 404, 'not found; this is the operator listener\n')))
      .catch((error: Error) => {
        log.error('unhandled admin request error', { error: error.message });
        if (!res.headersSent) sendText(res, 500, 'internal error\n');
        else res.destroy();
      });
  });
}
