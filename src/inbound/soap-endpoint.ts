import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { XsdValidator } from 'libxml2-wasm';
import type { Contract } from '../contracts/catalogue.js';
import type { Logger } from '../log.js';
import { maskPersonalNumbers } from '../log.js';
import type { AcceptBatcher } from '../store/accept-batcher.js';
import type { AcceptedMessage, StoredReceipt } from '../store/inbound-messages.repo.js';
import type { Enqueuer } from '../queue/enqueuer.js';
import { validateBody } from '../xml/body-validator.js';
import { type AuthorisedParties, authorise } from './authorise.js';
import { decodeUtf8 } from './decode-utf8.js';
import { type Addressing, checkEnvelopeRules } from './envelope-rules.js';
import { type ScannedEnvelope, scanEnvelope } from './envelope-scan.js';
import { FAULT_ACTION, faultBody, toBrokerFault } from './fault-response.js';
import { authenticatedSenderOin } from './identity.js';
import type { InstitutionRegistry } from './institution-registry.js';
import { readBody } from './read-body.js';
import { receiptBody } from './receipt.js';
import { responseEnvelope } from './soap-envelope.js';

/** What the SOAP endpoint needs; built once by the composition root. */
export interface InboundDeps {
  readonly brokerOin: string;
  readonly maxBodyBytes: number;
  /** Compiled contract schema per contract name. */
  readonly validators: ReadonlyMap<string, XsdValidator>;
  readonly registry: InstitutionRegistry;
  readonly batcher: AcceptBatcher;
  readonly enqueuer: Enqueuer;
  readonly log: Logger;
}

/** Request facts gathered step by step, for the response and the one log line. */
interface RequestTrace {
  readonly requestId: string;
  envelope?: ScannedEnvelope;
  addressing?: Addressing;
  parties?: AuthorisedParties;
  stored?: StoredReceipt;
}

function toAcceptedMessage(xml: string, trace: Required<Omit<RequestTrace, 'stored'>>, senderOin: string): AcceptedMessage {
  const fields = trace.envelope.bodyFields;
  return {
    contract: trace.addressing.operation.contract,
    operation: trace.addressing.operation.name,
    senderOin,
    brin: trace.parties.brin,
    documentId: fields.get('identificatiecodeBedrijfsdocument')!,
    documentTime: fields.get('datumTijdBedrijfsdocument')!,
    wsaMessageId: trace.addressing.messageId,
    requestId: trace.requestId,
    receiptId: randomUUID(),
    receiptAt: new Date(),
    rawXml: xml,
  };
}

/** Gate → envelope rules → schema → authorisation → durable accept. Throws on the first failure. */
async function accept(req: IncomingMessage, contract: Contract, deps: InboundDeps, trace: RequestTrace): Promise<StoredReceipt> {
  const bytes = await readBody(req, deps.maxBodyBytes);
  const xml = decodeUtf8(bytes, req.headers['content-type']);
  const envelope = (trace.envelope = scanEnvelope(xml));
  const addressing = (trace.addressing = checkEnvelopeRules(envelope, contract, req.headers.soapaction as string | undefined, deps.brokerOin));
  validateBody(bytes, deps.validators.get(contract.name)!);
  const senderOin = authenticatedSenderOin(addressing);
  const parties = (trace.parties = authorise(senderOin, deps.registry.get(senderOin), addressing.operation, envelope, deps.brokerOin));
  return deps.batcher.submit(toAcceptedMessage(xml, { requestId: trace.requestId, envelope, addressing, parties }, senderOin));
}

function send(res: ServerResponse, status: number, requestId: string, xml: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml; charset=UTF-8',
    'content-length': Buffer.byteLength(xml),
    'x-request-id': requestId,
  });
  res.end(xml);
}

/** Handles one SOAP POST to a contract's endpoint: a receipt, or a SOAP fault; one log line either way. */
export async function handleSoapPost(req: IncomingMessage, res: ServerResponse, contract: Contract, deps: InboundDeps): Promise<void> {
  const started = performance.now();
  const trace: RequestTrace = { requestId: randomUUID() };
  try {
    const stored = (trace.stored = await accept(req, contract, deps, trace));
    const { addressing, envelope } = trace as Required<RequestTrace>;
    const body = receiptBody(addressing.operation, contract.schemaNamespace, {
      receiptId: stored.receiptId,
      receiptAt: stored.receiptAt,
      verzendendeInstantie: envelope.bodyFields.get('ontvangendeInstantie')!,
      ontvangendeInstantie: envelope.bodyFields.get('verzendendeInstantie')!,
    });
    send(res, 200, trace.requestId, responseEnvelope({
      action: addressing.operation.action,
      messageId: randomUUID(),
      relatesTo: addressing.messageId,
      to: addressing.fromAddress,
      fromOin: deps.brokerOin,
    }, body));
    if (stored.isNew) deps.enqueuer.enqueue(stored.messageId);
    deps.log.info('request', {
      requestId: trace.requestId, outcome: stored.isNew ? 'accepted' : 'duplicate', operation: addressing.operation.name,
      senderOin: trace.parties?.institution.oin, brin: trace.parties?.brin, messageId: stored.messageId,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  } catch (error) {
    const fault = toBrokerFault(error);
    // Whatever was not read must not be parsed as the next request on this connection.
    if (!req.complete) res.setHeader('connection', 'close');
    if (!res.headersSent) {
      send(res, 500, trace.requestId, responseEnvelope({
        action: FAULT_ACTION,
        messageId: randomUUID(),
        relatesTo: trace.addressing?.messageId,
        to: trace.addressing?.fromAddress,
        fromOin: deps.brokerOin,
      }, faultBody(fault)));
    }
    if (!req.complete) req.resume();
    const level = fault.kind === 'Server' ? 'warn' : 'info';
    deps.log.log(level, 'request', {
      requestId: trace.requestId, outcome: 'fault', faultCode: fault.faultCode, element: fault.element,
      reason: maskPersonalNumbers(fault.reason), operation: trace.addressing?.operation.name,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(fault.code === 'DK0050' ? { error: maskPersonalNumbers(String((error as Error)?.stack ?? error)) } : {}),
    });
  }
}
