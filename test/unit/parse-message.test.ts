import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  bodyElementOf,
  deletionOf,
  enrolmentStandOf,
  examResultDeletionOf,
  examResultStandOf,
  identificationOf,
  personMutationOf,
} from '../../src/processing/parse-message.js';
import { bodyFixture, lasRequest } from '../support/soap.js';

const stored = (operation: string, fixture: string): string => lasRequest(operation, bodyFixture(fixture)).xml;

describe('parsing stored messages', () => {
  test('an exam result with uitslag, vakken, combinatiecijfer, werkstuk and a herkansing', () => {
    const stand = examResultStandOf(
      bodyElementOf(
        stored('aanleverenExamenresultaatVO', 'valid/aanleverenExamenresultaatVO.xml'),
        'aanleverenExamenresultaatVO_Request',
      ),
    );
    expect(stand).toMatchObject({
      pgn: { kind: 'BSN', value: '123456782' },
      brin: '25BE',
      examenresultaatvolgnummer: 'EX-2027-01',
      inschrijvingvolgnummer: '2026-0001',
      onderwijsaanbieder: '100A200',
      indicaties: { teruggetrokken: false, eerderLeerjaar: false, gespreidExamen: false, doorlopendeLeerlijn: false },
      examenregime: '2027',
      niveau: 'HAVO',
      uitslag: { datumUitslag: '2027-06-12', uitslagcode: 'G', indicatieCumLaude: false },
      combinatiecijfer: { eindcijfer: '7' },
      werkstuk: { cijfer: '70' },
      toetsen: [],
      herkansingen: [{ vakcode: 'WISA', tijdvak: '2' }],
    });
    expect(stand.vakken).toHaveLength(4);
    expect(stand.vakken[0]).toEqual({
      vakcode: 'NE',
      cijferSchoolexamen: '68',
      cijferCentraalExamen: '61',
      tijdvakCentraalExamen: '1',
      eindcijfer: '6',
      indicatieDiplomavak: true,
    });
    expect(stand.vakken[2]).toEqual({ vakcode: 'LO', beoordeling: 'G', indicatieDiplomavak: true });
    expect(stand.vakken[3]?.indicatieCombinatiecijfer).toBe(true);
  });

  test('an exam result without uitslag, and an exam result deletion', () => {
    const stand = examResultStandOf(
      bodyElementOf(
        stored('aanleverenExamenresultaatVO', 'valid/aanleverenExamenresultaatVO-zonder-uitslag.xml'),
        'aanleverenExamenresultaatVO_Request',
      ),
    );
    expect(stand.uitslag).toBeUndefined();
    expect(stand.pgn).toEqual({ kind: 'OWN', value: '100000004' });
    expect(stand.indicaties.gespreidExamen).toBe(true);
    expect(stand.toetsen).toEqual([{ toetscode: 'REK', redenNietDeelname: 'VRIJSTELLING' }]);
    const deletion = examResultDeletionOf(
      bodyElementOf(
        stored('aanleverenVerwijderingExamenresultaatVO', 'valid/aanleverenVerwijderingExamenresultaatVO.xml'),
        'aanleverenVerwijderingExamenresultaatVO_Request',
      ),
    );
    expect(deletion).toEqual({
      pgn: { kind: 'BSN', value: '123456782' },
      brin: '25BE',
      examenresultaatvolgnummer: 'EX-2027-01',
    });
  });

  test('an enrolment with two periods, OPP and VAI', () => {
    const stand = enrolmentStandOf(
      bodyElementOf(
        stored('aanleverenInschrijvingVO', 'valid/aanleverenInschrijvingVO.xml'),
        'aanleverenInschrijvingVO_Request',
      ),
    );
    expect(stand).toMatchObject({
      pgn: { kind: 'BSN', value: '123456782' },
      brin: '25BE',
      inschrijvingvolgnummer: '2026-0001',
      datumInschrijving: '2026-08-20',
    });
    expect(stand.perioden).toHaveLength(2);
    expect(stand.perioden[0]).toEqual({
      datumBegin: '2026-08-20',
      onderwijsaanbieder: '100A200',
      onderwijslocatie: '100X300',
      opleidingcode: '0050',
      aanvullendeOpleidingen: ['0051'],
      vestiging: '25BE00',
      leerjaar: 1,
      indicatieBekostigbaar: true,
      experimenten: ['TECHNASIUM'],
    });
    expect(stand.ontwikkelingsperspectieven).toEqual([{ datumBegin: '2026-09-01', datumEind: '2027-07-31' }]);
    expect(stand.verblijvenAndereInstelling).toEqual([
      { datumBegin: '2026-10-01', datumEind: '2026-12-31', brin: '00AH', vestiging: '00AH00', verblijfsoort: 'OPDC' },
    ]);
  });

  test('dates written with a time zone (valid xs:date) are read as calendar dates', () => {
    const xml = stored('aanleverenInschrijvingVO', 'valid/aanleverenInschrijvingVO.xml')
      .replace('<bas:datumInschrijving>2026-08-20<', '<bas:datumInschrijving>2026-08-20+02:00<')
      .replace('<bas:datumBegin>2026-08-20<', '<bas:datumBegin>2026-08-20Z<')
      .replace('<ins:datumEind>2027-07-31<', '<ins:datumEind>2027-07-31-05:00<');
    const stand = enrolmentStandOf(bodyElementOf(xml, 'aanleverenInschrijvingVO_Request'));
    expect([
      stand.datumInschrijving,
      stand.perioden[0]!.datumBegin,
      stand.ontwikkelingsperspectieven[0]!.datumEind,
    ]).toEqual(['2026-08-20', '2026-08-20', '2027-07-31']);
  });

  test('zeep-style prefixes and the minimal OWN stand', () => {
    const zeep = enrolmentStandOf(
      bodyElementOf(
        stored('aanleverenInschrijvingVO', 'valid/aanleverenInschrijvingVO-zeep-prefixes.xml'),
        'aanleverenInschrijvingVO_Request',
      ),
    );
    expect(zeep.perioden[0]).toMatchObject({
      vestiging: '25BE00',
      indicatieBekostigbaar: true,
      aanvullendeOpleidingen: [],
      experimenten: [],
    });
    const own = enrolmentStandOf(
      bodyElementOf(
        stored('aanleverenInschrijvingVO', 'valid/aanleverenInschrijvingVO-onderwijsnummer-minimal.xml'),
        'aanleverenInschrijvingVO_Request',
      ),
    );
    expect(own).toMatchObject({ pgn: { kind: 'OWN', value: '100000004' }, datumUitschrijving: '2027-07-31' });
    expect(own.perioden[0]).toMatchObject({ indicatieBekostigbaar: false, indicatieNieuwkomersbekostiging: 'J' });
  });

  test('a deletion and both kinds of identification', () => {
    expect(
      deletionOf(
        bodyElementOf(
          stored('aanleverenVerwijderingInschrijvingVO', 'valid/aanleverenVerwijderingInschrijvingVO.xml'),
          'aanleverenVerwijderingInschrijvingVO_Request',
        ),
      ),
    ).toEqual({ pgn: { kind: 'BSN', value: '123456782' }, brin: '25BE', inschrijvingvolgnummer: '2026-0001' });
    expect(
      identificationOf(
        bodyElementOf(
          stored('aanleverenIdentificerenPersoonVO', 'valid/aanleverenIdentificerenPersoonVO-metPGN.xml'),
          'aanleverenIdentificerenPersoonVO_Request',
        ),
      ),
    ).toEqual({ geboorteDatum: '2013-04-17', geslacht: '2', metPgn: { kind: 'BSN', value: '123456782' } });
    expect(
      identificationOf(
        bodyElementOf(
          stored('aanleverenIdentificerenPersoonVO', 'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml'),
          'aanleverenIdentificerenPersoonVO_Request',
        ),
      ),
    ).toEqual({
      geboorteDatum: '2012-05-00',
      geslacht: '1',
      huidigOnderwijsnummer: '100000004',
      zonderPgn: {
        achternaam: 'Jansen',
        voorvoegsels: 'van',
        voornamen: 'Pieter Jan',
        address: {
          binnenlandsAdres: {
            straatnaam: 'Kerkstraat',
            huisnummer: '12',
            huisletter: 'a',
            huisnummerToevoeging: 'bis',
            postcode: '9712AB',
            plaatsnaam: 'Groningen',
          },
        },
      },
    });
  });

  test('population-register mutations: a puntadres, and name + address abroad + date of death', () => {
    const mutation = (fixture: string) =>
      personMutationOf(bodyElementOf(stored('verwerkenPersoonsmutatie', fixture), 'verwerkenPersoonsmutatie_Request'));
    expect(mutation('valid/verwerkenPersoonsmutatie-puntadres.xml')).toEqual({
      bsn: '123456782',
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
    });
    expect(mutation('valid/verwerkenPersoonsmutatie-naam-buitenland-overlijden.xml')).toEqual({
      bsn: '123456782',
      name: { achternaam: 'Vries', voorvoegsels: 'de', voornamen: 'Anna Maria' },
      address: {
        buitenlandsAdres: {
          adresregelBuitenland1: 'Rue de la Loi 16',
          adresregelBuitenland2: '1000 Brussel',
          landcode: '5010',
        },
      },
      datumOverlijden: '2026-03-01',
    });
    expect(mutation('valid/verwerkenPersoonsmutatie-overlijden.xml')).toEqual({
      bsn: '123456782',
      datumOverlijden: '2026-03-01',
    });
  });

  // The reader is held to an XML parser: fast-xml-parser, set up as processing used it before.
  const reference = new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: true,
    isArray: (name) =>
      [
        'inschrijvingPeriodeVO',
        'ontwikkelingsperspectief',
        'verblijfAndereInstelling',
        'aanvullendeOpleiding',
        'experiment',
        'vak',
        'toets',
        'herkansing',
      ].includes(name),
  });
  const referenceBody = (xml: string, element: string): unknown => reference.parse(xml).Envelope.Body[element];
  const fixtures = fs
    .readdirSync(path.join(import.meta.dirname, '../fixtures/valid'))
    .filter((name) => name.endsWith('.xml'));

  test.each(fixtures)('%s reads as fast-xml-parser reads it', (fixture) => {
    const operation = /^[A-Za-z]+/.exec(fixture)![0];
    const xml = stored(operation, `valid/${fixture}`);
    expect(bodyElementOf(xml, `${operation}_Request`)).toEqual(referenceBody(xml, `${operation}_Request`));
  });

  test('entities, CDATA, comments and white space read as an XML parser reads them', () => {
    const xml = stored('aanleverenIdentificerenPersoonVO', 'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml')
      .replace('>Jansen<', '>  Jansen &amp; Zn &lt;BV&gt; <')
      .replace('>Kerkstraat<', '><![CDATA[Kerk & <straat>]]><')
      .replace('>Pieter Jan<', '>Pieter<!-- a comment -->Jan<');
    const read = bodyElementOf(xml, 'aanleverenIdentificerenPersoonVO_Request');
    expect(read).toEqual(referenceBody(xml, 'aanleverenIdentificerenPersoonVO_Request'));
    expect(identificationOf(read).zonderPgn).toMatchObject({
      achternaam: 'Jansen & Zn <BV>',
      voornamen: 'PieterJan',
      address: { binnenlandsAdres: { straatnaam: 'Kerk & <straat>' } },
    });
  });

  test('character references are decoded (fast-xml-parser, as processing had it set up, left them as written)', () => {
    const xml = stored(
      'aanleverenIdentificerenPersoonVO',
      'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml',
    ).replace('>Jansen<', '>Ren&#233;e&#x2019;s<');
    expect(identificationOf(bodyElementOf(xml, 'aanleverenIdentificerenPersoonVO_Request')).zonderPgn?.achternaam).toBe(
      'Ren\u00e9e\u2019s',
    );
    expect(
      (referenceBody(xml, 'aanleverenIdentificerenPersoonVO_Request') as { zonderPGN: { achternaam: string } })
        .zonderPGN.achternaam,
    ).toBe('Ren&#233;e&#x2019;s');
  });

  test('another body element reads as an empty record', () => {
    expect(
      bodyElementOf(
        stored('aanleverenInschrijvingVO', 'valid/aanleverenInschrijvingVO.xml'),
        'aanleverenVerwijderingInschrijvingVO_Request',
      ),
    ).toEqual({});
  });
});
