/**
 * Exam results end to end: a LAS delivers over DUO_VOAanlevering_ExamenresultaatVO_V1, the pipeline
 * applies the rules, and the school's endpoint receives terugkoppelenExamenresultaatVO (validated
 * against the outbound XSD); a passed result is a diploma in the register; a vavo institution's result
 * reaches the VO school that placed the pupil there.
 */
import { XmlDocument } from 'libxml2-wasm';
import { seedDemoPopulation } from '../../src/demo-seed.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { OUTBOUND_CONTRACT } from '../../src/shared/catalogue.js';
import { silentLogger } from '../../src/shared/log.js';
import { compileSchemas } from '../../src/shared/xml/schema-set.js';
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

describe('exam results end to end', () => {
  const broker = useTestBroker();
  let endpoints: TestEndpoints;
  let pipeline: Pipeline;

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
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
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

  test('the same stand again changes nothing and is not signalled', async () => {
    const again = examResult('31AA', 'P-1');
    const xml = await deliver('31AA', again);
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen: [] });
    expect(await diplomasOf(broker().pool, PUPIL)).toHaveLength(1);
  });

  test('a rejected stand: no onderwijsaanbieder (schema-valid), E0001, nothing stored', async () => {
    const body = examResult('31AA', 'R-1', (x) =>
      x.replace('<ex:onderwijsaanbieder>100A200</ex:onderwijsaanbieder>', ''),
    );
    expect(verdict(await deliver('31AA', body))).toEqual({ goedgekeurd: 'false', signalen: ['E0001'] });
    expect((await storedResults('31AA')).map((r) => r.examenresultaatvolgnummer)).toEqual(['P-1']);
  });

  test.each([
    ['uitslag the day after the out-date', (x: string) => x.replace(/2027-06-12</g, '2027-08-01<'), ['E0010']],
    ['uitslag on the out-date', (x: string) => x.replace(/2027-06-12</g, '2027-07-31<'), []],
    ['uitslag the day before the in-date', (x: string) => x.replace(/2027-06-12</g, '2026-08-19<'), ['E0010']],
    [
      'a level other than the enrolment’s opleiding',
      (x: string) => x.replace('<ex:niveau>HAVO<', '<ex:niveau>VWO<'),
      ['E0012'],
    ],
    [
      'no CE grade with an uitslag',
      (x: string) => x.replace(/<ex:cijferCentraalExamen>\d+<\/ex:cijferCentraalExamen>/g, ''),
      ['E0013', 'E0016'],
    ],
    ['a werkstuk grade with a decimal', (x: string) => x.replace('<ex:cijfer>70<', '<ex:cijfer>69<'), ['E0018']],
    ['a CE grade without uitslag', (x: string) => x.replace(/<ex:uitslag>[\s\S]*<\/ex:uitslag>/, ''), ['E0015']],
    [
      'passed in June, still enrolled after 1 August',
      (x: string) => x.replace(/2027-06-12</g, '2026-06-12<'),
      ['E0010', 'E0011'],
    ],
  ])('warning: %s', async (_name, change, signalen) => {
    const volgnummer = `W-${Math.random().toString(36).slice(2, 8)}`;
    const xml = await deliver('31AA', examResult('31AA', volgnummer, change));
    expect(verdict(xml)).toEqual({ goedgekeurd: 'true', signalen });
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

  test('deleting an uitslag of an earlier school year warns with E0019', async () => {
    const lastYear = (x: string) => x.replace(/2027-06-12</g, '2026-06-12<');
    await deliver('31AA', examResult('31AA', 'D-2', lastYear));
    expect(verdict(await remove('31AA', deletion('31AA', 'D-2')))).toEqual({
      goedgekeurd: 'true',
      signalen: ['E0019'],
    });
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
  });
});
