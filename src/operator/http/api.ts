import type { IncomingMessage } from 'node:http';
import type https from 'node:https';
import type { Queue } from 'bullmq';
import type { Logger } from '../../infra/log.js';
import { isPgnShaped } from '../../infra/pupil-key.js';
import { listAudit } from '../../store/audit.repo.js';
import type { EndpointPolicy } from '../endpoint-url.js';
import { listErrors, type OperatorDeps, showOutbound } from '../error-queue.js';
import {
  API_FIELDS,
  type ErrorFilterInput,
  OperatorInputError,
  parseBrin,
  parseErrorFilter,
  parseId,
  parseOin,
  parseProcessingErrorFilter,
} from '../input.js';
import { institutionOverview } from '../institutions.js';
import {
  addInstitution,
  pauseInstitution,
  purgeErrorQueue,
  replayErrorQueue,
  replayProcessing,
  resumeInstitution,
  runQuality,
  setReceiptSignatureVerification,
} from '../operator-actions.js';
import { pingInstitution } from '../ping.js';
import { listProcessingErrorQueue } from '../processing-error-queue.js';
import { listQuality, parseQualityFilter, qualityOverview } from '../quality.js';
import { collectStats, messageSeries } from '../stats.js';
import { listSubscriptionViews, parseSubscriptionFilter } from '../subscriptions.js';
import { traceByBrin, traceByPupil, traceMessage } from '../trace.js';
import type { AdminRole, Caller } from './auth.js';
import { HttpError, readJson } from './http-json.js';

/** What the admin API works on: the operator API's dependencies and a few of the broker's. */
export interface AdminApiDeps extends OperatorDeps {
  readonly processingQueue: Queue;
  readonly traceKey: string;
  readonly pingTimeoutMs: number;
  /** The rules an institution's endpoint URL must meet (added, and again when pinged). */
  readonly endpointPolicy: EndpointPolicy;
  /** Pings use the delivery transport: the broker's client certificate, DELIVERY_CA_FILE trusted (TLS on). */
  readonly httpsAgent?: https.Agent | undefined;
  /** For an operator's quality run: the sender of its reports, and where it logs. */
  readonly brokerOin: string;
  readonly log: Logger;
}

/** One request as a route sees it. */
interface Call {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly caller: Caller;
  readonly deps: AdminApiDeps;
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  readonly role: AdminRole;
  readonly run: (call: Call) => Promise<unknown>;
}

const FILTER_KEYS = ['institution', 'operation', 'contract', 'fault', 'olderThan', 'newerThan', 'limit'] as const;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

function filterFromQuery(query: URLSearchParams): ErrorFilterInput {
  return {
    ...Object.fromEntries(FILTER_KEYS.map((key) => [key, query.get(key) ?? undefined])),
    ids: query.getAll('id'),
  };
}

function filterFromBody(body: Record<string, unknown>): ErrorFilterInput {
  const ids = Array.isArray(body.ids) ? body.ids.map(text).filter((id): id is string => id !== undefined) : [];
  return { ...Object.fromEntries(FILTER_KEYS.map((key) => [key, text(body[key])])), ids };
}

/** A whole number from a query parameter or body field, or the fallback when absent or not a number. */
const wholeNumber = (value: unknown, fallback: number): number => {
  const parsed = Number(value ?? fallback);
  return Number.isFinite(parsed) ? Math.floor(parsed) : fallback;
};

/** Refuses `dryRun` or `all` that is not a boolean: a string "true" must not slip through as "not a dry run". */
function checkFlags(body: Record<string, unknown>): void {
  for (const flag of ['dryRun', 'all'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean')
      throw new OperatorInputError(`${flag} must be true or false`);
  }
}

async function bulk(call: Call, act: typeof replayErrorQueue): Promise<unknown> {
  const body = await readJson(call.req);
  checkFlags(body);
  const dryRun = body.dryRun === true;
  const filter = parseErrorFilter(filterFromBody(body), API_FIELDS, { requireScope: true, all: body.all === true });
  const ids = await act(call.deps, call.caller.actor, filter, { dryRun });
  return { dryRun, count: ids.length, ids };
}

/** `{ ids?, sender?, all?, dryRun? }`: replays the processing error queue's matching messages. */
async function replayProcessingRoute(call: Call): Promise<unknown> {
  const body = await readJson(call.req);
  checkFlags(body);
  if (body.ids !== undefined && !Array.isArray(body.ids))
    throw new OperatorInputError('ids must be a list of message ids');
  if (body.sender !== undefined && typeof body.sender !== 'string')
    throw new OperatorInputError('sender must be an OIN');
  // An id that is not text or a number is shown as given, so its error says what was wrong.
  const ids = ((body.ids ?? []) as unknown[]).map((id) => text(id) ?? JSON.stringify(id));
  const filter = parseProcessingErrorFilter({ ids, sender: body.sender as string | undefined }, API_FIELDS, {
    requireScope: true,
    all: body.all === true,
  });
  const dryRun = body.dryRun === true;
  const replayed = await replayProcessing(call.deps, call.caller.actor, filter, { dryRun });
  return { dryRun, count: replayed.length, ids: replayed };
}

async function institutionOrNotFound(call: Call): Promise<unknown> {
  const [found] = await institutionOverview(call.deps.pool, parseOin(call.params[0]!));
  if (!found) throw new HttpError(404, `no institution ${call.params[0]}`);
  return found;
}

const OIN = '([0-9A-Z]{20})';

/** The admin API: the CLI's operations over HTTP, each a thin call into src/operator/. */
const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^whoami$/, role: 'read', run: async ({ caller }) => caller },
  {
    method: 'GET',
    path: /^(?:overview|institutions)$/,
    role: 'read',
    run: ({ deps }) => institutionOverview(deps.pool),
  },
  {
    method: 'GET',
    path: new RegExp(`^institutions/${OIN}$`),
    role: 'read',
    run: async (call) => ({
      institution: await institutionOrNotFound(call),
      errors: await listErrors(call.deps, { institutionOin: call.params[0]!, limit: 20 }),
    }),
  },
  {
    method: 'POST',
    path: /^institutions$/,
    role: 'operator',
    run: async ({ req, deps, caller }) => {
      const body = await readJson(req);
      const brins = Array.isArray(body.brins) ? body.brins.map((b) => parseBrin(String(b))) : [];
      const name = text(body.name)?.trim();
      if (!name || brins.length === 0)
        throw new OperatorInputError('an institution needs a name and at least one BRIN');
      const endpoint = text(body.endpoint);
      if (body.also !== undefined && typeof body.also !== 'boolean')
        throw new OperatorInputError('also must be true or false');
      if (body.verifyReceiptSignature !== undefined && typeof body.verifyReceiptSignature !== 'boolean')
        throw new OperatorInputError('verifyReceiptSignature must be true or false');
      const institution = {
        oin: parseOin(text(body.oin) ?? ''),
        name,
        brins,
        endpointUrl: endpoint || null,
        enabled: body.enabled !== false,
        // Absent: a replaced institution keeps its setting.
        ...(typeof body.verifyReceiptSignature === 'boolean'
          ? { verifyReceiptSignature: body.verifyReceiptSignature }
          : {}),
      };
      return addInstitution(deps.pool, caller.actor, institution, {
        also: body.also === true,
        alsoName: '"also": true',
        endpoint: { policy: deps.endpointPolicy, field: 'endpoint' },
      });
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^institutions/${OIN}/pause$`),
    role: 'operator',
    run: async ({ params, deps, caller }) => {
      if (!(await pauseInstitution(deps, caller.actor, params[0]!)))
        throw new HttpError(404, `no institution ${params[0]}`);
      return { paused: params[0] };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^institutions/${OIN}/resume$`),
    role: 'operator',
    run: async ({ params, deps, caller }) => {
      const queued = await resumeInstitution(deps, caller.actor, params[0]!);
      if (queued === null) throw new HttpError(404, `no institution ${params[0]}`);
      return { resumed: params[0], queued };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^institutions/${OIN}/receipt-signature$`),
    role: 'operator',
    run: async ({ req, params, deps, caller }) => {
      const body = await readJson(req);
      if (typeof body.verify !== 'boolean') throw new OperatorInputError('verify must be true or false');
      if (!(await setReceiptSignatureVerification(deps, caller.actor, params[0]!, body.verify)))
        throw new HttpError(404, `no institution ${params[0]}`);
      return { institution: params[0], verifyReceiptSignature: body.verify };
    },
  },
  {
    method: 'POST',
    path: new RegExp(`^institutions/${OIN}/ping$`),
    role: 'read',
    run: async (call) => {
      const institution = (await institutionOrNotFound(call)) as { oin: string; endpointUrl: string | null };
      if (!institution.endpointUrl) throw new OperatorInputError('this institution has no endpoint');
      const { oin, endpointUrl } = institution;
      return pingInstitution(
        call.deps,
        call.caller.actor,
        { oin, endpointUrl },
        { timeoutMs: call.deps.pingTimeoutMs, detail: call.caller.role === 'operator' },
      );
    },
  },
  {
    method: 'GET',
    path: /^errors$/,
    role: 'read',
    run: ({ query, deps }) => listErrors(deps, parseErrorFilter(filterFromQuery(query), { ...API_FIELDS, ids: 'id' })),
  },
  {
    method: 'GET',
    path: /^errors\/(\d+)$/,
    role: 'read',
    run: async ({ params, deps }) => {
      const shown = await showOutbound(deps, parseId(params[0]!));
      if (!shown) throw new HttpError(404, `no outbound message ${params[0]}`);
      return shown;
    },
  },
  { method: 'POST', path: /^errors\/replay$/, role: 'operator', run: (call) => bulk(call, replayErrorQueue) },
  { method: 'POST', path: /^errors\/purge$/, role: 'operator', run: (call) => bulk(call, purgeErrorQueue) },
  {
    method: 'GET',
    path: /^processing-errors$/,
    role: 'read',
    run: ({ query, deps }) =>
      listProcessingErrorQueue(
        deps,
        parseProcessingErrorFilter(
          { sender: query.get('sender') ?? undefined, limit: query.get('limit') ?? undefined },
          API_FIELDS,
        ),
      ),
  },
  { method: 'POST', path: /^processing-errors\/replay$/, role: 'operator', run: replayProcessingRoute },
  {
    method: 'GET',
    path: /^trace\/message\/([\w:.-]{1,80})$/,
    role: 'read',
    run: async ({ params, deps }) => {
      const trace = await traceMessage(deps.pool, decodeURIComponent(params[0]!));
      if (!trace) throw new HttpError(404, `no message ${params[0]}`);
      return trace;
    },
  },
  {
    method: 'GET',
    path: /^trace\/brin\/([0-9]{2}[A-Z]{2})$/,
    role: 'read',
    run: ({ params, query, deps }) => traceByBrin(deps.pool, params[0]!, wholeNumber(query.get('limit'), 10)),
  },
  // POST, so the PGN never lands in a URL, an access log or the browser's history.
  {
    method: 'POST',
    path: /^trace\/pupil$/,
    role: 'read',
    run: async ({ req, deps }) => {
      const body = await readJson(req);
      const pgn = text(body.pgn) ?? '';
      if (!isPgnShaped(pgn)) throw new OperatorInputError('a PGN (BSN or onderwijsnummer) is nine digits');
      return traceByPupil(deps.pool, deps.traceKey, pgn, wholeNumber(body.limit, 10));
    },
  },
  { method: 'GET', path: /^stats$/, role: 'read', run: ({ deps }) => collectStats(deps.pool, [deps.processingQueue]) },
  {
    method: 'GET',
    path: /^stats\/series$/,
    role: 'read',
    run: ({ query, deps }) =>
      messageSeries(deps.pool, {
        minutes: wholeNumber(query.get('minutes'), 60),
        bucketSeconds: wholeNumber(query.get('bucketSeconds'), 60),
      }),
  },
  { method: 'GET', path: /^quality$/, role: 'read', run: ({ deps }) => qualityOverview(deps.pool) },
  {
    method: 'GET',
    path: /^quality\/signals$/,
    role: 'read',
    run: ({ query, deps }) =>
      listQuality(
        deps.pool,
        parseQualityFilter(
          {
            institution: query.get('institution') ?? undefined,
            brin: query.get('brin') ?? undefined,
            code: query.get('code') ?? undefined,
            limit: query.get('limit') ?? undefined,
          },
          API_FIELDS,
        ),
      ),
  },
  {
    method: 'POST',
    path: /^quality\/run$/,
    role: 'operator',
    run: async ({ deps, caller }) => {
      const outcome = await runQuality(deps, caller.actor);
      if (!outcome.ran) throw new HttpError(409, 'another quality run is under way');
      return outcome;
    },
  },
  {
    method: 'GET',
    path: /^subscriptions$/,
    role: 'read',
    run: ({ query, deps }) =>
      listSubscriptionViews(
        deps.pool,
        parseSubscriptionFilter(
          {
            institution: query.get('institution') ?? undefined,
            all: query.get('all') ?? undefined,
            limit: query.get('limit') ?? undefined,
          },
          API_FIELDS,
        ),
      ),
  },
  {
    method: 'GET',
    path: /^audit$/,
    role: 'read',
    run: ({ query, deps }) =>
      listAudit(deps.pool, {
        limit: wholeNumber(query.get('limit'), 50),
        ...(query.get('action') ? { action: query.get('action')! } : {}),
      }),
  },
];

/** The route for a method and a path below /admin/api/, with the path's captured parts. */
export function findRoute(
  method: string,
  path: string,
): { route: Route; params: string[] } | 'wrong-method' | undefined {
  let pathMatched = false;
  for (const route of ROUTES) {
    const match = route.path.exec(path);
    if (!match) continue;
    if (route.method === method) return { route, params: match.slice(1) };
    pathMatched = true;
  }
  return pathMatched ? 'wrong-method' : undefined;
}
