import { type Contract, findOperationByAction, NS, OIN_PATTERN, type Operation } from '../infra/catalogue.js';
import { BrokerFault } from '../infra/errors.js';
import { type HeaderBlock, qualifiedName, type SoapEnvelope } from '../infra/xml/soap-envelope.js';
import type { ContractChoice } from './contract-choice.js';

/** The addressing facts of an accepted envelope. */
export interface Addressing {
  readonly operation: Operation;
  /** wsa:MessageID as sent (bare UUID or urn:uuid:…). */
  readonly messageId: string;
  /** wsa:From/wsa:Address as sent; the receipt is addressed back to it. */
  readonly fromAddress: string;
  /** OIN claimed in wsa:From. */
  readonly fromOin: string;
}

const ALLOWED_HEADER_NAMESPACES = new Set<string>([NS.wsa, NS.wsse, NS.wsu]);
/** Header blocks the broker processes, so a sender may mark them mustUnderstand (wsse:Security: src/inbound/wss/). */
const UNDERSTOOD_HEADER_NAMESPACES = new Set<string>([NS.wsa, NS.wsse]);
const UUID = /^(?:urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const WSA_ADDRESS = qualifiedName(NS.wsa, 'Address');

/**
 * The OIN in an Edukoppeling address (`…?oin=<20 digits>`, lowercase `oin`), or null: the one `oin`
 * parameter of the URL's query, so an `oin=` inside another parameter's value or the fragment is not it.
 */
export function oinFromAddress(address: string): string | null {
  let values: string[];
  try {
    values = new URL(address).searchParams.getAll('oin');
  } catch {
    return null;
  }
  return values.length === 1 && OIN_PATTERN.test(values[0]!) ? values[0]! : null;
}

/** SOAP 1.1 SOAPAction is usually quoted; an empty value means "none". */
export function normaliseSoapAction(raw: string | undefined): string | undefined {
  const value = raw
    ?.trim()
    .replace(/^"(.*)"$/s, '$1')
    .trim();
  return value ? value : undefined;
}

function addressingHeaders(headers: readonly HeaderBlock[]): Map<string, HeaderBlock> {
  const byName = new Map<string, HeaderBlock>();
  for (const block of headers) {
    if (!ALLOWED_HEADER_NAMESPACES.has(block.namespace)) {
      throw new BrokerFault(
        'DK0010',
        `header block {${block.namespace}}${block.localName} is not WS-Addressing or WS-Security`,
        block.localName,
      );
    }
    if (block.mustUnderstand && !UNDERSTOOD_HEADER_NAMESPACES.has(block.namespace)) {
      throw new BrokerFault(
        'BB0005',
        `header block {${block.namespace}}${block.localName} is marked mustUnderstand, and this broker does not process it yet`,
        block.localName,
      );
    }
    if (block.namespace !== NS.wsa) continue;
    if (byName.has(block.localName)) {
      throw new BrokerFault('DK0011', `wsa:${block.localName} occurs more than once`, block.localName);
    }
    byName.set(block.localName, block);
  }
  return byName;
}

function resolveOperation(
  contract: Contract,
  soapAction: string | undefined,
  wsaAction: string | undefined,
  envelope: SoapEnvelope,
): Operation {
  if (!soapAction) throw new BrokerFault('DK0003', 'HTTP SOAPAction header missing');
  const operation = findOperationByAction(soapAction);
  if (!operation || operation.contract !== contract.name) {
    throw new BrokerFault('DK0003', `SOAPAction '${soapAction}' is not an operation of ${contract.name}`);
  }
  if (wsaAction === undefined) throw new BrokerFault('DK0006', 'wsa:Action header missing', 'Action');
  if (wsaAction !== soapAction) {
    throw new BrokerFault('DK0003', `wsa:Action '${wsaAction}' does not match SOAPAction '${soapAction}'`, 'Action');
  }
  if (envelope.bodyNamespace !== contract.schemaNamespace || envelope.bodyLocalName !== operation.requestElement) {
    throw new BrokerFault(
      'DK0003',
      `body element {${envelope.bodyNamespace}}${envelope.bodyLocalName} does not belong to operation ${operation.name} (expected {${contract.schemaNamespace}}${operation.requestElement})`,
      envelope.bodyLocalName,
    );
  }
  return operation;
}

/**
 * Checks the envelope's header blocks and WS-Addressing against the HTTP SOAPAction and the contract
 * the request was posted to (docs/domain.md, section 2). Throws the matching BrokerFault.
 */
export function checkEnvelopeRules(
  envelope: SoapEnvelope,
  choose: ContractChoice,
  rawSoapAction: string | undefined,
  brokerOin: string,
): Addressing & { contract: Contract } {
  const wsa = addressingHeaders(envelope.headers);
  // Header blocks first, then the contract: the faults come in the same order at every address.
  const contract = choose(rawSoapAction);
  const operation = resolveOperation(contract, normaliseSoapAction(rawSoapAction), wsa.get('Action')?.text, envelope);

  const to = wsa.get('To')?.text;
  if (!to) throw new BrokerFault('DK0005', 'wsa:To header missing', 'To');
  const toOin = oinFromAddress(to);
  if (!toOin) throw new BrokerFault('EK0022', `wsa:To '${to}' has no valid oin= parameter (20 characters)`, 'To');
  if (toOin !== brokerOin)
    throw new BrokerFault('DK0011', `wsa:To is addressed to OIN ${toOin}, not to this broker (${brokerOin})`, 'To');

  const messageId = wsa.get('MessageID')?.text;
  if (!messageId) throw new BrokerFault('DK0007', 'wsa:MessageID header missing', 'MessageID');
  if (!UUID.test(messageId))
    throw new BrokerFault('EK0023', `wsa:MessageID '${messageId.slice(0, 80)}' is not a UUID`, 'MessageID');

  const from = wsa.get('From');
  if (!from) throw new BrokerFault('EK0020', 'wsa:From header missing', 'From');
  // Only WS-Addressing's own Address: an element of that name in another namespace is not the sender's address.
  const fromAddress = from.children.get(WSA_ADDRESS) ?? '';
  const fromOin = oinFromAddress(fromAddress);
  if (!fromOin)
    throw new BrokerFault(
      'EK0021',
      `wsa:From/wsa:Address '${fromAddress.slice(0, 120)}' has no valid oin= parameter (20 characters)`,
      'From',
    );

  return { contract, operation, messageId, fromAddress, fromOin };
}
