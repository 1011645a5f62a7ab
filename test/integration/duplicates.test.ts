import { randomUUID } from 'node:crypto';
import type { Broker } from '../../src/broker.js';
import { jobCount, startTestBroker, storedCounts, useTestBroker, waitFor } from '../support/broker.js';
import { createTestDatabase } from '../support/services.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

/** The receipt element (the body's bedrijfsdocument), without the per-response WS-Addressing headers. */
const receiptOf = (xml: string): string => /<soapenv:Body>(.*)<\/soapenv:Body>/s.exec(xml)![1]!;

describe('duplicate submissions', () => {
  // No sweeper wake-ups in the way: these tests count the jobs the accept path adds. 50 copies at once
  // are more than one sender may have in flight by default (32, then Server.BB0006): raised here.
  const broker = useTestBroker({ env: { SWEEP_GRACE_MS: '600000', MAX_IN_FLIGHT_PER_SENDER: '64' } });

  test('the same identificatiecode 50× at once → one row, one job, 50 identical receipts', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId);
    const before = await storedCounts(broker());
    const jobsBefore = await jobCount(broker());

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body))),
    );

    expect(answers.every((a) => a.status === 200 && elementText(a.text, 'ontvangstBevestiging') === 'J')).toBe(true);
    expect(new Set(answers.map((a) => receiptOf(a.text))).size).toBe(1);
    const after = await storedCounts(broker());
    expect(after.messages - before.messages).toBe(1);
    expect(after.outbox - before.outbox).toBe(1);
    await waitFor(
      () => jobCount(broker()),
      (n) => n === jobsBefore + 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await jobCount(broker())).toBe(jobsBefore + 1);
  });

  test('a later resubmission gets the original receipt and is not enqueued again', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml', documentId);
    const first = await send(broker().baseUrl, lasRequest('aanleverenVerwijderingInschrijvingVO', body));
    const jobs = await waitFor(
      () => jobCount(broker()),
      (n) => n > 0,
    );
    const again = await send(broker().baseUrl, lasRequest('aanleverenVerwijderingInschrijvingVO', body));
    expect(receiptOf(again.text)).toBe(receiptOf(first.text));
    expect(await jobCount(broker())).toBe(jobs);
  });

  test('the same identificatiecode from another sender is a different message', async () => {
    const documentId = randomUUID();
    const as25be = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)),
    );
    const body00ah = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId).replace(/25BE/g, '00AH');
    const as00ah = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', body00ah, {
        from: 'http://www.w3.org/2005/08/addressing/anonymous?oin=0000000700000AH00000',
      }),
    );
    expect(elementText(as00ah.text, 'ontvangstBevestiging')).toBe('J');
    expect(elementText(as00ah.text, 'identificatiecodeBedrijfsdocument')).not.toBe(
      elementText(as25be.text, 'identificatiecodeBedrijfsdocument'),
    );
    const rows = await broker().pool.query(
      'SELECT sender_oin FROM inbound_messages WHERE document_id = $1 ORDER BY sender_oin',
      [documentId],
    );
    expect(rows.rows.map((r) => r.sender_oin)).toEqual(['0000000700000AH00000', '0000000700025BE00000']);
  });
});

describe('one id, two different messages at once, on two brokers sharing a database', () => {
  let brokers: Broker[] = [];
  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    brokers = [await startTestBroker({ databaseUrl }), await startTestBroker({ databaseUrl })];
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
  });

  /** Two bodies that differ, sharing the named id. */
  const pairs: Record<string, () => { requests: ReturnType<typeof lasRequest>[]; id: string }> = {
    identificatiecodeBedrijfsdocument: () => {
      const documentId = randomUUID();
      const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId);
      return {
        id: documentId,
        requests: [
          lasRequest('aanleverenInschrijvingVO', body),
          lasRequest('aanleverenInschrijvingVO', body.replace('2026-0001', '2026-0042')),
        ],
      };
    },
    MessageID: () => {
      const messageId = `urn:uuid:${randomUUID()}`;
      return {
        id: messageId,
        requests: [1, 2].map(() =>
          lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'), { messageId }),
        ),
      };
    },
  };

  test.each(Object.keys(pairs))(
    '%s: exactly one is accepted, the other gets Client.EK0036 naming the id',
    async (element) => {
      const before = await storedCounts(brokers[0]!);
      for (let round = 0; round < 8; round++) {
        const { requests, id } = pairs[element]!();
        const answers = await Promise.all(requests.map((request, i) => send(brokers[i]!.baseUrl, request)));
        const accepted = answers.filter((a) => elementText(a.text, 'ontvangstBevestiging') === 'J');
        const refused = answers.filter((a) => a.faultCode !== null);
        expect([accepted.length, refused.length]).toEqual([1, 1]);
        expect([refused[0]!.faultCode, elementText(refused[0]!.text, 'element')]).toEqual(['Client.EK0036', element]);
        expect(refused[0]!.faultString).toContain(`${id} was already used`);
      }
      const after = await storedCounts(brokers[1]!);
      expect(after.messages - before.messages).toBe(8);
    },
  );
});
