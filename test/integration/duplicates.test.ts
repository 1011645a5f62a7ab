import { randomUUID } from 'node:crypto';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { jobCount, storedCounts, useTestBroker, waitFor } from '../support/broker.js';

/** The receipt element (the body's bedrijfsdocument), without the per-response WS-Addressing headers. */
const receiptOf = (xml: string): string => /<soapenv:Body>(.*)<\/soapenv:Body>/s.exec(xml)![1]!;

describe('duplicate submissions', () => {
  // No sweeper wake-ups in the way: these tests count the jobs the accept path adds.
  const broker = useTestBroker({ env: { SWEEP_GRACE_MS: '600000' } });

  test('the same identificatiecode 50× at once → one row, one job, 50 identical receipts', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId);
    const before = await storedCounts(broker());
    const jobsBefore = await jobCount(broker());

    const answers = await Promise.all(Array.from({ length: 50 }, () => send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body))));

    expect(answers.every((a) => a.status === 200 && elementText(a.text, 'ontvangstBevestiging') === 'J')).toBe(true);
    expect(new Set(answers.map((a) => receiptOf(a.text))).size).toBe(1);
    const after = await storedCounts(broker());
    expect(after.messages - before.messages).toBe(1);
    expect(after.outbox - before.outbox).toBe(1);
    await waitFor(() => jobCount(broker()), (n) => n === jobsBefore + 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await jobCount(broker())).toBe(jobsBefore + 1);
  });

  test('a later resubmission gets the original receipt and is not enqueued again', async () => {
    const documentId = randomUUID();
    const body = bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml', documentId);
    const first = await send(broker().baseUrl, lasRequest('aanleverenVerwijderingInschrijvingVO', body));
    const jobs = await waitFor(() => jobCount(broker()), (n) => n > 0);
    const again = await send(broker().baseUrl, lasRequest('aanleverenVerwijderingInschrijvingVO', body));
    expect(receiptOf(again.text)).toBe(receiptOf(first.text));
    expect(await jobCount(broker())).toBe(jobs);
  });

  test('the same identificatiecode from another sender is a different message', async () => {
    const documentId = randomUUID();
    const as25be = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId)));
    const body00ah = bodyFixture('valid/aanleverenInschrijvingVO.xml', documentId).replace(/25BE/g, '00AH');
    const as00ah = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body00ah, { from: 'http://www.w3.org/2005/08/addressing/anonymous?oin=0000000700000AH00000' }));
    expect(elementText(as00ah.text, 'ontvangstBevestiging')).toBe('J');
    expect(elementText(as00ah.text, 'identificatiecodeBedrijfsdocument')).not.toBe(elementText(as25be.text, 'identificatiecodeBedrijfsdocument'));
    const rows = await broker().pool.query('SELECT sender_oin FROM inbound_messages WHERE document_id = $1 ORDER BY sender_oin', [documentId]);
    expect(rows.rows.map((r) => r.sender_oin)).toEqual(['0000000700000AH00000', '0000000700025BE00000']);
  });
});
