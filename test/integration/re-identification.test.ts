/**
 * A pupil first enrolled with an onderwijsnummer and then identified with a BSN (huidigOnderwijsnummer)
 * is one pupil: double enrolments, bewijzen, population mutations and re-deliveries see the enrolments
 * under both numbers (real PostgreSQL, processing up to the queued outbound messages).
 */
import { submitPersonMutation } from '../../src/operator/submit-person-mutation.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processBatch, processMessage } from '../../src/processing/process-message.js';
import { upsertPopulationRecord } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';
import { oinOf } from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { ANONYMOUS, BROKER_OIN, BRP_OIN, bodyFixture, elementText, lasRequest, send } from '../support/soap.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';

const handlers = createHandlers();
const OWN = '100000004';
const BSN = '123456782';
const now = () => new Date('2026-11-27T12:00:00Z');

describe('re-identification: an onderwijsnummer pupil identified with a BSN', () => {
  const broker = useTestBroker();

  beforeAll(async () => {
    await upsertPopulationRecord(broker().pool, {
      bsn: BSN,
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Jansen',
      prefixes: null,
      firstNames: 'Anna',
      address: null,
      dateOfDeath: null,
    });
    // The register assigned the onderwijsnummer (as an identification without a PGN does): rule 5 refuses any other.
    await broker().pool.query(
      "INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ($1, '2013-04-17', '2', 'Jansen', $1)",
      [OWN],
    );
  });

  type Queued = { brin: string; operation: string; body_xml: string };
  /** Accepts a message from `brin`'s school over HTTP, processes it, and returns the outcome and what it queued. */
  async function deliver(
    brin: string,
    operation: string,
    body: string,
  ): Promise<{ outcome: string | null; outbound: Queued[] }> {
    const answer = await send(
      broker().baseUrl,
      lasRequest(operation, body, { from: `${ANONYMOUS}?oin=${oinOf(brin)}` }),
    );
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const { id } = (
      await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [
        elementText(body, 'identificatiecodeBedrijfsdocument'),
      ])
    ).rows[0];
    const result = await processMessage(broker().pool, handlers, id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
      now,
    });
    const outbound: Queued[] = withOpenedBodies(
      broker().pool,
      (
        await broker().pool.query(
          `SELECT brin, operation, ${BODY_XML_COLUMNS} FROM outbound_messages WHERE id = ANY($1) ORDER BY id`,
          [result.outbound.map((o) => o.id)],
        )
      ).rows,
    );
    return { outcome: result.outcome, outbound };
  }
  const ownEnrolment = (): string =>
    bodyFixture('valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml').replace('>7<', '>R-1<');
  const bsnEnrolmentAt00AH = (): string =>
    bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, '00AH')
      .replace(/2026-0001/g, 'B-1')
      .replace('<bas:datumInschrijving>2026-08-20', '<bas:datumInschrijving>2026-09-15')
      .replace('<bas:datumBegin>2026-08-20', '<bas:datumBegin>2026-09-15');
  const signals = (xml: string): string[] => [...xml.matchAll(/<t:signaalcode>([^<]+)</g)].map((m) => m[1]!);
  const identification = (): string =>
    bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml').replace(
      '<idp:geboorteDatum>',
      `<idp:huidigOnderwijsnummer>${OWN}</idp:huidigOnderwijsnummer><idp:geboorteDatum>`,
    );

  test('after the identification the enrolments under both numbers are one pupil’s', async () => {
    expect((await deliver('25BE', 'aanleverenInschrijvingVO', ownEnrolment())).outcome).toBe('approved');

    const identified = await deliver('25BE', 'aanleverenIdentificerenPersoonVO', identification());
    expect(identified.outcome).toBe('identified');
    expect((await broker().pool.query('SELECT onderwijsnummer, bsn FROM pupil_links')).rows).toEqual([
      { onderwijsnummer: OWN, bsn: BSN },
    ]);

    // Another school enrols the pupil by BSN while 25BE's onderwijsnummer enrolment runs: a double
    // enrolment, and 25BE (the old school) gets the Inschrijfbewijs under the number it knows.
    const atB = await deliver('00AH', 'aanleverenInschrijvingVO', bsnEnrolmentAt00AH());
    expect(atB.outcome).toBe('approved');
    const feedback = atB.outbound.find((o) => o.operation === 'terugkoppelenInschrijvingVO')!;
    expect(signals(feedback.body_xml)).toEqual(['I0016']);
    const bewijs = atB.outbound.find((o) => o.operation === 'verstrekkenDigitaalInUitschrijfbewijsVO')!;
    expect([
      bewijs.brin,
      elementText(bewijs.body_xml, 'soortBewijs'),
      elementText(bewijs.body_xml, 'onderwijsnummer'),
      elementText(bewijs.body_xml, 'eigenInschrijvingvolgnummer'),
    ]).toEqual(['25BE', 'Inschrijfbewijs', OWN, 'R-1']);
    expect(elementText(bewijs.body_xml, 'burgerservicenummer')).toBeUndefined();

    // A population-register change of the BSN reaches 25BE too, whose enrolment is under the onderwijsnummer.
    const mutation = await submitPersonMutation(
      broker().pool,
      { brpSourceOin: BRP_OIN, brokerOin: BROKER_OIN },
      { bsn: BSN, name: { achternaam: 'Smit' } },
    );
    const [mutated] = await processBatch(broker().pool, handlers, [mutation], {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
      now,
    });
    const told = withOpenedBodies(
      broker().pool,
      (
        await broker().pool.query(
          `SELECT brin, ${BODY_XML_COLUMNS} FROM outbound_messages WHERE id = ANY($1) ORDER BY brin`,
          [mutated!.outbound.map((o) => o.id)],
        )
      ).rows,
    );
    // Each school is told under the number of its own enrolment: 25BE knows the onderwijsnummer only.
    expect(
      told.map((m) => [
        m.brin,
        elementText(m.body_xml, 'burgerservicenummer'),
        elementText(m.body_xml, 'onderwijsnummer'),
      ]),
    ).toEqual([
      ['00AH', BSN, undefined],
      ['25BE', undefined, OWN],
    ]);

    // 25BE delivers its enrolment again, now with the BSN: the same enrolment, stored once, under the BSN.
    const again = ownEnrolment()
      .replace(`<b:onderwijsnummer>${OWN}</b:onderwijsnummer>`, `<b:burgerservicenummer>${BSN}</b:burgerservicenummer>`)
      .replace('2026-09-01T10:15:00+02:00', '2026-09-20T10:15:00+02:00');
    const redelivered = await deliver('25BE', 'aanleverenInschrijvingVO', again);
    expect(redelivered.outcome).toBe('approved');
    expect(
      (await broker().pool.query("SELECT pgn FROM enrolments WHERE brin = '25BE' AND inschrijvingvolgnummer = 'R-1'"))
        .rows,
    ).toEqual([{ pgn: BSN }]);
    // An unchanged in-date sends no new bewijs to 00AH: the enrolment was known, not new.
    expect(redelivered.outbound.filter((o) => o.operation === 'verstrekkenDigitaalInUitschrijfbewijsVO')).toEqual([]);

    // A deletion by onderwijsnummer still finds it (one pupil), and removes it.
    const deletion = bodyFixture('valid/aanleverenVerwijderingInschrijvingVO.xml')
      .replace('2026-0001', 'R-1')
      .replace(
        `<bas:burgerservicenummer>${BSN}</bas:burgerservicenummer>`,
        `<bas:onderwijsnummer>${OWN}</bas:onderwijsnummer>`,
      );
    expect((await deliver('25BE', 'aanleverenVerwijderingInschrijvingVO', deletion)).outcome).toBe('approved');
    expect(
      (await broker().pool.query("SELECT 1 FROM enrolments WHERE brin = '25BE' AND inschrijvingvolgnummer = 'R-1'"))
        .rowCount,
    ).toBe(0);
  });

  test('an onderwijsnummer already linked stays with its first BSN, and the answer says so (P0005)', async () => {
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
    const other = identification().replace(`>${BSN}<`, '>111222333<');
    const answer = await deliver('25BE', 'aanleverenIdentificerenPersoonVO', other);
    expect(answer.outcome).toBe('identified');
    expect(signals(answer.outbound[0]!.body_xml)).toEqual(['P0005']);
    expect((await broker().pool.query('SELECT onderwijsnummer, bsn FROM pupil_links ORDER BY 1')).rows).toEqual([
      { onderwijsnummer: OWN, bsn: BSN },
    ]);
    // Identified again with the BSN it is linked to: nothing to say.
    expect(
      signals((await deliver('25BE', 'aanleverenIdentificerenPersoonVO', identification())).outbound[0]!.body_xml),
    ).toEqual([]);
  });

  test('an onderwijsnummer the register never assigned, or recorded with another birth date or gender, is not linked (P0003, P0004)', async () => {
    const withNumber = (own: string, bsn: string): string =>
      identification().replace(`>${OWN}<`, `>${own}<`).replace(`>${BSN}<`, `>${bsn}<`);
    await upsertPopulationRecord(broker().pool, {
      bsn: '222333443',
      birthDate: '2013-04-17',
      gender: '2',
      surname: 'Visser',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: null,
    });
    await broker().pool.query(
      "INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ('100000028', '2013-04-18', '2', 'Visser', 'a'), ('100000041', '2013-04-17', '1', 'Visser', 'b')",
    );
    const cases: [string, string][] = [
      ['100000016', 'P0003'],
      ['100000028', 'P0004'],
      ['100000041', 'P0004'],
    ];
    for (const [own, code] of cases) {
      const answer = await deliver('25BE', 'aanleverenIdentificerenPersoonVO', withNumber(own, '222333443'));
      expect([own, answer.outcome, signals(answer.outbound[0]!.body_xml)]).toEqual([own, 'identified', [code]]);
    }
    expect((await broker().pool.query("SELECT 1 FROM pupil_links WHERE bsn = '222333443'")).rowCount).toBe(0);
  });

  test("an enrolment delivered with a linked onderwijsnummer is checked against the BSN's population entry (date of death, birth date)", async () => {
    const [own, bsn] = ['100000065', '444555663'];
    // Recorded with an incomplete birth date (no age checks on it); the population register knows the day, and the death.
    await broker().pool.query(
      "INSERT INTO assigned_persons (onderwijsnummer, birth_date, gender, surname, match_key) VALUES ($1, '2019-00-00', '1', 'Mulder', $1)",
      [own],
    );
    await upsertPopulationRecord(broker().pool, {
      bsn,
      birthDate: '2019-04-17',
      gender: '1',
      surname: 'Mulder',
      prefixes: null,
      firstNames: null,
      address: null,
      dateOfDeath: '2026-10-01',
    });
    const identify = identification()
      .replace(`>${OWN}<`, `>${own}<`)
      .replace(`>${BSN}<`, `>${bsn}<`)
      .replace('<idp:geboorteDatum>2013-04-17', '<idp:geboorteDatum>2019-04-17')
      .replace('<idp:geslacht>2', '<idp:geslacht>1');
    expect(
      signals((await deliver('25BE', 'aanleverenIdentificerenPersoonVO', identify)).outbound[0]!.body_xml),
    ).toEqual([]);
    const enrol = ownEnrolment().replace(`>${OWN}<`, `>${own}<`).replace('>R-1<', '>R-5<');
    const result = await deliver('25BE', 'aanleverenInschrijvingVO', enrol);
    // Seven on 1 August (I0031), and enrolled past the date of death (P0002).
    expect(
      signals(result.outbound.find((o) => o.operation === 'terugkoppelenInschrijvingVO')!.body_xml).sort(),
    ).toEqual(['I0031', 'P0002']);
  });

  test('without huidigOnderwijsnummer, or without a BSN found, nothing is linked', async () => {
    const before = (await broker().pool.query('SELECT count(*)::int AS n FROM pupil_links')).rows[0].n;
    await deliver(
      '25BE',
      'aanleverenIdentificerenPersoonVO',
      bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml'),
    );
    const wrongGender = identification()
      .replace('<idp:geslacht>2', '<idp:geslacht>1')
      .replace(`>${OWN}<`, '>100000016<');
    expect((await deliver('25BE', 'aanleverenIdentificerenPersoonVO', wrongGender)).outcome).toBe('not-identified');
    expect((await broker().pool.query('SELECT count(*)::int AS n FROM pupil_links')).rows[0].n).toBe(before);
  });
});
