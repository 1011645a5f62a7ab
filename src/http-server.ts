import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { DEMO_RECEIVER_PATH, receiveAsDemoInstitution } from './delivery/demo-receiver.js';
import { type ConnectionCaps, capConnections } from './inbound/connection-caps.js';
import { contractBySoapAction, fixedContract } from './inbound/contract-choice.js';
import type { ContractDocuments } from './inbound/contract-documents.js';
import { handleSoapPost, type InboundDeps } from './inbound/soap-endpoint.js';
import { findContract } from './infra/catalogue.js';
import type { Logger } from './infra/log.js';
import { serverTlsOptions, type TlsMaterial } from './infra/tls.js';
import type { OperatorRoutes } from './operator/http/operator-http.js';

export interface HttpDeps {
  readonly inbound: InboundDeps;
  readonly documents: ContractDocuments;
  readonly log: Logger;
  /** The WSDLs' soap:address base (PUBLIC_URL or the listen address); never the request's Host header, which a client chooses. */
  publicBaseUrl(): string;
  /** Mutual TLS: present means HTTPS with a trusted client certificate required in the handshake; absent, plain HTTP (development). */
  readonly tls?: TlsMaterial;
  /** /admin (dashboard and API), /metrics and /readyz. */
  readonly operator?: OperatorRoutes;
  /** Mount the unauthenticated demo receiver: only while the demo is on (SEED_DEMO). */
  readonly demoReceiver?: boolean;
  /** Open connections taken, in all and per IP address (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP). */
  readonly connections?: ConnectionCaps;
}

const SERVICE_PREFIX = '/vo-webservices/';

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function notFound(res: ServerResponse, deps: HttpDeps): void {
  sendText(
    res,
    404,
    'text/plain; charset=UTF-8',
    `not found; services: ${deps.documents
      .contracts()
      .map((c) => `${SERVICE_PREFIX}${c}?wsdl`)
      .join(', ')}\n`,
  );
}

const OPERATOR_PATH = /^\/(?:admin(?:\/|$)|metrics$|readyz$)/;

function route(req: IncomingMessage, res: ServerResponse, deps: HttpDeps): Promise<void> | void {
  const url = new URL(req.url ?? '/', 'http://broker.invalid');
  if (deps.operator && OPERATOR_PATH.test(url.pathname)) {
    return deps.operator(req, res, url).then((handled) => (handled ? undefined : notFound(res, deps)));
  }
  if (url.pathname.startsWith(SERVICE_PREFIX)) {
    const contract = url.pathname.slice(SERVICE_PREFIX.length);
    if (req.method === 'POST') {
      if (contract === '') return handleSoapPost(req, res, contractBySoapAction, deps.inbound);
      const known = findContract(contract);
      if (known) return handleSoapPost(req, res, fixedContract(known), deps.inbound);
    } else if (req.method === 'GET' && [...url.searchParams.keys()].some((key) => key.toLowerCase() === 'wsdl')) {
      const wsdl = deps.documents.wsdl(contract, deps.publicBaseUrl());
      if (wsdl) return sendText(res, 200, 'text/xml; charset=UTF-8', wsdl);
    }
  } else if (req.method === 'GET' && url.pathname.startsWith('/xsd/')) {
    const xsd = deps.documents.xsd(url.pathname.slice('/xsd/'.length));
    if (xsd) return sendText(res, 200, 'text/xml; charset=UTF-8', xsd);
  } else if (deps.demoReceiver && req.method === 'POST' && url.pathname.startsWith(DEMO_RECEIVER_PATH)) {
    return receiveAsDemoInstitution(req, res, url.pathname.slice(DEMO_RECEIVER_PATH.length), deps.log);
  } else if (deps.demoReceiver && req.method === 'GET' && url.pathname.startsWith(DEMO_RECEIVER_PATH)) {
    // An operator's `institutions ping` of the demo school probes with a GET: the endpoint is there.
    return sendText(
      res,
      200,
      'text/plain; charset=UTF-8',
      'demo institution endpoint: the broker POSTs SOAP messages here\n',
    );
  } else if (req.method === 'GET' && url.pathname === '/healthz') {
    return sendText(res, 200, 'application/json', '{"status":"ok"}');
  }
  notFound(res, deps);
}

/** The broker's HTTP(S) server: SOAP endpoints, their WSDLs and XSDs, the operator's routes. */
export function createHttpServer(deps: HttpDeps): http.Server | https.Server {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    Promise.resolve(route(req, res, deps)).catch((error: Error) => {
      deps.log.error('unhandled request error', { error: error.message });
      if (!res.headersSent) sendText(res, 500, 'text/plain; charset=UTF-8', 'internal error\n');
      else res.destroy();
    });
  };
  const options = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 };
  // The certificate is checked in the handshake: a sender without a trusted one never gets to send a byte of HTTP.
  const server = deps.tls
    ? https.createServer({ ...options, ...serverTlsOptions(deps.tls) }, handle)
    : http.createServer(options, handle);
  if (deps.connections) capConnections(server, deps.connections);
  return server;
}
