import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { XsdValidator } from 'libxml2-wasm';
import type { Contract } from '../infra/catalogue.js';
import { BrokerFault, StoreUnavailableError } from '../infra/errors.js';
import { faultSummary } from '../infra/fault-summary.js';
import type { Logger } from '../infra/log.js';
import { countInboundRequest } from '../infra/metrics/metrics.js';
import { type OpenedSoapEnvelope, openSoapEnvelope, readHeaderBlocks } from '../infra/xml/soap-envelope.js';
import type { SigningCertificates } from '../infra/xml/wss-certificates.js';
import type { EnvelopeSigner } from '../infra/xml/wss-signer.js';
import type { GateLimits } from '../infra/xml/xml-gate.js';
import type { AcceptedMessage, StoredReceipt } from '../store/inbound-messages.repo.js';
import { type AuthorisedParties, authoriseSender } from './authorise.js';
import { reusedId } from './body-fingerprint.js';
import { type CheckedDocumentHeader, checkBody } from './body-rules.js';
import type { BulkLane } from './bulk-lane.js';
import type { ContractChoice } from './contract-choice.js';
import { decodeUtf8, isUtf8ContentType } from './decode-utf8.js';
import { type Addressing, checkEnvelopeRules } from './envelope-rules.js';
import type { FairTurns } from './fair-turns.js';
import { FAULT_ACTION, faultBody, toBrokerFault } from './fault-response.js';
import { headerBlocksOfPrefix } from './header-prefix.js';
import { authenticatedSenderOin, peerOf } from './identity.js';
import type { InstitutionRegistry } from './institution-registry.js';
import { lingerAfterAnswer } from './linger.js';
import { readBody } from './read-body.js';
import { receiptBody } from './receipt.js';
import { responseEnvelope } from './response-envelope.js';
import { DISTRUST_AFTER, type Release, type SenderGate, type SenderSlot } from './sender-gate.js';
import type { ReplayGuard } from './wss/replay-guard.js';
import { verifyWsSecurity } from './wss/ws-security.js';

/** Where the gate hands a checked message: the accept stage stores it durably before the receipt is sent. */
export interface DurableAccept {
  submit(message: AcceptedMessage): Promise<StoredReceipt>;
}

/** What the SOAP endpoint needs; built once by the composition root. */
export interface InboundDeps {
  readonly brokerOin: string;
  /** The only sender of population-register mutations (config BRP_SOURCE_OIN). */
  readonly brpSourceOin: string;
  readonly maxBodyBytes: number;
  /** The gate's limits: header size and elements, elements in all (MAX_HEADER_BYTES, MAX_HEADER_ELEMENTS, MAX_ELEMENTS). */
  readonly gateLimits: GateLimits;
  /** Checks the sender before the body costs anything, and caps each sender's requests in flight. */
  readonly senders: SenderGate;
  /** Where bodies larger than any legitimate message wait their turn, one at a time. */
  readonly bulkLane: BulkLane;
  /** Where senders take turns at the expensive body work (parse, schema, WS-Security). */
  readonly turns: FairTurns;
  /** Compiled contract schema per contract name. */
  readonly validators: ReadonlyMap<string, XsdValidator>;
  readonly registry: InstitutionRegistry;
  /** Stores accepted messages; it also enqueues their processing job (one per group commit). */
  readonly batcher: DurableAccept;
  readonly wss: WsSecurityDeps;
  readonly log: Logger;
  /** Signs receipts, and faults about a readable envelope (WS-Security); absent: unsigned (SIGNING=off). */
  readonly signer?: EnvelopeSigner | undefined;
}

/** What WS-Security checking needs (docs/security.md). */
export interface WsSecurityDeps {
  /** WSS_REQUIRED: whether a sender whose institution does not say signs. */
  readonly requiredByDefault: boolean;
  /** Signing certificates, checked against the trusted CAs (TLS_CA_FILE; none without TLS). */
  readonly certificates: SigningCertificates;
  readonly replay: ReplayGuard;
}

/** Everything the accept steps learned; partial when a step refused the request. */
interface Accepted {
  /** The authenticated sender, once known (logged with a fault that comes after it, such as EK0031). */
  senderOin?: string;
  contract?: Contract;
  addressing?: Addressing;
  document?: CheckedDocumentHeader;
  parties?: AuthorisedParties;
  stored?: StoredReceipt;
}

/** The sender's slot among its requests in flight, taken as soon as the sender is known, given back once answered. */
interface Admission {
  sender?: SenderSlot;
  /** A place in the lane for large bodies, taken by a body over its threshold. */
  releaseBulk?: Release;
}

/** What the synchronous checks of a message found; the caller disposes the envelope. */
interface CheckedMessage extends Required<Omit<Accepted, 'stored'>> {
  readonly envelope: OpenedSoapEnvelope;
  readonly signed: ReturnType<typeof verifyWsSecurity>;
}

/**
 * Parse → envelope rules → sender → WS-Security → values present → schema → bedrijfsdocument →
 * authorisation: the body work, all of it synchronous, one piece for FairTurns.
 */
function checkMessage(
  req: IncomingMessage,
  xml: string,
  bytes: Buffer,
  choose: ContractChoice,
  deps: InboundDeps,
  facts: Accepted,
): CheckedMessage {
  const envelope = openSoapEnvelope(xml, bytes, deps.gateLimits);
  try {
    const soapAction = req.headers.soapaction as string | undefined;
    const { contract, ...addressing } = checkEnvelopeRules(envelope, choose, soapAction, deps.brokerOin);
    facts.contract = contract;
    facts.addressing = addressing;
    const senderOin = authenticatedSenderOin(
      addressing,
      peerOf(req),
      (oin) => oin === deps.brpSourceOin || deps.registry.get(oin) !== undefined,
    );
    facts.senderOin = senderOin;
    // After the TLS identity, before anything of the body is trusted: only what was signed is read on.
    const signed = verifyWsSecurity(envelope, senderOin, {
      required: deps.registry.get(senderOin)?.wssRequired ?? deps.wss.requiredByDefault,
      certificates: deps.wss.certificates,
      now: new Date(),
    });
    const document = checkBody(envelope, deps.validators.get(contract.name)!, deps.brokerOin);
    facts.document = document;
    const parties = authoriseSender(
      senderOin,
      deps.registry.get(senderOin),
      addressing.operation,
      envelope,
      deps.brpSourceOin,
    );
    facts.parties = parties;
    return { envelope, contract, addressing, senderOin, signed, document, parties };
  } catch (error) {
    envelope.dispose();
    throw error;
  }
}

/**
 * Sender (over TLS, before the body) → body (over plain HTTP a large one's claimed sender from its first
 * 64 KiB) → the claimed sender from soap:Header → the body work in the sender's turn → durable accept.
 * Fills `facts` as it goes (for the fault response and the log line) and throws on the first failure.
 */
async function accept(
  req: IncomingMessage,
  choose: ContractChoice,
  deps: InboundDeps,
  requestId: string,
  facts: Accepted,
  admission: Admission,
): Promise<Required<Accepted>> {
  const peer = peerOf(req);
  // Over mutual TLS the sender is known before a byte of the body is read.
  if (peer.transport === 'mutual-tls') admission.sender = deps.senders.admitCertificate(peer);
  const utf8 = isUtf8ContentType(req.headers['content-type']);
  const bytes = await readBody(req, deps.maxBodyBytes, {
    thresholdBytes: deps.bulkLane.thresholdBytes,
    // Plain HTTP: a large body's sender, from the soap:Header in its first bytes, before the rest is read.
    ...(admission.sender || !utf8
      ? {}
      : {
          onPrefix: (prefix: Buffer) => {
            const headers = headerBlocksOfPrefix(prefix, deps.gateLimits);
            if (headers) admission.sender = deps.senders.admitClaimed(headers);
          },
        }),
    wait: async () => {
      // No legitimate message is this large: a sender whose recent ones were all refused gets no place.
      if (admission.sender?.distrusted) {
        throw new BrokerFault(
          'BB0006',
          `OIN ${admission.sender.oin} had its last ${DISTRUST_AFTER} or more messages refused, and gets no place for a message over ${deps.bulkLane.thresholdBytes} bytes until one is accepted; nothing was stored`,
          'From',
        );
      }
      const release = await deps.bulkLane.enter();
      // A sender gone while it waited has been answered already: its turn goes to the next at once.
      if (req.destroyed) {
        release();
        throw new Error('request closed while waiting for the bulk lane');
      }
      admission.releaseBulk = release;
    },
  });
  const xml = decodeUtf8(bytes, req.headers['content-type']);
  // Plain HTTP: the OIN wsa:From claims, read from soap:Header alone, before the body is scanned.
  if (!admission.sender) {
    const headers = readHeaderBlocks(xml, deps.gateLimits);
    if (headers) admission.sender = deps.senders.admitClaimed(headers);
  }
  // The expensive part in the sender's turn: a flood of one sender waits behind itself, not before others.
  const { envelope, contract, addressing, senderOin, signed, document, parties } = await deps.turns.run(
    admission.sender?.oin ?? req.socket.remoteAddress ?? '',
    () => checkMessage(req, xml, bytes, choose, deps, facts),
  );
  try {
    // Recorded last, so that a request refused for anything else is no replay when it comes again.
    const replayKey = signed.signed
      ? { senderOin, messageId: addressing.messageId, signatureDigest: signed.signatureDigest }
      : undefined;
    if (replayKey) await deps.wss.replay.admit(replayKey);
    const stored = await deps.batcher
      .submit({
        contract: contract.name,
        operation: addressing.operation.name,
        senderOin,
        brin: parties.brin,
        documentId: document.documentId,
        documentTime: document.documentTime,
        wsaMessageId: addressing.messageId,
        requestId,
        receiptId: randomUUID(),
        receiptAt: new Date(),
        rawXml: xml,
      })
      .catch(async (error: unknown) => {
        // Known not stored: its identical resend is a resend, not a replay.
        if (replayKey && error instanceof StoreUnavailableError) await deps.wss.replay.forget(replayKey);
        throw error;
      });
    facts.stored = stored;
    const reused = reusedId(stored, addressing.operation.name, envelope);
    if (reused === 'identificatiecodeBedrijfsdocument') {
      throw new BrokerFault(
        'EK0036',
        `identificatiecodeBedrijfsdocument ${document.documentId} was already used for another message; resend a message unchanged, give a new message a new one`,
        reused,
      );
    }
    if (reused === 'MessageID') {
      throw new BrokerFault(
        'EK0036',
        `wsa:MessageID ${addressing.messageId} was already used for another message; resend a message unchanged, give a new message a new one`,
        reused,
      );
    }
    return { senderOin, contract, addressing, document, parties, stored };
  } finally {
    envelope.dispose();
  }
}

function send(res: ServerResponse, status: number, requestId: string, xml: string, retryAfter?: number): void {
  res.writeHead(status, {
    'content-type': 'text/xml; charset=UTF-8',
    'content-length': Buffer.byteLength(xml),
    'x-request-id': requestId,
    ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
  });
  res.end(xml);
}

function sendReceipt(
  res: ServerResponse,
  requestId: string,
  accepted: Required<Accepted>,
  brokerOin: string,
  signer: EnvelopeSigner | undefined,
): void {
  const { contract, addressing, document, stored } = accepted;
  const body = receiptBody(addressing.operation, contract.schemaNamespace, {
    receiptId: stored.receiptId,
    receiptAt: stored.receiptAt,
    verzendendeInstantie: document.ontvangendeInstantie,
    ontvangendeInstantie: document.verzendendeInstantie,
  });
  send(
    res,
    200,
    requestId,
    responseEnvelope(
      {
        action: addressing.operation.action,
        messageId: randomUUID(),
        relatesTo: addressing.messageId,
        to: addressing.fromAddress,
        fromOin: brokerOin,
      },
      body,
      signer,
    ),
  );
}

/**
 * After a fault answered before the body was read whole, the rest is read and discarded for at most
 * this long, and at most this many times MAX_BODY_BYTES for a body over the limit (16 MiB by default:
 * a 10 MB upload still reads its fault), at most the bulk lane's threshold for any other (more than any
 * legitimate message, whose connection stays usable); past either nothing more is read and the
 * connection is closed a second later: reading (over TLS, deciphering) a refused sender's large body
 * would cost more than its next handshake, and closing at once would reset an answer not yet read.
 */
const LINGER_MS = 5000;
const DISCARD_BODIES = 16;

function sendFault(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  fault: BrokerFault,
  addressing: Addressing | undefined,
  deps: Pick<InboundDeps, 'brokerOin' | 'maxBodyBytes' | 'signer' | 'bulkLane'>,
): void {
  if (!res.headersSent) {
    send(
      res,
      500,
      requestId,
      responseEnvelope(
        {
          action: FAULT_ACTION,
          messageId: randomUUID(),
          relatesTo: addressing?.messageId,
          to: addressing?.fromAddress,
          fromOin: deps.brokerOin,
        },
        faultBody(fault),
        // A fault before the envelope's addressing was read answers no message: unsigned, so that bytes
        // that are not a SOAP message cannot make the broker spend a signature.
        addressing ? deps.signer : undefined,
      ),
      // A sender over its share of requests in flight may try again in a second.
      fault.code === 'BB0006' ? 1 : undefined,
    );
  }
  // HTTP frames the rest of the body, so it is never read as a next request; the sender gets to read its answer.
  // A body refused for its size may be a sender's honest mistake; any other, at most a legitimate message's size.
  lingerAfterAnswer(
    req,
    fault.code === 'BB0001' ? DISCARD_BODIES * deps.maxBodyBytes : deps.bulkLane.thresholdBytes,
    LINGER_MS,
  );
}

/** Handles one SOAP POST to a contract's or the shared address: a receipt, a SOAP fault, or (outcome unknown) no answer; one log line each. */
export async function handleSoapPost(
  req: IncomingMessage,
  res: ServerResponse,
  choose: ContractChoice,
  deps: InboundDeps,
): Promise<void> {
  const started = performance.now();
  const requestId = randomUUID();
  const facts: Accepted = {};
  const admission: Admission = {};
  const ms = (): number => Math.round((performance.now() - started) * 10) / 10;
  try {
    const accepted = await accept(req, choose, deps, requestId, facts, admission);
    sendReceipt(res, requestId, accepted, deps.brokerOin, deps.signer);
    admission.sender?.accepted();
    countInboundRequest(accepted.stored.isNew ? 'accepted' : 'duplicate', accepted.addressing.operation.name);
    deps.log.info('request', {
      requestId,
      outcome: accepted.stored.isNew ? 'accepted' : 'duplicate',
      operation: accepted.addressing.operation.name,
      senderOin: accepted.parties.institution.oin,
      brin: accepted.parties.brin,
      messageId: accepted.stored.messageId,
      ms: ms(),
    });
  } catch (error) {
    const fault = toBrokerFault(error);
    if (!fault) {
      // Neither receipt nor fault would be sure to stay true: the sender sees a lost answer and resends.
      res.destroy();
      countInboundRequest('unanswered', facts.addressing?.operation.name);
      deps.log.warn('request', {
        requestId,
        outcome: 'unanswered',
        operation: facts.addressing?.operation.name,
        senderOin: facts.parties?.institution.oin,
        ms: ms(),
        cause: String((error as Error)?.message ?? error),
      });
      return;
    }
    sendFault(req, res, requestId, fault, facts.addressing, deps);
    if (fault.kind !== 'Server') admission.sender?.refused();
    countInboundRequest('rejected', facts.addressing?.operation.name, fault.faultCode);
    deps.log.log(fault.kind === 'Server' ? 'warn' : 'info', 'request', {
      // The reason may quote the sender's values (a personal number among them): the log names only the element and the kind.
      requestId,
      outcome: 'fault',
      faultCode: fault.faultCode,
      element: fault.element,
      reason: faultSummary(fault),
      operation: facts.addressing?.operation.name,
      senderOin: facts.parties?.institution.oin ?? facts.senderOin,
      ms: ms(),
      // The cause of a Server fault is for the operator, never for the sender.
      ...(fault.kind === 'Server' && error !== fault ? { cause: String((error as Error)?.message ?? error) } : {}),
    });
  } finally {
    admission.sender?.release();
    admission.releaseBulk?.();
  }
}
