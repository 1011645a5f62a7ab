import { XmlDocument } from 'libxml2-wasm';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { examResultHandler } from '../../src/processing/handlers/examResult.handler.js';
import { examResultDeletionHandler } from '../../src/processing/handlers/examResultDeletion.handler.js';
import {
  examResultPushBody,
  examTerugkoppelingBody,
  kwaliteitscontroleBody,
  persoonsgegevensBody,
  terugkoppelingBody,
  vooropleidingsgegevensBody,
} from '../../src/processing/outbound-messages.js';
import { priorEducationOf } from '../../src/register/prior-education/prior-education-rules.js';
import { signal } from '../../src/register/signals.js';

const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
const header = {
  documentId: '5d0c3b7e-7d0c-4b8e-9a5f-0b8e3c2d1a10',
  brokerOin: '00000001800866472000',
  receiverBrin: '25BE',
  at: new Date('2026-09-01T08:00:00Z'),
};

function validate(xml: string): void {
  const doc = XmlDocument.fromString(xml);
  try {
    validator.validate(doc);
  } finally {
    doc.dispose();
  }
}

describe('outbound message bodies validate against DUO_VOTerugkoppeling_V1', () => {
  test('an exam terugkoppeling, approved with a warning and rejected', () => {
    const base = {
      identificatiecodeAanlevering: '00000000-0000-4000-8000-000000000021',
      pgn: { kind: 'OWN' as const, value: '100000004' },
      brin: '25BE',
      examenresultaatvolgnummer: 'EX 1',
    };
    const warned = examTerugkoppelingBody(header, {
      ...base,
      goedgekeurd: true,
      signals: [
        signal('E0016', [
          { naam: 'vakcode', waarde: 'NE' },
          { naam: 'tijdvak', waarde: '2' },
        ]),
      ],
    });
    validate(warned);
    expect(warned).toContain('<t:examenresultaatvolgnummer>EX 1</t:examenresultaatvolgnummer>');
    validate(examTerugkoppelingBody(header, { ...base, goedgekeurd: false, signals: [signal('E0001')] }));
  });

  test('a vavo exam result for the VO school: with and without uitslag, grades and beoordelingen', () => {
    const result = {
      pgn: { kind: 'BSN' as const, value: '123456782' },
      brin: '08PG',
      examenresultaatvolgnummer: 'V-17',
      indicaties: { teruggetrokken: false, eerderLeerjaar: false, gespreidExamen: false, doorlopendeLeerlijn: false },
      examenregime: '2027',
      niveau: 'VWO' as const,
      uitslag: { datumUitslag: '2027-06-12', uitslagcode: 'G' as const, indicatieCumLaude: true },
      vakken: [
        { vakcode: 'NE', cijferSchoolexamen: '68', eindcijfer: '7', indicatieDiplomavak: true },
        { vakcode: 'LO', beoordeling: 'G', indicatieDiplomavak: true },
        { vakcode: 'FA', indicatieDiplomavak: false },
      ],
      toetsen: [],
      herkansingen: [],
    };
    const push = examResultPushBody(header, { pgn: result.pgn, eigenInschrijvingvolgnummer: '2026-0001', result });
    validate(push);
    expect(push).toContain('<t:indicatieCumLaude>true</t:indicatieCumLaude>');
    const { uitslag: _, ...open } = result;
    validate(examResultPushBody(header, { pgn: result.pgn, eigenInschrijvingvolgnummer: '2026-0001', result: open }));
    expect(push).not.toContain('indicatieVerwijderd');
    // The vavo institution deleted it; a withdrawn uitslag (T) travels too.
    const withdrawn = { ...result, uitslag: { datumUitslag: '2027-06-12', uitslagcode: 'T' as const } };
    const removed = examResultPushBody(header, {
      pgn: result.pgn,
      eigenInschrijvingvolgnummer: '2026-0001',
      result: withdrawn,
      removed: true,
    });
    validate(removed);
    expect(removed).toContain('<t:indicatieVerwijderd>true</t:indicatieVerwijderd>');
  });

  test('an approved and a rejected terugkoppeling', () => {
    const base = {
      identificatiecodeAanlevering: '00000000-0000-4000-8000-000000000001',
      pgn: { kind: 'BSN' as const, value: '123456782' },
      brin: '25BE',
      inschrijvingvolgnummer: '2026-0001',
    };
    validate(terugkoppelingBody(header, { ...base, goedgekeurd: true, signals: [] }));
    const rejected = terugkoppelingBody(header, {
      ...base,
      goedgekeurd: false,
      signals: [signal('I0003', [{ naam: 'vestiging', waarde: '00AH00' }]), signal('I0033')],
    });
    validate(rejected);
    expect(rejected).toContain('<t:signaalcode>I0003</t:signaalcode>');
  });

  test('persoonsgegevens with an address in schema order, a puntadres, and a failed identification', () => {
    validate(
      persoonsgegevensBody(header, {
        reden: 'IDENTIFICATIE',
        identificatiecodeAanlevering: '00000000-0000-4000-8000-000000000006',
        person: {
          pgn: { kind: 'OWN', value: '100000004' },
          achternaam: 'Jansen',
          geboorteDatum: '2012-05-00',
          geslacht: '1',
          address: { binnenlandsAdres: { plaatsnaam: 'Groningen', postcode: '9712AB', straatnaam: 'Kerkstraat' } },
        },
        signals: [],
      }),
    );
    validate(
      persoonsgegevensBody(header, {
        reden: 'MUTATIE',
        person: {
          pgn: { kind: 'BSN', value: '123456782' },
          address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
        },
        signals: [],
      }),
    );
    validate(
      persoonsgegevensBody(header, {
        reden: 'IDENTIFICATIE',
        identificatiecodeAanlevering: '00000000-0000-4000-8000-000000000005',
        person: {},
        signals: [signal('I0012')],
      }),
    );
  });

  test('prior education: MBO diplomas with their results, HO degrees, an unknown startkwalificatie left out', () => {
    const message = {
      pgn: { kind: 'BSN' as const, value: '123456782' },
      brin: '41MB',
      spontaneous: true,
      person: {},
    };
    const withMbo = priorEducationOf(
      {
        enrolments: [],
        niveaus: new Map(),
        diplomas: [],
        mbo: {
          participations: [],
          diplomas: [
            {
              brin: '08PG',
              opleidingcode: '25503',
              niveau: '2',
              datumDiploma: '2020-07-01',
              resultaten: [
                { onderdeel: 'NEDERLANDS', eindcijfer: '7' },
                { onderdeel: 'KEUZEDEEL K0125', beoordeling: 'V' },
              ],
            },
          ],
        },
        ho: {
          participations: [],
          degrees: [{ brin: '21PB', opleidingcode: '34479', graad: 'BACHELOR', datumGraad: '2024-07-01' }],
        },
      },
      '2026-11-27',
    );
    const full = vooropleidingsgegevensBody(header, { ...message, priorEducation: withMbo });
    validate(full);
    expect(full).toContain(
      '<t:resultaat><t:onderdeel>NEDERLANDS</t:onderdeel><t:eindcijfer>7</t:eindcijfer></t:resultaat>',
    );
    expect(full).toContain('<t:indicatieStartkwalificatie>J</t:indicatieStartkwalificatie>');
    // The broker's own register: no MBO or HO data, so no startkwalificatie stated and 99 MBO years.
    const unknown = vooropleidingsgegevensBody(header, {
      ...message,
      priorEducation: priorEducationOf({ enrolments: [], niveaus: new Map(), diplomas: [] }, '2026-11-27'),
    });
    validate(unknown);
    expect(unknown).not.toContain('indicatieStartkwalificatie');
    expect(unknown).toContain('<t:aantalJarenMboZonderDiploma>99</t:aantalJarenMboZonderDiploma>');
  });

  test('text is escaped', () => {
    const xml = persoonsgegevensBody(header, {
      reden: 'MUTATIE',
      person: { achternaam: "O'Brien & <Zonen>" },
      signals: [],
    });
    validate(xml);
    expect(xml).toContain('O&apos;Brien &amp; &lt;Zonen&gt;');
  });

  test("a quality report: one entry per signal, enrolments by the pupil's PGN and volgnummer", () => {
    // Two pupils with volgnummer 1 at one school: only the PGN tells them apart.
    const report = kwaliteitscontroleBody(header, {
      brin: '25BE',
      datumControle: '2026-09-15',
      signals: [
        {
          pgn: { kind: 'BSN', value: '123456782' },
          inschrijvingvolgnummer: '1',
          datumEersteMelding: '2026-09-08',
          signal: signal('Q0002', [{ naam: 'datumOverlijden', waarde: '2026-09-01' }]),
        },
        {
          pgn: { kind: 'OWN', value: '100000004' },
          inschrijvingvolgnummer: '1',
          datumEersteMelding: '2026-09-15',
          signal: signal('Q0013', [{ naam: 'brin', waarde: '30XY' }]),
        },
      ],
    });
    validate(report);
    expect(report.match(/<t:kwaliteitssignaal>/g)).toHaveLength(2);
    expect(report).toContain(
      '<t:kwaliteitssignaal><t:burgerservicenummer>123456782</t:burgerservicenummer><t:inschrijvingvolgnummer>1</t:inschrijvingvolgnummer>',
    );
    expect(report).toContain(
      '<t:kwaliteitssignaal><t:onderwijsnummer>100000004</t:onderwijsnummer><t:inschrijvingvolgnummer>1</t:inschrijvingvolgnummer>',
    );
    expect(() => validate(report.replace('<t:burgerservicenummer>123456782</t:burgerservicenummer>', ''))).toThrow(); // the schema requires the PGN
    expect(() =>
      validate(kwaliteitscontroleBody(header, { brin: '25BE', datumControle: '2026-09-15', signals: [] })),
    ).toThrow();
  });
});

describe('an exam result that cannot be processed', () => {
  const context = {
    message: {
      id: 7,
      operation: 'aanleverenExamenresultaatVO',
      senderOin: '0000000700025BE00000',
      brin: '25BE',
      documentId: '00000000-0000-4000-8000-000000000021',
      documentTime: '2027-06-12T14:00:00.000Z',
      rawXml: '',
    },
    brokerOin: '00000001800866472000',
    now: new Date('2027-06-12T14:00:01Z'),
    newId: () => '5d0c3b7e-7d0c-4b8e-9a5f-0b8e3c2d1a11',
  };
  const about = { pgn: { kind: 'BSN' as const, value: '123456782' }, brin: '25BE', examenresultaatvolgnummer: 'EX1' };

  test.each([
    [
      'a stand',
      () =>
        examResultHandler.failureFeedback!(context, {
          ...about,
          indicaties: {
            teruggetrokken: false,
            eerderLeerjaar: false,
            gespreidExamen: false,
            doorlopendeLeerlijn: false,
          },
          examenregime: '2027',
          niveau: 'HAVO',
          vakken: [],
          toetsen: [],
          herkansingen: [],
        }),
    ],
    ['a deletion', () => examResultDeletionHandler.failureFeedback!(context, about)],
  ])('%s gets a rejecting terugkoppelenExamenresultaatVO with V0001, to its sender', (_name, feedback) => {
    const [draft] = feedback();
    expect(draft?.operation).toBe('terugkoppelenExamenresultaatVO');
    expect(draft?.institutionOin).toBe('0000000700025BE00000');
    validate(draft!.bodyXml);
    expect(draft!.bodyXml).toContain('<t:signaalcode>V0001</t:signaalcode>');
    expect(draft!.bodyXml).toContain('<t:leveringGoedgekeurd>false</t:leveringGoedgekeurd>');
  });
});
