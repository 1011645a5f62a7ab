import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../../infra/log.js';
import type { ClusterScrape } from '../../infra/metrics/cluster-metrics.js';
import { checkReadiness, type ReadinessDeps } from '../../infra/metrics/readiness.js';
import { OperatorInputError } from '../input.js';
import { type AdminApiDeps, findRoute } from './api.js';
import { authoriseOperator } from './auth.js';
import { serveDashboardFile } from './dashboard-files.js';
import { HttpError, sendJson } from './http-json.js';

/** Everything the operator routes need; built once by the broker's composition root. */
export interface OperatorHttpDeps {
  readonly api: AdminApiDeps;
  readonly tokens: { readonly read: string; readonly operator: string };
  readonly metrics: Registry;
  /** In a cluster worker: the whole cluster's metrics, which the primary sums (a scrape lands on any worker). */
  readonly scrapeCluster?: ClusterScrape;
  readonly readiness: ReadinessDeps;
  readonly log: Logger;
}

const API_PREFIX = '/admin/api/';

async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: OperatorHttpDeps): Promise<void> {
  const found = findRoute(req.method ?? 'GET', url.pathname.slice(API_PREFIX.length));
  if (found === undefined) throw new HttpError(404, 'no such admin operation');
  if (found === 'wrong-method') throw new HttpError(405, 'method not allowed');
  const caller = authoriseOperator(req, deps.tokens, found.route.role);
  const result = await found.route.run({ params: found.params, query: url.searchParams, req, caller, deps: deps.api });
  if (found.route.role === 'operator') deps.log.info('operator action', { actor: caller.actor, path: url.pathname });
  sendJson(res, 200, result);
}

async function sendMetrics(
  res: ServerResponse,
  registry: Registry,
  scrapeCluster: ClusterScrape | undefined,
): Promise<void> {
  const text = scrapeCluster ? await scrapeCluster() : await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The operator's side of the HTTP server: `/admin` (dashboard), `/admin/api/*` (JSON, bearer
 * tokens), `/metrics` (Prometheus) and `/readyz`. Returns false for any other path.
 */
export function operatorRoutes(deps: OperatorHttpDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const { pathname } = url;
    if (req.method === 'GET' && pathname === '/metrics') {
      await sendMetrics(res, deps.metrics, deps.scrapeCluster);
      return true;
    }
    if (req.method === 'GET' && pathname === '/readyz') {
      const readiness = await checkReadiness(deps.readiness);
      sendJson(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not ready', ...readiness });
      return true;
    }
    if (pathname.startsWith(API_PREFIX)) {
      try {
        await handleApi(req, res, url, deps);
      } catch (error) {
        const status = error instanceof HttpError ? error.status : error instanceof OperatorInputError ? 400 : 500;
        if (status === 500) deps.log.error('admin API error', { path: pathname, error: (error as Error).message });
        const headers: Record<string, string> =
          status === 401 ? { 'www-authenticate': 'Bearer realm="bron-broker admin"' } : {};
        sendJson(res, status, { error: status === 500 ? 'internal error' : (error as Error).message }, headers);
      }
      return true;
    }
    if (req.method === 'GET' && pathname === '/admin') {
      res.writeHead(301, { location: '/admin/' }).end();
      return true;
    }
    if (req.method === 'GET' && pathname.startsWith('/admin/'))
      return serveDashboardFile(res, pathname.slice('/admin/'.length));
    return false;
  };
}

export type OperatorRoutes = ReturnType<typeof operatorRoutes>;
