import type https from 'node:https';
import type { XsdValidator } from 'libxml2-wasm';
import { NS, OUTBOUND_CONTRACT } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import { faultSummary } from '../infra/fault-summary.js';
import { validateBody } from '../infra/xml/body-validator.js';
import { escapeXml } from '../infra/xml/escape.js';
import { openSoapEnvelope } from '../infra/xml/soap-envelope.js';
import type { TrustAnchors } from '../infra/xml/wss-certificates.js';
import { SignatureRefusedError } from '../infra/xml/wss-refusal.js';
import type { EnvelopeSigner } from '../infra/xml/wss-signer.js';
import type { AddressGuard } from './address-check.js';
import { type HttpAnswer, type HttpPostError, postText } from './http-post.js';
import { verifyEnvelopeSignature } from './receipt-signature.js';

/** How one attempt ended, and what to do next. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly httpStatus: number }
  | { readonly kind: 'retry'; readonly httpStatus?: number; readonly faultCode?: string; readonly error: string }
  | { readonly kind: 'failed'; readonly httpStatus?: number; readonly faultCode?: string; readonly error: string };

const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
/** A receipt is a few KB; an institution answering with more is not answering with a receipt. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * A request envelope to an institution, with the message's own MessageID (the same on every attempt);
 * signed (WS-Security, a new Timestamp per attempt) when a signer is given.
 */
export function outboundEnvelope(
  bodyXml: string,
  operation: string,
  messageId: string,
  receiverOin: string,
  brokerOin: string,
  signer?: EnvelopeSigner,
): string {
  const action = `http://duo.nl/contract/${OUTBOUND_CONTRACT.name}/${operation}`;
  if (signer) {
    return signer.envelope(
      [
        { name: 'To', value: `${ANONYMOUS}?oin=${receiverOin}` },
        { name: 'Action', value: action },
        { name: 'MessageID', value: `urn:uuid:${messageId}` },
        { name: 'From', value: `${ANONYMOUS}?oin=${brokerOin}` },
      ],
      bodyXml,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:wsa="${NS.wsa}"><soapenv:Header>` +
    `<wsa:To>${ANONYMOUS}?oin=${escapeXml(receiverOin)}</wsa:To><wsa:Action>${action}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${messageId}</wsa:MessageID><wsa:From><wsa:Address>${ANONYMOUS}?oin=${brokerOin}</wsa:Address></wsa:From>` +
    `</soapenv:Header><soapenv:Body>${bodyXml}</soapenv:Body></soapenv:Envelope>`
  );
}

/** Reads the institution's answer: a receipt `J` (delivered), or the fault that says whether to retry. */
function classifyAnswer(
  { status, text, bytes }: HttpAnswer,
  validator: XsdValidator,
  messageId: string,
): AttemptOutcome {
  const fault = /<(?:[\w.-]+:)?faultcode>(?:[\w.-]+:)?([^<]+)<\/(?:[\w.-]+:)?faultcode>/.exec(text)?.[1]?.trim();
  if (fault) {
    const kind = fault.startsWith('Server') ? 'retry' : 'failed';
    return { kind, httpStatus: status, faultCode: fault, error: `SOAP fault ${fault}` };
  }
  if (status >= 500 || status === 408 || status === 429)
    return { kind: 'retry', httpStatus: status, error: `HTTP ${status}` };
  if (status >= 300) return { kind: 'failed', httpStatus: status, error: `HTTP ${status}` };
  try {
    // libxml2 parses the bytes as received (no re-encoding; invalid UTF-8 is refused, not replaced).
    const envelope = openSoapEnvelope(text, bytes);
    try {
      validateBody(envelope.bodyElement, validator);
      if (!envelope.bodyLocalName.endsWith('_Response'))
        throw new BrokerFault('DK0004', `${envelope.bodyLocalName} is not a receipt`, envelope.bodyLocalName);
      const relatesTo = envelope.headers.find((h) => h.namespace === NS.wsa && h.localName === 'RelatesTo')?.text;
      if (relatesTo !== undefined && relatesTo.replace(/^urn:uuid:/, '') !== messageId) {
        throw new BrokerFault('DK0011', `wsa:RelatesTo ${relatesTo} does not name this message`);
      }
    } finally {
      envelope.dispose();
    }
    return { kind: 'delivered', httpStatus: status };
  } catch (error) {
    // What is wrong, never the answer's values: this text is logged and stored.
    const what =
      error instanceof BrokerFault
        ? `${error.code} ${faultSummary(error)}${error.element ? ` (element ${error.element})` : ''}`
        : (error as Error).message.slice(0, 300);
    return { kind: 'failed', httpStatus: status, error: `not a valid OntvangstBevestiging J: ${what}` };
  }
}

/** An institution whose receipts must be signed: by a certificate from `trust` that carries its OIN. */
export interface ReceiptSignatureCheck {
  readonly institutionOin: string;
  /** The CAs a school's signing certificate must chain to (DELIVERY_CA_FILE); absent: none configured. */
  readonly trust: TrustAnchors | undefined;
}

/**
 * A receipt that must be signed and is not, or not validly, or not by the institution: not delivered.
 * Retried (the school may fix its signing), then the error queue, with a reason that holds no body value.
 */
function checkReceiptSignature(xml: string, check: ReceiptSignatureCheck, status: number): AttemptOutcome {
  const refused = (reason: string): AttemptOutcome => ({
    kind: 'retry',
    httpStatus: status,
    error: `receipt signature refused: ${reason}`,
  });
  if (!check.trust) return refused('no trusted CAs to check it against (TLS with DELIVERY_CA_FILE is off)');
  try {
    const { oin } = verifyEnvelopeSignature(xml, check.trust, new Date());
    if (oin !== check.institutionOin)
      return refused(`signed by ${oin ? `OIN ${oin}` : 'a certificate without an OIN'}, not by the institution's OIN`);
    return { kind: 'delivered', httpStatus: status };
  } catch (error) {
    // Anything else that fails on a hostile receipt is a refusal too, never a value from it.
    return refused(error instanceof SignatureRefusedError ? error.message : 'the signature could not be checked');
  }
}

/**
 * One delivery attempt: POST with a timeout. Timeouts, connection errors (a refused TLS handshake among
 * them: the school's certificate not trusted), HTTP 5xx/408/429 and Server faults are worth another
 * attempt; Client faults, other HTTP 4xx and answers that are not a valid receipt are not.
 * `httpsAgent` carries the broker's client certificate and the trusted CAs (mutual TLS). With
 * `receiptSignature` a receipt counts only when its WS-Security signature is valid and the institution's.
 */
export async function attemptDelivery(
  endpoint: string,
  envelopeXml: string,
  soapAction: string,
  timeoutMs: number,
  validator: XsdValidator,
  messageId: string,
  httpsAgent?: https.Agent,
  guard?: AddressGuard,
  receiptSignature?: ReceiptSignatureCheck,
): Promise<AttemptOutcome> {
  // An address refused now may be allowed later (the operator fixes the endpoint): retried like a refused connection.
  const refused = guard?.refusal(endpoint);
  if (refused) return { kind: 'retry', error: refused };
  let answer: HttpAnswer;
  try {
    answer = await postText(
      endpoint,
      envelopeXml,
      { 'content-type': 'text/xml; charset=UTF-8', soapaction: `"${soapAction}"` },
      {
        timeoutMs,
        maxAnswerBytes: MAX_ANSWER_BYTES,
        ...(httpsAgent ? { httpsAgent } : {}),
        ...(guard ? { lookup: guard.lookup } : {}),
      },
    );
  } catch (error) {
    const failure = error as HttpPostError;
    // Anything that large is not a receipt: trying again would get the same answer.
    return {
      kind: failure.kind === 'too-large' ? 'failed' : 'retry',
      ...(failure.status !== undefined ? { httpStatus: failure.status } : {}),
      error: failure.message.slice(0, 300),
    };
  }
  // The validator judges receipts of the outbound contract's response elements.
  const outcome = classifyAnswer(answer, validator, messageId);
  if (outcome.kind !== 'delivered' || !receiptSignature) return outcome;
  return checkReceiptSignature(answer.text, receiptSignature, answer.status);
}
