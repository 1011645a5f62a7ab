import { randomUUID } from 'node:crypto';
import { checkNoBlankValues } from '../inbound/body-rules.js';
import { findContract, NS } from '../infra/catalogue.js';
import { inTransaction, type Pool } from '../infra/database.js';
import { BrokerFault } from '../infra/errors.js';
import { validateBody } from '../infra/xml/body-validator.js';
import { escapeXml } from '../infra/xml/escape.js';
import { compileSchemas } from '../infra/xml/schema-set.js';
import { openSoapEnvelope } from '../infra/xml/soap-envelope.js';
import type { PersonMutation } from '../register/person-mutation.js';
import { type AcceptedMessage, insertAcceptedInTransaction } from '../store/inbound-messages.repo.js';

const CONTRACT = findContract('DUO_BRP_Persoonsmutaties_V1')!;
const OPERATION = CONTRACT.operations.find((o) => o.name === 'verwerkenPersoonsmutatie')!;
const ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

/** The parties and ids of one submitted mutation. */
export interface MutationEnvelopeHeader {
  readonly documentId: string;
  readonly messageId: string;
  readonly at: Date;
  readonly brpSourceOin: string;
  readonly brokerOin: string;
}

const el = (prefix: string, name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${prefix}:${name}>${escapeXml(value)}</${prefix}:${name}>`;

/** The request body; address fields are written in the order the mutation holds them (the schema's order). */
function mutationBody(mutation: PersonMutation, header: MutationEnvelopeHeader): string {
  const name = mutation.name;
  const [kind, fields] = !mutation.address
    ? [undefined, {}]
    : 'binnenlandsAdres' in mutation.address
      ? ['binnenlandsAdres', mutation.address.binnenlandsAdres]
      : ['buitenlandsAdres', mutation.address.buitenlandsAdres];
  const address = kind
    ? `<brp:${kind}>${Object.entries(fields)
        .map(([field, value]) => el('bd', field, value))
        .join('')}</brp:${kind}>`
    : '';
  return (
    `<brp:${OPERATION.requestElement} xmlns:brp="${CONTRACT.schemaNamespace}" xmlns:bd="${NS.basisInformatiediensten}">` +
    el('bd', 'identificatiecodeBedrijfsdocument', header.documentId) +
    el('bd', 'verzendendeInstantie', header.brpSourceOin) +
    el('bd', 'ontvangendeInstantie', 'DUO') +
    el('bd', 'datumTijdBedrijfsdocument', header.at.toISOString()) +
    el('brp', 'burgerservicenummer', mutation.bsn) +
    el('brp', 'achternaam', name?.achternaam) +
    el('brp', 'voorvoegsels', name?.voorvoegsels) +
    el('brp', 'voornamen', name?.voornamen) +
    address +
    el('brp', 'datumOverlijden', mutation.datumOverlijden) +
    `</brp:${OPERATION.requestElement}>`
  );
}

/** The whole SOAP request, exactly as the BRP source would send it to the broker. */
export function mutationEnvelope(mutation: PersonMutation, header: MutationEnvelopeHeader): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" xmlns:wsa="${NS.wsa}"><soapenv:Header>` +
    `<wsa:To>${ANONYMOUS}?oin=${header.brokerOin}</wsa:To><wsa:Action>${OPERATION.action}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${header.messageId}</wsa:MessageID><wsa:From><wsa:Address>${ANONYMOUS}?oin=${header.brpSourceOin}</wsa:Address></wsa:From>` +
    `</soapenv:Header><soapenv:Body>${mutationBody(mutation, header)}</soapenv:Body></soapenv:Envelope>`
  );
}

/** Throws BrokerFault EK0035 for a blank value, DK0004 when the body is not valid against the contract schema: as the SOAP endpoint does. */
function validate(xml: string): void {
  const validator = compileSchemas([CONTRACT.schemaFile]).get(CONTRACT.schemaFile)!;
  const envelope = openSoapEnvelope(xml);
  try {
    checkNoBlankValues(envelope);
    validateBody(envelope.bodyElement, validator);
  } finally {
    envelope.dispose();
    validator.dispose();
  }
}

/**
 * The mutation as an accepted inbound message from the BRP source, exactly as the SOAP endpoint would
 * store it. Throws BrokerFault DK0004 when it is not valid against the contract schema.
 */
export function mutationMessage(
  parties: { brpSourceOin: string; brokerOin: string },
  mutation: PersonMutation,
  at = new Date(),
): AcceptedMessage {
  const header: MutationEnvelopeHeader = { ...parties, documentId: randomUUID(), messageId: randomUUID(), at };
  const rawXml = mutationEnvelope(mutation, header);
  validate(rawXml);
  return {
    contract: CONTRACT.name,
    operation: OPERATION.name,
    senderOin: parties.brpSourceOin,
    brin: null,
    documentId: header.documentId,
    documentTime: at.toISOString(),
    wsaMessageId: `urn:uuid:${header.messageId}`,
    requestId: `cli-${header.messageId}`,
    receiptId: randomUUID(),
    receiptAt: at,
    rawXml,
  };
}

/**
 * Stores the message with its processing-outbox row in the caller's transaction — the store path of a
 * mutation accepted over SOAP, so the processing worker handles it exactly once and the same pushes
 * result. Returns the stored message's id (to enqueue).
 */
export async function storeMutationMessage(tx: Pick<Pool, 'query'>, message: AcceptedMessage): Promise<number> {
  // No batch job: the caller adds the message's own job (processingJobs).
  const [stored] = await insertAcceptedInTransaction(tx, [message]);
  if (!stored?.isNew) throw new BrokerFault('DK0050', 'the mutation was not stored as a new message');
  return stored.messageId;
}

/** Builds, checks and stores a mutation (mutationMessage, then storeMutationMessage), unaudited: for tests and tools. */
export async function submitPersonMutation(
  pool: Pool,
  parties: { brpSourceOin: string; brokerOin: string },
  mutation: PersonMutation,
  at = new Date(),
): Promise<number> {
  const message = mutationMessage(parties, mutation, at);
  return inTransaction(pool, (tx) => storeMutationMessage(tx, message));
}
