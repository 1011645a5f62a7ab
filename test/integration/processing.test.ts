/** Processing accepted messages against the register (real PostgreSQL), up to the queued outbound message. */
import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { handlerRegistry } from '../../src/processing/handler.js';
import { enrolmentHandler } from '../../src/processing/handlers/enrolment.handler.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { isValidOnderwijsnummer } from '../../src/register/pgn.js';
import { inboundIdsForPupil } from '../../src/store/pupil-trace.repo.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';

const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const handlers = createHandlers();

describe('processing', () => {
  const broker = useTestBroker();

  beforeAll(async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: '123456782',
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
  });

  /** Accepts a message over HTTP, processes it, and returns the outcome and the queued outbound bodies. */
  async function deliverAndProcess(
    operation: string,
    body: string,
    now?: Date,
  ): Promise<{ outcome: string | null; outbound: { operation: string; body_xml: string; institution_oin: string }[] }> {
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    const answer = await send(broker().baseUrl, lasRequest(operation, body));
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const { id } = (await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    const result = await processMessage(broker().pool, handlers, id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: '00000001800866472000',
      ...(now ? { now: () => now } : {}),
    });
    const outbound = withOpenedBodies<{ operation: string; body_xml: string; institution_oin: string }>(
      broker().pool,
      (
        await broker().pool.query(
          `SELECT operation, ${BODY_XML_COLUMNS}, institution_oin FROM outbound_messages WHERE id = ANY($1) ORDER BY id`,
          [result.outbound.map((o) => o.id)],
        )
      ).rows,
    );
    for (const row of outbound) {
      const doc = XmlDocument.fromString(row.body_xml);
      try {
        outboundSchema.validate(doc);
      } finally {
        doc.dispose();
      }
    }
    return { outcome: result.outcome, outbound };
  }

  const enrolment = (volgnummer: string, replace: (xml: string) => string = (x) => x): string =>
    replace(bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, volgnummer));
  const signals = (xml: string): string[] => [...xml.matchAll(/<t:signaalcode>([^<]+)</g)].map((m) => m[1]!);

  test('an approved enrolment is stored and a terugkoppeling for the sender is queued', async () => {
    const result = await deliverAndProcess('aanleverenInschrijvingVO', enrolment('P-1'));
    expect(result.outcome).toBe('approved');
    expect(result.outbound.map((o) => o.operation)).toEqual([
      'terugkoppelenInschrijvingVO',
      'verstrekkenBekostigingsstatus',
    ]);
    expect(result.outbound[0]).toMatchObject({
      operation: 'terugkoppelenInschrijvingVO',
      institution_oin: '0000000700025BE00000',
    });
    expect(elementText(result.outbound[0]!.body_xml, 'leveringGoedgekeurd')).toBe('true');
    const rows = (
      await broker().pool.query(
        "SELECT pgn, to_char(datum_inschrijving, 'YYYY-MM-DD') AS d FROM enrolments WHERE brin = '25BE' AND inschrijvingvolgnummer = 'P-1'",
      )
    ).rows;
    expect(rows).toEqual([{ pgn: '123456782', d: '2026-08-20' }]);
  });

  test('a processed message is in the pupil index under the trace key processing was given', async () => {
    const body = enrolment('P-TRACE');
    await deliverAndProcess('aanleverenInschrijvingVO', body);
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    expect(await inboundIdsForPupil(broker().pool, TEST_SECRETS.TRACE_KEY, '123456782', 100)).toContain(id);
    expect(await inboundIdsForPupil(broker().pool, 'another-key', '123456782', 100)).toEqual([]);
  });

  test('processing the same message again does nothing', async () => {
    const body = enrolment('P-2');
    await deliverAndProcess('aanleverenInschrijvingVO', body);
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    expect(
      await processMessage(broker().pool, handlers, id, {
        traceKey: TEST_SECRETS.TRACE_KEY,
        brokerOin: '00000001800866472000',
      }),
    ).toEqual({ outcome: null, outbound: [] });
  });

  test('a rule violation rejects the stand with its signal and stores nothing', async () => {
    const result = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-3', (x) =>
        x.replace('<ins:vestiging>25BE00</ins:vestiging>', '<ins:vestiging>00AH00</ins:vestiging>'),
      ),
    );
    expect(result.outcome).toBe('rejected');
    expect(elementText(result.outbound[0]!.body_xml, 'leveringGoedgekeurd')).toBe('false');
    expect(signals(result.outbound[0]!.body_xml)).toEqual(['I0003']);
    expect((await broker().pool.query("SELECT 1 FROM enrolments WHERE inschrijvingvolgnummer = 'P-3'")).rowCount).toBe(
      0,
    );
  });

  test('a BSN unknown to the population register is rejected with the advice to identify (I0012)', async () => {
    const result = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-4', (x) => x.replace('123456782', '111222333')),
    );
    expect(signals(result.outbound[0]!.body_xml)).toEqual(['I0012']);
  });

  test('newest stand wins: an older stand is not applied (I0010), an identical one changes nothing', async () => {
    await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-5', (x) => x.replace('2026-09-01T08:15:00Z', '2026-09-05T08:00:00Z')),
    );
    const older = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-5', (x) =>
        x
          .replace('2026-09-01T08:15:00Z', '2026-09-02T08:00:00Z')
          .replace('<bas:datumInschrijving>2026-08-20', '<bas:datumInschrijving>2026-08-19'),
      ),
    );
    expect(older.outcome).toBe('older');
    expect(signals(older.outbound[0]!.body_xml)).toEqual(['I0010']);
    const identical = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-5', (x) => x.replace('2026-09-01T08:15:00Z', '2026-09-06T08:00:00Z')),
    );
    expect(identical.outcome).toBe('unchanged');
    const stored = (
      await broker().pool.query(
        "SELECT to_char(datum_inschrijving, 'YYYY-MM-DD') AS d, document_time FROM enrolments WHERE inschrijvingvolgnummer = 'P-5'",
      )
    ).rows[0];
    expect(stored.d).toBe('2026-08-20');
    expect((stored.document_time as Date).toISOString()).toBe('2026-09-05T08:00:00.000Z');
  });

  test('deletion: an unknown enrolment is rejected (I0009), a known one is removed', async () => {
    const deletion = (volgnummer: string): string =>
      bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml').replace('2026-0001', volgnummer);
    const unknown = await deliverAndProcess('aanleverenVerwijderingInschrijvingVO', deletion('P-none'));
    expect(signals(unknown.outbound[0]!.body_xml)).toEqual(['I0009']);
    await deliverAndProcess('aanleverenInschrijvingVO', enrolment('P-6'));
    const known = await deliverAndProcess('aanleverenVerwijderingInschrijvingVO', deletion('P-6'));
    expect(known.outcome).toBe('approved');
    expect((await broker().pool.query("SELECT 1 FROM enrolments WHERE inschrijvingvolgnummer = 'P-6'")).rowCount).toBe(
      0,
    );
  });

  test('the volgnummer is unique per pupil and BRIN: a second pupil at the school may use the same one', async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: '111222333',
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Bakker',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
    });
    const secondPupil = (x: string): string => x.replace('123456782', '111222333');
    expect((await deliverAndProcess('aanleverenInschrijvingVO', enrolment('V-1'))).outcome).toBe('approved');
    const second = await deliverAndProcess('aanleverenInschrijvingVO', enrolment('V-1', secondPupil));
    expect([second.outcome, signals(second.outbound[0]!.body_xml)]).toEqual(['approved', []]);
    const stored = async () =>
      (
        await broker().pool.query(
          "SELECT pgn FROM enrolments WHERE brin = '25BE' AND inschrijvingvolgnummer = 'V-1' ORDER BY pgn",
        )
      ).rows.map((r) => r.pgn);
    expect(await stored()).toEqual(['111222333', '123456782']);
    // A newer stand of one pupil's enrolment replaces that one only.
    const newer = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('V-1', (x) =>
        secondPupil(x)
          .replace('2026-09-01T08:15:00Z', '2026-09-03T08:00:00Z')
          .replace('<bas:datumInschrijving>2026-08-20', '<bas:datumInschrijving>2026-08-19'),
      ),
    );
    expect(newer.outcome).toBe('approved');
    expect(
      (
        await broker().pool.query(
          "SELECT pgn, to_char(datum_inschrijving, 'YYYY-MM-DD') AS d FROM enrolments WHERE inschrijvingvolgnummer = 'V-1' ORDER BY pgn",
        )
      ).rows,
    ).toEqual([
      { pgn: '111222333', d: '2026-08-19' },
      { pgn: '123456782', d: '2026-08-20' },
    ]);
    // A deletion names the pupil too: it removes that pupil's enrolment and leaves the other's.
    const deletion = (): string =>
      bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml')
        .replace('2026-0001', 'V-1')
        .replace('123456782', '111222333');
    expect((await deliverAndProcess('aanleverenVerwijderingInschrijvingVO', deletion())).outcome).toBe('approved');
    expect(await stored()).toEqual(['123456782']);
    const again = await deliverAndProcess('aanleverenVerwijderingInschrijvingVO', deletion());
    expect(signals(again.outbound[0]!.body_xml)).toEqual(['I0009']);
    expect(await stored()).toEqual(['123456782']);
  });

  test('an enrolment delivered for a pupil registered as deceased warns with P0002 unless it ends by the date of death', async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: '200000469',
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Dood',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: '2026-09-10',
    });
    const deceased = (x: string): string => x.replace('123456782', '200000469');
    const open = await deliverAndProcess('aanleverenInschrijvingVO', enrolment('D-1', deceased));
    expect([
      open.outcome,
      elementText(open.outbound[0]!.body_xml, 'leveringGoedgekeurd'),
      signals(open.outbound[0]!.body_xml),
    ]).toEqual(['approved', 'true', ['P0002']]);
    expect(open.outbound[0]!.body_xml).toContain('<t:waarde>D-1</t:waarde>');
    // The same stand again (identical) still carries the warning.
    const again = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('D-1', (x) => deceased(x).replace('2026-09-01T08:15:00Z', '2026-09-02T08:15:00Z')),
    );
    expect([again.outcome, signals(again.outbound[0]!.body_xml)]).toEqual(['unchanged', ['P0002']]);
    const withOut =
      (out: string) =>
      (x: string): string =>
        deceased(x)
          .replace(
            '</bas:datumInschrijving>',
            `</bas:datumInschrijving><bas:datumUitschrijving>${out}</bas:datumUitschrijving>`,
          )
          .replace(/<ins:inschrijvingPeriodeVO>\s*<bas:datumBegin>2027-08-19[\s\S]*?<\/ins:inschrijvingPeriodeVO>/, '');
    const late = await deliverAndProcess('aanleverenInschrijvingVO', enrolment('D-2', withOut('2026-09-11')));
    expect([late.outcome, signals(late.outbound[0]!.body_xml)]).toEqual(['approved', ['P0002']]);
    const onTheDay = await deliverAndProcess('aanleverenInschrijvingVO', enrolment('D-3', withOut('2026-09-10')));
    expect([onTheDay.outcome, signals(onTheDay.outbound[0]!.body_xml)]).toEqual(['approved', []]);
  });

  test('identification with a BSN: confirmed from the population register, or I0012 when the data differ', async () => {
    const known = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml'),
    );
    expect(known.outcome).toBe('identified');
    expect(known.outbound[0]!.operation).toBe('verstrekkenPersoonsgegevens');
    expect(elementText(known.outbound[0]!.body_xml, 'burgerservicenummer')).toBe('123456782');
    expect(elementText(known.outbound[0]!.body_xml, 'voornamen')).toBe('Anna');
    const wrongGender = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml').replace('<idp:geslacht>2', '<idp:geslacht>1'),
    );
    expect(wrongGender.outcome).toBe('not-identified');
    expect(signals(wrongGender.outbound[0]!.body_xml)).toEqual(['I0012']);
  });

  test('identification without a PGN assigns a valid onderwijsnummer once, and finds the person again', async () => {
    const first = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-buitenland.xml'),
    );
    const assigned = elementText(first.outbound[0]!.body_xml, 'onderwijsnummer')!;
    expect(isValidOnderwijsnummer(assigned)).toBe(true);
    const again = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-buitenland.xml'),
    );
    expect(elementText(again.outbound[0]!.body_xml, 'onderwijsnummer')).toBe(assigned);
    const other = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml'),
    );
    expect(elementText(other.outbound[0]!.body_xml, 'onderwijsnummer')).not.toBe(assigned);
  });

  test('an enrolment with an onderwijsnummer the register never assigned is refused (P0001); an assigned one is approved', async () => {
    const own = (volgnummer: string, onderwijsnummer: string): string =>
      bodyFixture('valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml')
        .replace('<b:onderwijsnummer>100000004<', `<b:onderwijsnummer>${onderwijsnummer}<`)
        .replace('<b:inschrijvingvolgnummer>7<', `<b:inschrijvingvolgnummer>${volgnummer}<`);
    const unknown = await deliverAndProcess('aanleverenInschrijvingVO', own('P-OWN-1', '100000004'));
    expect(unknown.outcome).toBe('rejected');
    expect(signals(unknown.outbound[0]!.body_xml)).toEqual(['P0001']);
    expect(
      (await broker().pool.query("SELECT 1 FROM enrolments WHERE inschrijvingvolgnummer = 'P-OWN-1'")).rowCount,
    ).toBe(0);

    const identified = await deliverAndProcess(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml'),
    );
    const assigned = elementText(identified.outbound[0]!.body_xml, 'onderwijsnummer')!;
    const known = await deliverAndProcess('aanleverenInschrijvingVO', own('P-OWN-2', assigned));
    expect(known.outcome).toBe('approved');
    expect(signals(known.outbound[0]!.body_xml)).toEqual([]);
  });

  const fundingStatusOf = (result: { outbound: { operation: string; body_xml: string }[] }) =>
    result.outbound.find((o) => o.operation === 'verstrekkenBekostigingsstatus')!.body_xml;

  test("a BSN pupil's funding status carries the nieuwkomers indication the register derives; the school may waive it with N", async () => {
    const now = new Date('2026-09-15T10:00:00Z'); // peildatum 1 October 2026, the quarter after the first enrolment
    const status = fundingStatusOf;
    // Arrived this summer: the population register records this enrolment as the first at a Dutch school.
    const pupil = {
      bsn: '222333443',
      birthDate: '2013-04-17',
      gender: '1',
      surname: 'Nieuw',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
      firstEnrolmentPoVo: '2026-08-20',
    };
    await upsertPopulationRecord(broker().pool, pupil);
    const derived = await deliverAndProcess(
      'aanleverenInschrijvingVO',
      enrolment('P-NK-1', (x) => x.replace('123456782', pupil.bsn)),
      now,
    );
    expect(derived.outcome).toBe('approved');
    expect(elementText(status(derived), 'datumEersteInschrijvingNL')).toBe('2026-08-20');
    expect(elementText(status(derived), 'indicatieNieuwkomersbekostiging')).toBe('J');
    const withIndication = (volgnummer: string, value: 'J' | 'N') =>
      enrolment(volgnummer, (x) =>
        x
          .replace('123456782', pupil.bsn)
          .replace(
            /<ins:experiment>[\s\S]*?<\/ins:experiment>\s*/,
            `<ins:indicatieNieuwkomersbekostiging>${value}</ins:indicatieNieuwkomersbekostiging>`,
          ),
      );
    const waived = await deliverAndProcess('aanleverenInschrijvingVO', withIndication('P-NK-2', 'N'), now);
    expect(waived.outcome).toBe('approved');
    expect(elementText(status(waived), 'indicatieNieuwkomersbekostiging')).toBe('N');
    const claimed = await deliverAndProcess('aanleverenInschrijvingVO', withIndication('P-NK-3', 'J'), now);
    expect(signals(claimed.outbound[0]!.body_xml)).toEqual(['I0036']);
  });

  test('an ordinary first-year with years of Dutch primary school, or with no recorded first enrolment, is no nieuwkomer', async () => {
    const now = new Date('2026-09-15T10:00:00Z'); // peildatum 1 October 2026
    const person = (bsn: string, firstEnrolmentPoVo?: string) => ({
      bsn,
      birthDate: '2014-03-02',
      gender: '2',
      surname: 'Brugklas',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
      ...(firstEnrolmentPoVo ? { firstEnrolmentPoVo } : {}),
    });
    const firstYear = (volgnummer: string, bsn: string) => enrolment(volgnummer, (x) => x.replace('123456782', bsn));

    await upsertPopulationRecord(broker().pool, person('222333455', '2018-08-20'));
    const ordinary = await deliverAndProcess('aanleverenInschrijvingVO', firstYear('P-NK-10', '222333455'), now);
    expect(ordinary.outcome).toBe('approved');
    expect(elementText(fundingStatusOf(ordinary), 'datumEersteInschrijvingNL')).toBe('2018-08-20');
    expect(elementText(fundingStatusOf(ordinary), 'indicatieNieuwkomersbekostiging')).toBe('N');

    await upsertPopulationRecord(broker().pool, person('222333467'));
    const unknown = await deliverAndProcess('aanleverenInschrijvingVO', firstYear('P-NK-11', '222333467'), now);
    expect(unknown.outcome).toBe('approved');
    expect(elementText(fundingStatusOf(unknown), 'datumEersteInschrijvingNL')).toBeUndefined();
    expect(elementText(fundingStatusOf(unknown), 'indicatieNieuwkomersbekostiging')).toBe('N');
  });

  test('the handler registry refuses a missing or doubled handler', () => {
    expect(() => handlerRegistry([enrolmentHandler])).toThrow(
      /no handler for aanleverenVerwijderingInschrijvingVO, aanleverenIdentificerenPersoonVO/,
    );
    expect(() => handlerRegistry([enrolmentHandler, enrolmentHandler])).toThrow(/two handlers/);
  });
});
