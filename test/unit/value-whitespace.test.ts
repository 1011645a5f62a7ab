/**
 * White space in inbound values follows the contract types (xs:token collapses, xs:normalizedString
 * replaces): each edge value is either accepted, and then every reader (the accept path's fields and the
 * processing's parse) sees the normalised value, or refused with a named fault and element.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkBody } from '../../src/inbound/body-rules.js';
import { INBOUND_CONTRACTS } from '../../src/infra/catalogue.js';
import { BrokerFault } from '../../src/infra/errors.js';
import { XSD_DIR } from '../../src/infra/paths.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { openSoapEnvelope } from '../../src/infra/xml/soap-envelope.js';
import { NORMALIZED_STRING_ELEMENTS, normaliseValue, whiteSpaceOf } from '../../src/infra/xml/whitespace.js';
import { bodyElementOf, enrolmentStandOf, identificationOf } from '../../src/processing/parse-message.js';
import { BROKER_OIN, bodyFixture, CONTRACT_OF, lasRequest } from '../support/soap.js';

const schemas = compileSchemas(INBOUND_CONTRACTS.map((c) => c.schemaFile));
afterAll(() => {
  for (const validator of schemas.values()) validator.dispose();
});

type Outcome = { fault: string; element: string } | { fields: Record<string, string>; read: unknown };

/** The inbound checks as the SOAP endpoint runs them, then what processing reads from the same text. */
function inbound(operation: string, body: string, read: (xml: string) => unknown): Outcome {
  const xml = lasRequest(operation, body).xml;
  const envelope = openSoapEnvelope(xml);
  try {
    checkBody(envelope, schemas.get(`${CONTRACT_OF[operation]}.xsd`)!, BROKER_OIN);
    return { fields: Object.fromEntries(envelope.bodyFields), read: read(xml) };
  } catch (error) {
    if (error instanceof BrokerFault) return { fault: error.faultCode, element: error.element ?? '' };
    throw error;
  } finally {
    envelope.dispose();
  }
}

const ENROLMENT = 'valid/aanleverenInschrijvingVO.xml';
const IDENTIFICATION = 'valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml';
const DOCUMENT_ID = '0f8b4c3e-2a61-4d7e-9b15-7c2d9e4a6f01';
const stand = (xml: string) => enrolmentStandOf(bodyElementOf(xml, 'aanleverenInschrijvingVO_Request'));
const person = (xml: string) => identificationOf(bodyElementOf(xml, 'aanleverenIdentificerenPersoonVO_Request'));

/** The enrolment fixture with the text of the first `element` replaced by `text` (written as is: references stay references). */
function enrolment(element: string, text: string): string {
  return bodyFixture(ENROLMENT, DOCUMENT_ID).replace(
    new RegExp(`(<(\\w+:)${element}>)[^<]*(</\\2${element}>)`),
    `$1${text}$3`,
  );
}
function identification(element: string, text: string): string {
  return bodyFixture(IDENTIFICATION, DOCUMENT_ID).replace(
    new RegExp(`(<(\\w+:)${element}>)[^<]*(</\\2${element}>)`),
    `$1${text}$3`,
  );
}

const accepted = (outcome: Outcome): { fields: Record<string, string>; read: unknown } => {
  if ('fault' in outcome) throw new Error(`refused: ${outcome.fault} at ${outcome.element}`);
  return outcome;
};

describe('white space in inbound values', () => {
  // [what, element, raw text, value every reader sees]
  test.each([
    ['BSN with spaces around', 'burgerservicenummer', ' 123456782 ', '123456782'],
    ['BSN between line ends and tabs', 'burgerservicenummer', '\n\t123456782\t\r\n', '123456782'],
    ['BSN with white space written as references', 'burgerservicenummer', '&#x20;123456782&#9;&#xD;', '123456782'],
    ['BSN in CDATA with spaces', 'burgerservicenummer', ' <![CDATA[ 123456782 ]]> ', '123456782'],
    ['volgnummer with an inner run of spaces', 'inschrijvingvolgnummer', '  2026   0001 ', '2026 0001'],
    ['volgnummer with an inner tab', 'inschrijvingvolgnummer', '2026\t0001', '2026 0001'],
    ['date with spaces around', 'datumInschrijving', ' 2026-08-20 ', '2026-08-20'],
    ['code of fixed length with spaces around', 'opleidingcode', ' 0050\n', '0050'],
    ['vestiging code on its own lines', 'vestiging', '\n    25BE00\n  ', '25BE00'],
    ['leerjaar with spaces around', 'leerjaar', ' 1 ', '1'],
    ['boolean with spaces around', 'indicatieBekostigbaar', ' true ', 'true'],
  ])('%s: accepted as the normalised value', (_what, element, raw, value) => {
    const { read } = accepted(inbound('aanleverenInschrijvingVO', enrolment(element, raw), stand));
    const period = (read as ReturnType<typeof stand>).perioden[0]!;
    const seen: Record<string, unknown> = {
      burgerservicenummer: (read as ReturnType<typeof stand>).pgn.value,
      inschrijvingvolgnummer: (read as ReturnType<typeof stand>).inschrijvingvolgnummer,
      datumInschrijving: (read as ReturnType<typeof stand>).datumInschrijving,
      opleidingcode: period.opleidingcode,
      vestiging: period.vestiging,
      leerjaar: String(period.leerjaar),
      indicatieBekostigbaar: String(period.indicatieBekostigbaar),
    };
    expect(seen[element]).toBe(value);
  });

  test.each([
    ['identificatiecode with spaces around', 'identificatiecodeBedrijfsdocument', `  ${DOCUMENT_ID}\n`, DOCUMENT_ID],
    ['BRIN with spaces around', 'brin', '\t25BE ', '25BE'],
    ['sender with spaces around', 'verzendendeInstantie', ' 25BE ', '25BE'],
    [
      'document time between line ends',
      'datumTijdBedrijfsdocument',
      '\n2026-09-01T08:15:00Z\n',
      '2026-09-01T08:15:00Z',
    ],
  ])('%s: the accept path stores and answers with the normalised value', (_what, element, raw, value) => {
    const { fields } = accepted(inbound('aanleverenInschrijvingVO', enrolment(element, raw), stand));
    expect(fields[element]).toBe(value);
  });

  test.each([
    ['surname with spaces around', 'achternaam', '  Jansen ', { achternaam: 'Jansen' }],
    [
      'first names with a tab and a line end between',
      'voornamen',
      'Pieter\tJan\nWillem',
      { voornamen: 'Pieter Jan Willem' },
    ],
    [
      'first names with an inner run of spaces (a normalizedString keeps it)',
      'voornamen',
      'Pieter  Jan',
      { voornamen: 'Pieter  Jan' },
    ],
    [
      'postcode with spaces around',
      'postcode',
      ' 9712AB ',
      { address: { binnenlandsAdres: expect.objectContaining({ postcode: '9712AB' }) } },
    ],
    [
      'street name on its own line',
      'straatnaam',
      '\n  Kerkstraat\n',
      { address: { binnenlandsAdres: expect.objectContaining({ straatnaam: 'Kerkstraat' }) } },
    ],
    ['partial birth date with spaces around', 'geboorteDatum', ' 2012-05-00 ', null],
  ])('identification, %s: accepted as the normalised value', (_what, element, raw, expected) => {
    const { read } = accepted(inbound('aanleverenIdentificerenPersoonVO', identification(element, raw), person));
    const request = read as ReturnType<typeof person>;
    if (expected) expect(request.zonderPgn).toMatchObject(expected);
    else expect(request.geboorteDatum).toBe('2012-05-00');
  });

  test.each([
    [
      'all-blank required BSN',
      'aanleverenInschrijvingVO',
      enrolment('burgerservicenummer', '   '),
      'Client.EK0035',
      'burgerservicenummer',
    ],
    [
      'all-blank required vestiging (tab and line end)',
      'aanleverenInschrijvingVO',
      enrolment('vestiging', '\t\n'),
      'Client.EK0035',
      'vestiging',
    ],
    [
      'all-blank volgnummer written as references',
      'aanleverenInschrijvingVO',
      enrolment('inschrijvingvolgnummer', '&#x20;&#9;'),
      'Client.EK0035',
      'inschrijvingvolgnummer',
    ],
    [
      'empty optional out-date',
      'aanleverenInschrijvingVO',
      bodyFixture(ENROLMENT).replace(
        '</bas:datumInschrijving>',
        '</bas:datumInschrijving><bas:datumUitschrijving></bas:datumUitschrijving>',
      ),
      'Client.EK0035',
      'datumUitschrijving',
    ],
    [
      'blank required surname (the schema alone would take it)',
      'aanleverenIdentificerenPersoonVO',
      identification('achternaam', '    '),
      'Client.EK0035',
      'achternaam',
    ],
    [
      'blank optional prefix',
      'aanleverenIdentificerenPersoonVO',
      identification('voorvoegsels', ' \n '),
      'Client.EK0035',
      'voorvoegsels',
    ],
    [
      'empty optional house number (a pattern that allows it)',
      'aanleverenIdentificerenPersoonVO',
      identification('huisnummer', ''),
      'Client.EK0035',
      'huisnummer',
    ],
    [
      'BSN with inner spaces',
      'aanleverenInschrijvingVO',
      enrolment('burgerservicenummer', '123 456 782'),
      'Client.DK0004',
      'burgerservicenummer',
    ],
    [
      'BSN after a no-break space (not XML white space)',
      'aanleverenInschrijvingVO',
      enrolment('burgerservicenummer', '\u00a0123456782'),
      'Client.DK0004',
      'burgerservicenummer',
    ],
    [
      'date with a space inside',
      'aanleverenInschrijvingVO',
      enrolment('datumInschrijving', '2026 -08-20'),
      'Client.DK0004',
      'datumInschrijving',
    ],
    [
      'code of fixed length with an inner space',
      'aanleverenInschrijvingVO',
      enrolment('opleidingcode', '00 50'),
      'Client.DK0004',
      'opleidingcode',
    ],
    [
      'surname longer than allowed once tabs are spaces',
      'aanleverenIdentificerenPersoonVO',
      identification('achternaam', `${'a'.repeat(199)}\t\t`),
      'Client.DK0004',
      'achternaam',
    ],
  ])('%s: refused', (_what, operation, body, fault, element) => {
    expect(inbound(operation, body, () => undefined)).toEqual({ fault, element });
  });
});

describe('the white-space table follows xsd/', () => {
  /** Element name → the facet its simple type has in the inbound schemas, read from the XSD files. */
  function facetsInSchemas(): Map<string, string> {
    const files = fs.readdirSync(XSD_DIR).filter((f) => f.endsWith('.xsd') && !f.startsWith('DUO_VOTerugkoppeling'));
    const texts = files.map((f) => fs.readFileSync(path.join(XSD_DIR, f), 'utf8'));
    const baseOf = new Map<string, string>();
    for (const text of texts) {
      for (const m of text.matchAll(/<xs:simpleType name="(\w+)">[\s\S]*?<xs:restriction base="([\w:]+)"/g))
        baseOf.set(m[1]!, m[2]!);
    }
    const facetOf = (type: string): string => {
      const local = type.split(':').pop()!;
      const base = baseOf.get(local);
      if (base) return facetOf(base);
      return type === 'xs:string' ? 'preserve' : type === 'xs:normalizedString' ? 'replace' : 'collapse';
    };
    const facets = new Map<string, string>();
    for (const text of texts) {
      for (const m of text.matchAll(/<xs:element name="(\w+)" type="([\w:]+)"/g)) {
        const [, name, type] = m;
        if (type!.startsWith('xs:') || baseOf.has(type!.split(':').pop()!)) {
          const facet = facetOf(type!);
          expect([name, facets.get(name!) ?? facet]).toEqual([name, facet]); // one facet per element name
          facets.set(name!, facet);
        }
      }
    }
    return facets;
  }

  test('every inbound simple-typed element has the facet the broker normalises it with, and none keeps white space as is', () => {
    const facets = facetsInSchemas();
    expect(facets.size).toBeGreaterThan(30);
    for (const [name, facet] of facets) expect([name, whiteSpaceOf(name)]).toEqual([name, facet]);
    for (const name of NORMALIZED_STRING_ELEMENTS) expect([name, facets.get(name)]).toEqual([name, 'replace']);
  });

  test('normalising is idempotent and never leaves white space at the ends', () => {
    for (const [name, text] of [
      ['brin', ' \t25 BE\r\n'],
      ['voornamen', '\tA  B\n'],
      ['achternaam', ' '],
      ['leerjaar', ''],
    ] as const) {
      const once = normaliseValue(name, text);
      expect(normaliseValue(name, once)).toBe(once);
      expect(once).toBe(once.trim());
    }
  });
});
