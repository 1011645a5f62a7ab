/** Edges of accepting: compression at the limit, CDATA values, identificatiecodes and MessageIDs reused for other messages. */

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import type { Broker } from '../../src/broker.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { startTestBroker, storedCounts } from '../support/broker.js';
import { bodyFixture, elementText, lasRequest, post, send } from '../support/soap.js';

const LIMIT = 8192;

/** A valid request padded with a comment to exactly `size` bytes. */
function requestOfSize(size: number): { path: string; soapAction: string; xml: string } {
  const request = lasRequest(
    'aanleverenVerwijderingInschrijvingVO',
    bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml'),
  );
  const padding = size - Buffer.byteLength(request.xml) - '<!---->'.length;
  return { ...request, xml: request.xml.replace('<soapenv:Body>', `<soapenv:Body><!--${'x'.repeat(padding)}-->`) };
}

describe('accept edges', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startTestBroker({ env: { MAX_BODY_BYTES: String(LIMIT) } });
  });
  afterAll(async () => {
    await broker.close();
  });

  test.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)(
    '%s: exactly the limit once decompressed is accepted, one byte more is BB0001',
    async (encoding, compress) => {
      const atLimit = requestOfSize(LIMIT);
      expect(Buffer.byteLength(atLimit.xml)).toBe(LIMIT);
      const ok = await post(broker.baseUrl, atLimit.path, compress(atLimit.xml), {
        soapaction: atLimit.soapAction,
        'content-encoding': encoding,
      });
      expect(ok.faultString).toBeNull();
      const over = requestOfSize(LIMIT + 1);
      const refused = await post(broker.baseUrl, over.path, compress(over.xml), {
        soapaction: over.soapAction,
        'content-encoding': encoding,
      });
      expect(refused.faultCode).toBe('Client.BB0001');
    },
  );

  test('values inside CDATA are read as the schema sees them', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)
      .replace(`>${documentId}<`, `><![CDATA[${documentId}]]><`)
      .replace('<bas:brin>25BE</bas:brin>', '<bas:brin><![CDATA[25BE]]></bas:brin>');
    const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const row = (await broker.pool.query('SELECT brin FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    expect(row).toEqual({ brin: '25BE' });
  });

  test('an identificatiecode reused for another message is Client.EK0036 naming it, the original stays', async () => {
    const documentId = randomUUID();
    await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)),
    );
    const before = await storedCounts(broker);
    const otherContent = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId).replace('2026-0001', '2026-0099'),
      ),
    );
    const otherOperation = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenVerwijderingInschrijvingVO',
        bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml', documentId),
      ),
    );
    for (const answer of [otherContent, otherOperation]) {
      expect([answer.faultCode, elementText(answer.text, 'element')]).toEqual([
        'Client.EK0036',
        'identificatiecodeBedrijfsdocument',
      ]);
      expect(answer.faultString).toContain(`identificatiecodeBedrijfsdocument ${documentId} was already used`);
    }
    expect(await storedCounts(broker)).toEqual(before);
    // a true resubmission, reformatted, is still a duplicate with the original receipt
    const reformatted = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenInschrijvingVO',
        bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId).replace(/>\s+</g, '><'),
      ),
    );
    expect(elementText(reformatted.text, 'ontvangstBevestiging')).toBe('J');
  });

  test('under one identificatiecode, text moved between elements is another message; white space the types drop is not', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml', documentId);
    const first = await send(broker.baseUrl, lasRequest('aanleverenIdentificerenPersoonVO', body));
    expect(elementText(first.text, 'ontvangstBevestiging')).toBe('J');
    // Same characters without white space (the fingerprint of before took it for a resend): surname "Jansenvan", no prefix.
    const moved = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenIdentificerenPersoonVO',
        body.replace('>Jansen<', '>Jansenvan<').replace(/<bd:voorvoegsels>van<\/bd:voorvoegsels>/, ''),
      ),
    );
    expect([moved.faultCode, elementText(moved.text, 'element')]).toEqual([
      'Client.EK0036',
      'identificatiecodeBedrijfsdocument',
    ]);
    const spaced = await send(
      broker.baseUrl,
      lasRequest(
        'aanleverenIdentificerenPersoonVO',
        body.replace('>Jansen<', '>\n  Jansen\t<').replace('>9712AB<', '> 9712AB <'),
      ),
    );
    expect(elementText(spaced.text, 'identificatiecodeBedrijfsdocument')).toBe(
      elementText(first.text, 'identificatiecodeBedrijfsdocument'),
    );
  });

  test('a wsa:MessageID reused for another message is Client.EK0036 naming it; the identical message under it keeps its receipt', async () => {
    const messageId = randomUUID();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml');
    const first = await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, { messageId: `urn:uuid:${messageId}` }),
    );
    expect(elementText(first.text, 'ontvangstBevestiging')).toBe('J');
    const before = await storedCounts(broker);
    // Another message (its own identificatiecode) under that MessageID, written bare or as a URN: one id.
    for (const spelling of [`urn:uuid:${messageId}`, messageId]) {
      const other = await send(
        broker.baseUrl,
        lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'), {
          messageId: spelling,
        }),
      );
      expect([other.faultCode, elementText(other.text, 'element')]).toEqual(['Client.EK0036', 'MessageID']);
      expect(other.faultString).toContain(`wsa:MessageID ${spelling} was already used`);
    }
    // The first message resent under its own MessageID: the original receipt.
    const resent = await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', body, { messageId: `urn:uuid:${messageId}` }),
    );
    expect(elementText(resent.text, 'identificatiecodeBedrijfsdocument')).toBe(
      elementText(first.text, 'identificatiecodeBedrijfsdocument'),
    );
    // Another stored message resent under the first one's MessageID: that MessageID is reused.
    const second = bodyFixture('valid/aanleverenInschrijvingVO.xml');
    expect(
      elementText(
        (await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', second))).text,
        'ontvangstBevestiging',
      ),
    ).toBe('J');
    const secondUnderFirstsId = await send(
      broker.baseUrl,
      lasRequest('aanleverenInschrijvingVO', second, { messageId }),
    );
    expect([secondUnderFirstsId.faultCode, elementText(secondUnderFirstsId.text, 'element')]).toEqual([
      'Client.EK0036',
      'MessageID',
    ]);
    expect(await storedCounts(broker)).toEqual({ messages: before.messages + 1, outbox: before.outbox + 1 });
  });

  test('a datumTijdBedrijfsdocument that cannot be a real time is DK0004, not a failed batch', async () => {
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
      '2026-09-01T08:15:00Z',
      '0001-01-01T00:00:00Z',
    );
    const answer = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    expect(answer.faultCode).toBe('Client.DK0004');
    expect(answer.faultString).toContain('datumTijdBedrijfsdocument');
  });
});

describe('schemas at start-up', () => {
  test('a broken XSD stops start-up with the file named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-xsd-'));
    fs.writeFileSync(
      path.join(dir, 'broken.xsd'),
      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:nope"/></xs:schema>',
    );
    expect(() => compileSchemas(['broken.xsd'], dir)).toThrow(/broken\.xsd does not compile/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
