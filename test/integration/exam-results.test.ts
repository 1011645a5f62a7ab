/**
 * Exam results end to end: a LAS delivers over DUO_VOAanlevering_ExamenresultaatVO_V1, the pipeline
 * applies the rules, and the school's endpoint receives terugkoppelenExamenresultaatVO (validated
 * against the outbound XSD); a passed result is a diploma in the register; a vavo institution's result
 * reaches the VO school that placed the pupil there.
 */
import { XmlDocument } from 'libxml2-wasm';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { diplomasOf } from '../../src/store/exam-results.repo.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { upsertOpleidingNiveaus } from '../../src/store/reference.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { startTestEndpoints, type TestEndpoints } from '../support/institution-endpoint.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const outboundSchema = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;

/** Validates the outbound body element of a received request against our outbound XSD. */
function validateOutbound(xml: string, element: string): void {
  const doc = XmlDocument.fromString(xml);
  try {
    outboundSchema.validate(doc.get(`//*[local-name()="${element}"]`) as never);
  } finally {
    doc.dispose();
  }
}

const PUPIL = '123456782';
/** The processing clock: a week after the June uitslag of examenregime 2027, unless a test moves it. */
const JUNE = new Date('2027-06-20T10:00:00Z');

describe('exam results end to end', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;
  let now = JUNE;
  beforeEach(() => {
    now = JUNE;
  });

  beforeAll(async () => {
    endpoints = await startTestEndpoints();
    await seedDemoPopulation(broker().pool);
    for (const brin of ['31AA', '32AA', '33AA']) {
      await upsertInstitution(broker().pool, {
        oin: `00000007000${brin}00000`,
        name: brin,
        brins: [brin],
        endpointUrl: endpoints.url(brin),
        enabled: true,
      });
    }
    await upsertOpleidingNiveaus(broker().pool, [
      { opleidingcode: '0050', niveau: 'HAVO' },
      { opleidingcode: '0060', niveau: 'HAVO' },
    ]);
    await broker().registry.refresh();
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {
      now: () => now,
    });
    // The pupil's VO enrolment at 31AA; every exam check below reads it.
    const body = enrolment('31AA');
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, from('31AA')));
    const id = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    await waitFor(
      async () => endpoints.received('31AA').some((r) => r.xml.includes(id)),
      (found) => found,
      5000,
    );
  });
  afterAll(async () => {
    await pipeline.close();
    await endpoints.close();
  });

  const from = (brin: string) => ({
    from: `http://www.w3.org/2005/08/addressing/anonymous?oin=00000007000${brin}00000`,
  });

  /** The VO enrolment fixture at `brin`, leaving on 31 July 2027, optionally placed at a vavo institution. */
  const enrolment = (brin: string, vavoBrin?: string): string =>
    bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, brin)
      .replace(
        '<bas:datumInschrijving>2026-08-20</bas:datumInschrijving>',
        (m) => `${m}<bas:datumUitschrijving>2027-07-31</bas:datumUitschrijving>`,
      )
      .replace('<bas:datumBegin>2027-08-19</bas:datumBegin>', '<bas:datumBegin>2027-03-01</bas:datumBegin>')
      .replace(/<ins:verblijfAndereInstelling>[\s\S]*<\/ins:verblijfAndereInstelling>/, () =>
        vavoBrin
          ? `<ins:verblijfAndereInstelling><ins:datumBegin>2027-01-01</ins:datumBegin><ins:datumEind>2027-07-31</ins:datumEind><ins:brin>${vavoBrin}</ins:brin><ins:verblijfsoort>VAVO</ins:verblijfsoort></ins:verblijfAndereInstelling>`
          : '',
      );

  const examResult = (brin: string, volgnummer: string, change: (xml: string) => string = (x) => x): string =>
    change(
      bodyFixture('valid/aanleverenExamenresultaatVO.xml')
        .replace(/25BE/g, brin)
        .replace(/EX-2027-01/g, volgnummer)
        .replace(/<ex:inschrijvingvolgnummer>[^<]*<\/ex:inschrijvingvolgnummer>/, ''),
    );
  const deletion = (brin: string, volgnummer: string): string =>
    bodyFixture('valid/aanleverenVerwijderingExamenresultaatVO.xml')
      .replace(/25BE/g, brin)
      .replace(/EX-2027-01/g, volgnummer);
  const at = (time: string) => (xml: string) =>
    xml.replace(/<bas:datumTijdBedrijfsdocument>[^<]*</, `<bas:datumTijdBedrijfsdocument>${time}<`);

  /** Sends a message and returns what the school's endpoint received for it of this operation. */
  async function pushedFor(brin: string, operation: string, body: string, sender = brin): Promise<string> {
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    const answer = await send(broker().baseUrl, lasRequest(operation, body, from(sender)));
    expect([answer.status, elementText(answer.text, 'ontvangstBevestiging')]).toEqual([200, 'J']);
    const received = await waitFor(
      async () => endpoints.received(brin).find((r) => r.xml.includes(documentId)),
      (r) => r !== undefined,
      5000,
    );
    expect(received).toBeDefined();
    validateOutbound(received!.xml, 'terugkoppelenExamenresultaatVO_Request');
    return received!.xml;
  }
  const deliver = (brin: string, body: string) => pushedFor(brin, 'aanleverenExamenresultaatVO', body);
  const remove = (brin: string, body: string) => pushedFor(brin, 'aanleverenVerwijderingExamenresultaatVO', body);
  const verdict = (xml: string) => ({
    goedgekeurd: elementText(xml, 'leveringGoedgekeurd'),
    signalen: [...xml.matchAll(/<t:signaalcode>([^<]+)</g)].map((m) => m[1]),
  });
  const storedResults = async (brin: string) =>
    (
      await broker().pool.query(
        `SELECT examenresultaatvolgnummer, uitslag, to_char(uitslag_date, 'YYYY-MM-DD') AS uitslag_date, level
         FROM exam_results WHERE brin = $1 ORDER BY id`,
        [brin],
      )
    ).rows;

  test('an approved passed result: clean terugkoppeling, stored, and a diploma in the register', async () => {
    const xml = await deliver('31AA', examResult('31AA', 'P-1'));
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen: [] });
    expect(elementText(xml, 'examenresultaatvolgnummer')).toBe('P-1');
    expect(await storedResults('31AA')).toEqual([
      { examenresultaatvolgnummer: 'P-1', uitslag: 'G', uitslag_date: '2027-06-12', level: 'HAVO' },
    ]);
    expect(await diplomasOf(broker().pool, PUPIL)).toEqual([
      {
        brin: '31AA',
        level: 'HAVO',
        diplomaDate: '2027-06-12',
        subjects: [
          { vak: 'NE', eindcijfer: '6' },
          { vak: 'WISA', eindcijfer: '6' },
          { vak: 'LO', beoordeling: 'G' },
          { vak: 'MAAT', eindcijfer: '7' },
        ],
      },
    ]);
  });

  test('the same stand again changes nothing, but its warnings are given again', async () => {
    const withWarning = (x: string) => x.replace('<ex:cijfer>70<', '<ex:cijfer>69<');
    const first = await deliver('31AA', examResult('31AA', 'I-1', withWarning));
    expect(verdict(first)).toEqual({ goedgekeurd: 'true', signalen: ['E0018'] });
    const diplomas = (await diplomasOf(broker().pool, PUPIL)).length;
    const stored = async () =>
      (await broker().pool.query(`SELECT source_message_id FROM exam_results WHERE examenresultaatvolgnummer = 'I-1'`))
        .rows;
    const before = await stored();
    // A school that did not fix its administration sends the very same stand: still the warning, nothing saved.
    const again = await deliver('31AA', examResult('31AA', 'I-1', withWarning));
    expect(verdict(again)).toEqual({ goedgekeurd: 'true', signalen: ['E0018'] });
    expect(await stored()).toEqual(before);
    expect(await diplomasOf(broker().pool, PUPIL)).toHaveLength(diplomas);
    // A clean stand sent twice stays clean.
    await deliver('31AA', examResult('31AA', 'I-2'));
    expect(verdict(await deliver('31AA', examResult('31AA', 'I-2')))).toEqual({ goedgekeurd: 'true', signalen: [] });
  });

  test('a rejected stand: no onderwijsaanbieder (schema-valid), E0001, nothing stored', async () => {
    const body = examResult('31AA', 'R-1', (x) =>
      x.replace('<ex:onderwijsaanbieder>100A200</ex:onderwijsaanbieder>', ''),
    );
    expect(verdict(await deliver('31AA', body))).toEqual({ goedgekeurd: 'false', signalen: ['E0001'] });
    expect((await storedResults('31AA')).map((r) => r.examenresultaatvolgnummer)).not.toContain('R-1');
  });

  const AUGUST = new Date('2027-08-01T10:00:00Z');
  const JULY_31 = new Date('2027-07-31T10:00:00Z');
  const noCe = (x: string) => x.replace(/<ex:cijferCentraalExamen>\d+<\/ex:cijferCentraalExamen>/g, '');
  const noUitslag = (x: string) => x.replace(/<ex:uitslag>[\s\S]*<\/ex:uitslag>/, '');
  let warnings = 0;
  test.each([
    ['uitslag the day after the out-date', (x: string) => x.replace(/2027-06-12</g, '2027-08-01<'), JUNE, ['E0010']],
    ['uitslag on the out-date', (x: string) => x.replace(/2027-06-12</g, '2027-07-31<'), JUNE, []],
    ['uitslag the day before the in-date', (x: string) => x.replace(/2027-06-12</g, '2026-08-19<'), JUNE, ['E0010']],
    [
      'a level other than the enrolment’s opleiding',
      (x: string) => x.replace('<ex:niveau>HAVO<', '<ex:niveau>VWO<'),
      JUNE,
      ['E0012'],
    ],
    ['no CE grade with an uitslag, in June: the resit may still come', noCe, JUNE, ['E0013']],
    ['no CE grade with an uitslag, on 31 July', noCe, JULY_31, ['E0013']],
    ['no CE grade with an uitslag, from 1 August: the resit is missing', noCe, AUGUST, ['E0013', 'E0016']],
    ['a werkstuk grade with a decimal', (x: string) => x.replace('<ex:cijfer>70<', '<ex:cijfer>69<'), JUNE, ['E0018']],
    ['a CE grade without uitslag, in June: not yet expected', noUitslag, JUNE, []],
    ['a CE grade without uitslag, on 31 July', noUitslag, JULY_31, []],
    ['a CE grade without uitslag, from 1 August', noUitslag, AUGUST, ['E0015']],
    [
      'passed before the enrolment began: not "still enrolled", that enrolment is a later one',
      (x: string) => x.replace(/2027-06-12</g, '2026-06-12<'),
      AUGUST,
      ['E0010'],
    ],
    [
      'uitslag T (withdrawn) without CE or SE grades',
      (x: string) =>
        noCe(x)
          .replace('<ex:uitslagcode>G<', '<ex:uitslagcode>T<')
          .replace(/<ex:cijferSchoolexamen>\d+<\/ex:cijferSchoolexamen>/g, ''),
      AUGUST,
      ['E0016'],
    ],
  ])('warning: %s', async (_name, change, today, signalen) => {
    now = today;
    const xml = await deliver('31AA', examResult('31AA', `W-${++warnings}`, change));
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen });
  });

  test('uitslag T is accepted, stored, and no diploma', async () => {
    const count = async () => (await diplomasOf(broker().pool, PUPIL)).length;
    const before = await count();
    const withdrawn = (x: string) => x.replace('<ex:uitslagcode>G<', '<ex:uitslagcode>T<');
    expect(verdict(await deliver('31AA', examResult('31AA', 'T-1', withdrawn)))).toEqual({
      goedgekeurd: 'true',
      signalen: [],
    });
    expect((await storedResults('31AA')).find((r) => r.examenresultaatvolgnummer === 'T-1')?.uitslag).toBe('T');
    expect(await count()).toBe(before);
  });

  test('a spread exam: the same result’s earlier examenregime ends the first-year exception', async () => {
    now = AUGUST;
    const spread = (regime: string, time: string) => (x: string) =>
      at(time)(noUitslag(x))
        .replace('<ex:examenregime>2027<', `<ex:examenregime>${regime}<`)
        .replace('<ex:examenregime>', '<ex:indicatieGespreidExamen>true</ex:indicatieGespreidExamen><ex:examenregime>');
    // The first year (2026): no uitslag expected.
    const first = await deliver('31AA', examResult('31AA', 'G-1', spread('2026', '2026-06-20T10:00:00Z')));
    expect(verdict(first)).toEqual({ goedgekeurd: 'true', signalen: [] });
    // The same result in its second year (2027): the earlier stand was the first year, so an uitslag is expected.
    const second = await deliver('31AA', examResult('31AA', 'G-1', spread('2027', '2027-06-20T10:00:00Z')));
    expect(verdict(second)).toEqual({ goedgekeurd: 'true', signalen: ['E0015'] });
  });

  test('a second stand newer wins: failed replaces passed and the diploma goes; an older one is not processed', async () => {
    const volgnummer = 'N-1';
    await deliver('31AA', examResult('31AA', volgnummer, at('2027-06-12T10:00:00Z')));
    const diplomas = async () => (await diplomasOf(broker().pool, PUPIL)).length;
    const before = await diplomas();
    const failed = (x: string) => x.replace('<ex:uitslagcode>G<', '<ex:uitslagcode>A<');
    const newer = await deliver(
      '31AA',
      examResult('31AA', volgnummer, (x) => failed(at('2027-06-20T10:00:00Z')(x))),
    );
    expect(verdict(newer)).toEqual({ goedgekeurd: 'true', signalen: [] });
    expect(await diplomas()).toBe(before - 1);
    const older = await deliver('31AA', examResult('31AA', volgnummer, at('2027-06-15T10:00:00Z')));
    expect(verdict(older)).toEqual({ goedgekeurd: 'true', signalen: ['E0003'] });
    expect((await storedResults('31AA')).find((r) => r.examenresultaatvolgnummer === volgnummer)?.uitslag).toBe('A');
    expect(await diplomas()).toBe(before - 1);
  });

  test('a second exam result of the pupil (another volgnummer) is a second diploma', async () => {
    const count = async () => (await diplomasOf(broker().pool, PUPIL)).length;
    const before = await count();
    const vwo = (x: string) =>
      x.replace('<ex:niveau>HAVO<', '<ex:niveau>VWO<').replace('<ex:examenregime>2027<', '<ex:examenregime>2028<');
    // A level other than the enrolment's opleiding (0050 and 0060 are HAVO in the stand-in): a warning, still a diploma.
    const xml = await deliver(
      '31AA',
      examResult('31AA', 'S-2', (x) => vwo(x).replace(/2027-06-12</g, '2027-07-15<')),
    );
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen: ['E0012'] });
    expect(await count()).toBe(before + 1);
    expect((await diplomasOf(broker().pool, PUPIL)).map((d) => d.level)).toContain('VWO');
  });

  test('deletion removes the result and its diploma; an unknown one is rejected with E0002', async () => {
    await deliver('31AA', examResult('31AA', 'D-1'));
    const count = async () => (await diplomasOf(broker().pool, PUPIL)).length;
    const withIt = await count();
    expect(verdict(await remove('31AA', deletion('31AA', 'D-1')))).toEqual({ goedgekeurd: 'true', signalen: [] });
    expect(await count()).toBe(withIt - 1);
    expect((await storedResults('31AA')).map((r) => r.examenresultaatvolgnummer)).not.toContain('D-1');
    expect(verdict(await remove('31AA', deletion('31AA', 'D-1')))).toEqual({
      goedgekeurd: 'false',
      signalen: ['E0002'],
    });
  });

  test('E0019: deleting an uitslag that was in the register on 1 August of the running school year', async () => {
    now = JUNE;
    await deliver('31AA', examResult('31AA', 'D-2'));
    now = new Date('2027-08-02T10:00:00Z');
    expect(verdict(await remove('31AA', deletion('31AA', 'D-2')))).toEqual({
      goedgekeurd: 'true',
      signalen: ['E0019'],
    });
  });

  test('E0019: not for an uitslag of last school year that came into the register after 1 August', async () => {
    now = new Date('2027-08-02T10:00:00Z');
    await deliver('31AA', examResult('31AA', 'D-3'));
    now = new Date('2027-09-01T10:00:00Z');
    expect(verdict(await remove('31AA', deletion('31AA', 'D-3')))).toEqual({ goedgekeurd: 'true', signalen: [] });
  });

  test('E0019: a newer stand without uitslag takes away an uitslag stored before 1 August', async () => {
    now = JUNE;
    await deliver('31AA', examResult('31AA', 'D-4', at('2027-06-12T10:00:00Z')));
    now = new Date('2027-08-02T10:00:00Z');
    const without = await deliver(
      '31AA',
      examResult('31AA', 'D-4', (x) => at('2027-08-02T09:00:00Z')(noUitslag(x))),
    );
    expect(verdict(without)).toEqual({ goedgekeurd: 'true', signalen: ['E0015', 'E0019'] });
  });

  test('a vavo institution’s result for a VO pupil placed there reaches the VO school', async () => {
    // Pupil 111222333 enrolled at 32AA, placed at vavo institution 33AA from 1 January 2027.
    const vo = enrolment('32AA', '33AA').replace(/123456782/g, '111222333');
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', vo, from('32AA')));
    const voId = elementText(vo, 'identificatiecodeBedrijfsdocument')!;
    await waitFor(
      async () => endpoints.received('32AA').some((r) => r.xml.includes(voId)),
      (found) => found,
      5000,
    );
    const body = examResult('33AA', 'V-17', (x) => x.replace(/123456782/g, '111222333'));
    const feedback = await deliver('33AA', body);
    // Enrolled at the vavo institution through the VO school's stay: no E0010.
    expect(verdict(feedback)).toEqual({ goedgekeurd: 'true', signalen: [] });
    const push = await waitFor(
      async () => endpoints.received('32AA').find((r) => r.xml.includes('verstrekkenExamenresultaatVO_Request')),
      (r) => r !== undefined,
      5000,
    );
    expect(push).toBeDefined();
    validateOutbound(push!.xml, 'verstrekkenExamenresultaatVO_Request');
    expect([
      elementText(push!.xml, 'burgerservicenummer'),
      elementText(push!.xml, 'eigenInschrijvingvolgnummer'),
      elementText(push!.xml, 'brin'),
      elementText(push!.xml, 'examenresultaatvolgnummer'),
      elementText(push!.xml, 'uitslagcode'),
      elementText(push!.xml, 'ontvangendeInstantie'),
    ]).toEqual(['111222333', '2026-0001', '33AA', 'V-17', 'G', '32AA']);
    // The diploma is the vavo institution's.
    expect((await diplomasOf(broker().pool, '111222333')).map((d) => d.brin)).toEqual(['33AA']);
    // A school without a placement there hears nothing.
    expect(endpoints.received('31AA').some((r) => r.xml.includes('verstrekkenExamenresultaatVO_Request'))).toBe(false);

    // The vavo institution deletes the result: the VO school hears it is gone.
    expect(verdict(await remove('33AA', deletion('33AA', 'V-17').replace(/123456782/g, '111222333')))).toEqual({
      goedgekeurd: 'true',
      signalen: [],
    });
    const removal = await waitFor(
      async () => endpoints.received('32AA').find((r) => r.xml.includes('indicatieVerwijderd')),
      (r) => r !== undefined,
      5000,
    );
    expect(removal).toBeDefined();
    validateOutbound(removal!.xml, 'verstrekkenExamenresultaatVO_Request');
    expect([
      elementText(removal!.xml, 'indicatieVerwijderd'),
      elementText(removal!.xml, 'eigenInschrijvingvolgnummer'),
      elementText(removal!.xml, 'examenresultaatvolgnummer'),
      elementText(removal!.xml, 'ontvangendeInstantie'),
    ]).toEqual(['true', '2026-0001', 'V-17', '32AA']);
    expect(await diplomasOf(broker().pool, '111222333')).toEqual([]);
  });
});
