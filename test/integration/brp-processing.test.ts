/** Mutations processed in one batch (real PostgreSQL): each sees the one before it; a second run changes nothing. */
import { submitPersonMutation } from '../../src/operator/submit-person-mutation.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { personMutationHandler } from '../../src/processing/handlers/person-mutation.handler.js';
import { processBatch, processMessage } from '../../src/processing/process-message.js';
import { dutchDate } from '../../src/register/calendar.js';
import type { PersonMutation } from '../../src/register/person-mutation.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { BROKER_OIN, BRP_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';

const handlers = createHandlers();
const parties = { brpSourceOin: BRP_OIN, brokerOin: BROKER_OIN };
const BSN = '200000469';

describe('processing population-register mutations', () => {
  const broker = useTestBroker();

  beforeAll(async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: BSN,
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Jansen',
      prefixes: null,
      firstNames: 'Anna',
      address: {
        binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '12', postcode: '9712AB', plaatsnaam: 'Groningen' },
      },
      dateOfDeath: null,
    });
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/123456782/g, BSN);
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    expect(
      (await processMessage(broker().pool, handlers, id, { traceKey: TEST_SECRETS.TRACE_KEY, brokerOin: BROKER_OIN }))
        .outcome,
    ).toBe('approved');
  });

  const bodyOf = async (outboundId: number): Promise<string> =>
    withOpenedBodies(
      broker().pool,
      (await broker().pool.query(`SELECT ${BODY_XML_COLUMNS} FROM outbound_messages WHERE id = $1`, [outboundId])).rows,
    )[0]!.body_xml;

  test('a name change and an address change in one batch both land, the second push carrying both', async () => {
    const rename = await submitPersonMutation(broker().pool, parties, {
      bsn: BSN,
      name: { achternaam: 'Vries', voorvoegsels: 'de' },
    });
    const move = await submitPersonMutation(broker().pool, parties, {
      bsn: BSN,
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
    });
    const repeat = await submitPersonMutation(broker().pool, parties, {
      bsn: BSN,
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
    });
    const results = await processBatch(broker().pool, handlers, [rename, move, repeat], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    expect(results.map((r) => [r.outcome, r.outbound.length])).toEqual([
      ['approved', 1],
      ['approved', 1],
      ['unchanged', 0],
    ]);

    const first = await bodyOf(results[0]!.outbound[0]!.id);
    expect([
      elementText(first, 'achternaam'),
      elementText(first, 'voorvoegsels'),
      elementText(first, 'voornamen'),
      elementText(first, 'straatnaam'),
    ]).toEqual(['Vries', 'de', undefined, 'Kerkstraat']);
    const second = await bodyOf(results[1]!.outbound[0]!.id);
    expect([
      elementText(second, 'achternaam'),
      elementText(second, 'straatnaam'),
      elementText(second, 'ontvangendeInstantie'),
    ]).toEqual(['Vries', '.', '25BE']);

    const stored = (
      await broker().pool.query(
        'SELECT surname, prefixes, first_names, address FROM population_register WHERE bsn = $1',
        [BSN],
      )
    ).rows[0];
    expect(stored).toEqual({
      surname: 'Vries',
      prefixes: 'de',
      first_names: null,
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
    });

    // The outbox claim: running the batch again processes nothing and queues nothing.
    const again = await processBatch(broker().pool, handlers, [rename, move, repeat], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    expect(again.map((r) => r.outcome)).toEqual([null, null, null]);
    expect(
      (
        await broker().pool.query('SELECT count(*)::int AS n FROM outbound_messages WHERE cause_message_id = ANY($1)', [
          [rename, move, repeat],
        ])
      ).rows[0].n,
    ).toBe(2);
  });

  test('an enrolment ending today is still told (its last day); the day after it is not', async () => {
    const today = dutchDate(new Date()); // the processing day is the Dutch one
    const body = bodyFixture('valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml')
      .replace(
        '<b:onderwijsnummer>100000004</b:onderwijsnummer>',
        `<b:burgerservicenummer>${BSN}</b:burgerservicenummer>`,
      )
      .replace('>7<', '>ENDS-TODAY<')
      .replace(/2026-08-25/g, '2024-08-26')
      .replace('2027-07-31', today);
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body));
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    expect(
      (await processMessage(broker().pool, handlers, id, { traceKey: TEST_SECRETS.TRACE_KEY, brokerOin: BROKER_OIN }))
        .outcome,
    ).toBe('approved');
    // The fixture's first enrolment (no out-date) is still active, so 25BE is told once, without a signal.
    const mutation = await submitPersonMutation(broker().pool, parties, { bsn: BSN, name: { achternaam: 'Smit' } });
    const [result] = await processBatch(broker().pool, handlers, [mutation], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    expect(result!.outbound).toHaveLength(1);
    // Deleting the active one leaves only the enrolment ending today: told today, not tomorrow.
    const deletion = bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml').replace('123456782', BSN);
    await send(broker().baseUrl, lasRequest('aanleverenVerwijderingInschrijvingVO', deletion));
    const deletionId = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(deletion, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0].id;
    expect(
      (
        await processMessage(broker().pool, handlers, deletionId, {
          traceKey: TEST_SECRETS.TRACE_KEY,
          brokerOin: BROKER_OIN,
        })
      ).outcome,
    ).toBe('approved');
    const onLastDay = await submitPersonMutation(broker().pool, parties, { bsn: BSN, name: { achternaam: 'Bakker' } });
    const [told] = await processBatch(broker().pool, handlers, [onLastDay], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
      now: () => new Date(`${today}T21:59:00Z`),
    }); // 22:59 or 23:59 in the Netherlands: still that day
    expect(told!.outbound.map((o) => o.operation)).toEqual(['verstrekkenPersoonsgegevens']);
    const dayAfter = await submitPersonMutation(broker().pool, parties, { bsn: BSN, name: { achternaam: 'Visser' } });
    const [none] = await processBatch(broker().pool, handlers, [dayAfter], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
      now: () => new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000),
    });
    expect(none).toEqual({ outcome: 'approved', outbound: [] });
  });

  test('a population entry a mutation wrote is rolled back when a later message of its batch fails', async () => {
    const surname = async (): Promise<string> =>
      (await broker().pool.query('SELECT surname FROM population_register WHERE bsn = $1', [BSN])).rows[0].surname;
    const before = await surname();
    const rename = await submitPersonMutation(broker().pool, parties, {
      bsn: BSN,
      name: { achternaam: 'Teruggedraaid' },
    });
    const failing = await submitPersonMutation(broker().pool, parties, { bsn: BSN, name: { achternaam: 'Nooit' } });
    const failsSecond = new Map(handlers);
    failsSecond.set('verwerkenPersoonsmutatie', {
      ...personMutationHandler,
      async handle(context, parsed) {
        if (context.message.id === failing) throw new Error('the second message of the batch fails');
        return personMutationHandler.handle(context, parsed as PersonMutation);
      },
    });
    await expect(
      processBatch(broker().pool, failsSecond, [rename, failing], {
        traceKey: TEST_SECRETS.TRACE_KEY,
        brokerOin: BROKER_OIN,
      }),
    ).rejects.toThrow('second message');
    // The session wrote the rename in the batch's transaction: it went with the rollback, and both messages still wait.
    expect(await surname()).toBe(before);
    expect(
      (
        await broker().pool.query('SELECT count(*)::int AS n FROM processing_outbox WHERE message_id = ANY($1)', [
          [rename, failing],
        ])
      ).rows[0].n,
    ).toBe(2);
    const results = await processBatch(broker().pool, handlers, [rename, failing], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    expect(results.map((r) => r.outcome)).toEqual(['approved', 'approved']);
    expect(await surname()).toBe('Nooit');
  });
});
