import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import { INBOUND_CONTRACTS, NS } from '../../src/infra/catalogue.js';
import { processingBatchJobId } from '../../src/infra/processing-queue.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { openRawXml } from '../../src/store/stored-text.js';
import { jobCount, storedCounts, useTestBroker, waitFor } from '../support/broker.js';
import {
  ANONYMOUS,
  bodyFixture,
  defaultSenderOin,
  elementText,
  FIXTURES,
  lasRequest,
  operationOfFixture,
  send,
} from '../support/soap.js';

const validFixtures = fs.readdirSync(path.join(FIXTURES, 'valid')).filter((f) => f.endsWith('.xml'));
const schemas = compileSchemas(INBOUND_CONTRACTS.map((c) => c.schemaFile));

/** The receipt element of a response, validated against the contract schema as its own document. */
function validateReceipt(responseXml: string, operation: string): void {
  const contract = INBOUND_CONTRACTS.find((c) => c.operations.some((o) => o.name === operation))!;
  const doc = XmlDocument.fromString(responseXml);
  try {
    const body = doc.get('/*[local-name()="Envelope"]/*[local-name()="Body"]/*');
    if (!body) throw new Error('no body element');
    schemas.get(contract.schemaFile)!.validate(body as XmlElement);
  } finally {
    doc.dispose();
  }
}

describe('accepting valid messages', () => {
  // No sweeper wake-ups in the way: these tests count the jobs the accept path adds.
  const broker = useTestBroker({ env: { SWEEP_GRACE_MS: '600000' } });

  test.each(validFixtures)('%s → receipt J, one stored row, one outbox row, one job', async (fixture) => {
    const operation = operationOfFixture(fixture);
    const before = await storedCounts(broker());
    const jobsBefore = await jobCount(broker());
    const documentId = randomUUID();
    const messageId = `urn:uuid:${randomUUID()}`;
    const request = lasRequest(operation, bodyFixture(`valid/${fixture}`, documentId), { messageId });

    const answer = await send(broker().baseUrl, request);

    expect(answer.faultString).toBeNull();
    expect(answer.status).toBe(200);
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const receiptId = elementText(answer.text, 'identificatiecodeBedrijfsdocument');
    expect(receiptId).toMatch(/^[0-9a-f-]{36}$/);
    expect(receiptId).not.toBe(documentId);
    // instanties swapped
    expect(elementText(answer.text, 'ontvangendeInstantie')).toBe(elementText(request.xml, 'verzendendeInstantie'));
    expect(elementText(answer.text, 'verzendendeInstantie')).toBe(elementText(request.xml, 'ontvangendeInstantie'));
    expect(elementText(answer.text, 'datumTijdBedrijfsdocument')).toMatch(/Z$/);
    // WS-Addressing response headers
    expect(elementText(answer.text, 'RelatesTo')).toBe(messageId);
    expect(elementText(answer.text, 'Action')).toBe(request.soapAction.replace(/"/g, ''));
    expect(elementText(answer.text, 'To')).toBe(`${ANONYMOUS}?oin=${defaultSenderOin(operation)}`);
    expect(elementText(answer.text, 'Address')).toContain('oin=00000001800866472000');
    validateReceipt(answer.text, operation);

    const after = await storedCounts(broker());
    expect(after.messages).toBe(before.messages + 1);
    expect(after.outbox).toBe(before.outbox + 1);
    const row = (await broker().pool.query('SELECT * FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    expect(row).toMatchObject({
      operation,
      sender_oin: defaultSenderOin(operation),
      wsa_message_id: messageId,
      raw_xml: null,
      raw_xml_key_id: 'test',
    });
    // Stored sealed (DATA_KEYS), no byte of the body readable in the row; the repository opens it whole.
    expect(row.raw_xml_sealed.includes(Buffer.from(documentId))).toBe(false);
    expect(openRawXml(broker().pool, row)).toBe(request.xml);
    expect(row.receipt_id).toBe(receiptId);
    await waitFor(
      () => jobCount(broker()),
      (n) => n === jobsBefore + 1,
    );
    // One job per group commit; the outbox row names it.
    const outbox = (await broker().pool.query('SELECT job_key FROM processing_outbox WHERE message_id = $1', [row.id]))
      .rows[0];
    const job = await broker().processingQueue.getJob(processingBatchJobId(outbox.job_key));
    expect(job?.data).toEqual({ messageIds: [row.id] });
  });

  test('an explicit time offset is stored normalised to UTC', async () => {
    const documentId = randomUUID();
    await send(
      broker().baseUrl,
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml', documentId),
      ),
    );
    const row = (
      await broker().pool.query('SELECT document_time FROM inbound_messages WHERE document_id = $1', [documentId])
    ).rows[0];
    expect((row.document_time as Date).toISOString()).toBe('2026-09-01T08:15:00.000Z');
  });

  test('gzip-compressed requests are accepted', async () => {
    const { gzipSync } = await import('node:zlib');
    const request = lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'));
    const response = await fetch(`${broker().baseUrl}${request.path}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/xml; charset=UTF-8',
        'content-encoding': 'gzip',
        soapaction: request.soapAction,
      },
      body: gzipSync(request.xml),
    });
    expect(response.status).toBe(200);
    expect(elementText(await response.text(), 'ontvangstBevestiging')).toBe('J');
  });

  test('receipts are in the namespaces of docs/domain.md: element in the contract, children in the base schema', async () => {
    const answer = await send(
      broker().baseUrl,
      lasRequest('aanleverenIdentificerenPersoonVO', bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml')),
    );
    const doc = XmlDocument.fromString(answer.text);
    try {
      const receipt = doc.get('//*[local-name()="aanleverenIdentificerenPersoonVO_Response"]');
      expect((receipt as XmlElement | null)?.namespaceUri).toBe(
        'http://duo.nl/schema/DUO_VOInformatiediensten_IdentificerenPersoonVO_V1',
      );
      const child = doc.get('//*[local-name()="ontvangstBevestiging"]');
      expect((child as XmlElement | null)?.namespaceUri).toBe(NS.basisInformatiediensten);
    } finally {
      doc.dispose();
    }
  });
});
