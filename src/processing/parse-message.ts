import { InvariantError } from '../infra/errors.js';
import { storedBodyElement } from '../infra/xml/soap-envelope.js';
import { normaliseValue } from '../infra/xml/whitespace.js';
import { type OutlineElement, textContent } from '../infra/xml/xml-gate.js';
import type { DatedSpan, EnrolmentStand, PeriodVO, VerblijfAndereInstelling } from '../register/enrolment.js';
import type { ExamResultKey, ExamResultStand, Niveau, Uitslagcode, VakResultaat } from '../register/exam-result.js';
import type { Address, IdentificationRequest } from '../register/person.js';
import type { PersonMutation } from '../register/person-mutation.js';
import type { Pgn } from '../register/pgn.js';

/**
 * Turns a stored, already validated inbound message into typed values. Namespace prefixes are dropped
 * (the schema has already fixed which element is where), values stay strings until typed here.
 *
 * The message is read from the inbound gate's outline, taken down to the leaves, not by an XML parser:
 * the text is the broker's own stored copy, which libxml2 parsed and the schema validated when it came
 * in. That reads a message in a fraction of fast-xml-parser's time (docs/benchmarks.md); a test holds
 * the result to fast-xml-parser's on every fixture.
 */
export type Node = Record<string, unknown>;

/** Elements that may repeat, always read as arrays (other elements are arrays only when they repeat). */
const REPEATING = new Set([
  'inschrijvingPeriodeVO',
  'ontwikkelingsperspectief',
  'verblijfAndereInstelling',
  'aanvullendeOpleiding',
  'experiment',
  'vak',
  'toets',
  'herkansing',
]);

/** A leaf is its value as its type normalises white space; an element with children a record of them by local name. */
function nodeOf(xml: string, element: OutlineElement): Node | string {
  if (element.children.length === 0) return normaliseValue(element.localName, textContent(xml, element));
  const node: Node = {};
  for (const child of element.children) {
    const value = nodeOf(xml, child);
    const name = child.localName;
    const existing = node[name];
    if (existing === undefined) node[name] = REPEATING.has(name) ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else node[name] = [existing, value];
  }
  return node;
}

/** The body element of a stored SOAP message (an empty record when the body holds another element). */
export function bodyElementOf(xml: string, elementName: string): Node {
  const body = storedBodyElement(xml);
  const node = body.localName === elementName ? nodeOf(xml, body) : {};
  return typeof node === 'string' ? {} : node;
}

const text = (node: Node, name: string): string | undefined =>
  node[name] === undefined ? undefined : String(node[name]);
const required = (node: Node, name: string): string => {
  const value = text(node, name);
  if (value === undefined) throw new InvariantError(`validated message lacks ${name}`);
  return value;
};
/** xs:date allows a time zone (`2026-08-20+02:00`); the register keeps calendar dates, so it is dropped. */
const calendarDate = (value: string): string => /^\d{4}-\d{2}-\d{2}/.exec(value)?.[0] ?? value;
const requiredDate = (node: Node, name: string): string => calendarDate(required(node, name));
const optionalDate = (node: Node, name: string): string | undefined => {
  const value = text(node, name);
  return value === undefined ? undefined : calendarDate(value);
};
const list = (node: Node, name: string): Node[] => (node[name] as Node[] | undefined) ?? [];

export interface ParsedDocumentHeader {
  readonly documentId: string;
  readonly verzendendeInstantie: string;
}

export function bedrijfsdocumentOf(body: Node): ParsedDocumentHeader {
  return {
    documentId: required(body, 'identificatiecodeBedrijfsdocument'),
    verzendendeInstantie: required(body, 'verzendendeInstantie'),
  };
}

export function pgnOf(node: Node): Pgn {
  const bsn = text(node, 'burgerservicenummer');
  return bsn !== undefined ? { kind: 'BSN', value: bsn } : { kind: 'OWN', value: required(node, 'onderwijsnummer') };
}

function periodOf(node: Node): PeriodVO {
  const leerjaar = text(node, 'leerjaar');
  const nieuwkomers = text(node, 'indicatieNieuwkomersbekostiging');
  return {
    datumBegin: requiredDate(node, 'datumBegin'),
    ...(text(node, 'onderwijsaanbieder') !== undefined ? { onderwijsaanbieder: text(node, 'onderwijsaanbieder') } : {}),
    ...(text(node, 'onderwijslocatie') !== undefined ? { onderwijslocatie: text(node, 'onderwijslocatie') } : {}),
    opleidingcode: required(node, 'opleidingcode'),
    aanvullendeOpleidingen: list(node, 'aanvullendeOpleiding').map((a) => required(a, 'opleidingcode')),
    vestiging: required(node, 'vestiging'),
    ...(leerjaar !== undefined ? { leerjaar: Number(leerjaar) } : {}),
    indicatieBekostigbaar: ['true', '1'].includes(required(node, 'indicatieBekostigbaar')),
    experimenten: list(node, 'experiment').map((e) => required(e, 'naam')),
    ...(nieuwkomers === 'J' || nieuwkomers === 'N' ? { indicatieNieuwkomersbekostiging: nieuwkomers } : {}),
  };
}

function spanOf(node: Node): DatedSpan {
  const end = optionalDate(node, 'datumEind');
  return { datumBegin: requiredDate(node, 'datumBegin'), ...(end !== undefined ? { datumEind: end } : {}) };
}

function verblijfOf(node: Node): VerblijfAndereInstelling {
  const vestiging = text(node, 'vestiging');
  return {
    ...spanOf(node),
    brin: required(node, 'brin'),
    ...(vestiging !== undefined ? { vestiging } : {}),
    verblijfsoort: required(node, 'verblijfsoort'),
  };
}

/** An `aanleverenInschrijvingVO_Request` as a stand. */
export function enrolmentStandOf(body: Node): EnrolmentStand {
  const out = optionalDate(body, 'datumUitschrijving');
  return {
    pgn: pgnOf(body),
    brin: required(body, 'brin'),
    inschrijvingvolgnummer: required(body, 'inschrijvingvolgnummer'),
    datumInschrijving: requiredDate(body, 'datumInschrijving'),
    ...(out !== undefined ? { datumUitschrijving: out } : {}),
    perioden: list(body, 'inschrijvingPeriodeVO').map(periodOf),
    ontwikkelingsperspectieven: list(body, 'ontwikkelingsperspectief').map(spanOf),
    verblijvenAndereInstelling: list(body, 'verblijfAndereInstelling').map(verblijfOf),
  };
}

/** Which enrolment to delete. */
export interface Deletion {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly inschrijvingvolgnummer: string;
}

/** An `aanleverenVerwijderingInschrijvingVO_Request`. */
export function deletionOf(body: Node): Deletion {
  return {
    pgn: pgnOf(body),
    brin: required(body, 'brin'),
    inschrijvingvolgnummer: required(body, 'inschrijvingvolgnummer'),
  };
}

const bool = (value: string | undefined): boolean => value === 'true' || value === '1';
/** The optional string fields of a node that are present, as a record to spread. */
const present = (node: Node, names: readonly string[]): Record<string, string> =>
  Object.fromEntries(names.flatMap((name) => (text(node, name) !== undefined ? [[name, text(node, name)!]] : [])));

function vakOf(node: Node): VakResultaat {
  const combinatie = text(node, 'indicatieCombinatiecijfer');
  return {
    vakcode: required(node, 'vakcode'),
    ...present(node, [
      'cijferSchoolexamen',
      'cijferCentraalExamen',
      'tijdvakCentraalExamen',
      'eindcijfer',
      'beoordeling',
      'redenNietDeelname',
    ]),
    indicatieDiplomavak: bool(required(node, 'indicatieDiplomavak')),
    ...(combinatie !== undefined ? { indicatieCombinatiecijfer: bool(combinatie) } : {}),
  };
}

/** An `aanleverenExamenresultaatVO_Request` as a stand. */
export function examResultStandOf(body: Node): ExamResultStand {
  const uitslag = body.uitslag as Node | undefined;
  const cumLaude = uitslag && text(uitslag, 'indicatieCumLaude');
  const combinatie = body.combinatiecijfer as Node | undefined;
  const werkstuk = body.werkstuk as Node | undefined;
  return {
    pgn: pgnOf(body),
    brin: required(body, 'brin'),
    examenresultaatvolgnummer: required(body, 'examenresultaatvolgnummer'),
    ...present(body, ['inschrijvingvolgnummer', 'onderwijsaanbieder', 'vestiging']),
    indicaties: {
      teruggetrokken: bool(text(body, 'indicatieTeruggetrokken')),
      eerderLeerjaar: bool(text(body, 'indicatieEerderLeerjaar')),
      gespreidExamen: bool(text(body, 'indicatieGespreidExamen')),
      doorlopendeLeerlijn: bool(text(body, 'indicatieDoorlopendeLeerlijn')),
    },
    examenregime: required(body, 'examenregime'),
    niveau: required(body, 'niveau') as Niveau,
    ...(uitslag
      ? {
          uitslag: {
            datumUitslag: requiredDate(uitslag, 'datumUitslag'),
            uitslagcode: required(uitslag, 'uitslagcode') as Uitslagcode,
            ...(cumLaude !== undefined ? { indicatieCumLaude: bool(cumLaude) } : {}),
          },
        }
      : {}),
    vakken: list(body, 'vak').map(vakOf),
    ...(combinatie ? { combinatiecijfer: { eindcijfer: required(combinatie, 'eindcijfer') } } : {}),
    ...(werkstuk ? { werkstuk: present(werkstuk, ['cijfer', 'beoordeling']) } : {}),
    toetsen: list(body, 'toets').map((toets) => ({
      toetscode: required(toets, 'toetscode'),
      ...present(toets, ['eindcijfer', 'redenNietDeelname']),
    })),
    herkansingen: list(body, 'herkansing').map((h) => ({
      vakcode: required(h, 'vakcode'),
      tijdvak: required(h, 'tijdvak'),
    })),
  };
}

/** Which exam result to delete, with the number it was delivered under. */
export interface ExamResultDeletion {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly examenresultaatvolgnummer: string;
}

/** An `aanleverenVerwijderingExamenresultaatVO_Request`. */
export function examResultDeletionOf(body: Node): ExamResultDeletion {
  return {
    pgn: pgnOf(body),
    brin: required(body, 'brin'),
    examenresultaatvolgnummer: required(body, 'examenresultaatvolgnummer'),
  };
}

/** The register's key of a parsed exam result or deletion. */
export const examResultKeyOf = (about: ExamResultDeletion): ExamResultKey => ({
  pgn: about.pgn.value,
  brin: about.brin,
  examenresultaatvolgnummer: about.examenresultaatvolgnummer,
});

const strings = (node: Node): Record<string, string> =>
  Object.fromEntries(Object.entries(node).map(([k, v]) => [k, String(v)]));

/** The binnenlandsAdres or buitenlandsAdres child of a node, or undefined when it has neither. */
function addressOf(node: Node): Address | undefined {
  // An address element with only empty children parses as '' rather than an object.
  const fields = (value: unknown): Record<string, string> =>
    typeof value === 'object' && value !== null ? strings(value as Node) : {};
  if (node.binnenlandsAdres !== undefined) return { binnenlandsAdres: fields(node.binnenlandsAdres) };
  if (node.buitenlandsAdres !== undefined) return { buitenlandsAdres: fields(node.buitenlandsAdres) };
  return undefined;
}

/** An `aanleverenIdentificerenPersoonVO_Request`. */
export function identificationOf(body: Node): IdentificationRequest {
  const met = body.metPGN as Node | undefined;
  const zonder = body.zonderPGN as Node | undefined;
  const current = text(body, 'huidigOnderwijsnummer');
  const base = {
    geboorteDatum: required(body, 'geboorteDatum'),
    geslacht: required(body, 'geslacht'),
    ...(current ? { huidigOnderwijsnummer: current } : {}),
  };
  if (met) return { ...base, metPgn: pgnOf(met) };
  const z = zonder ?? {};
  const address: Address = addressOf(z) ?? { buitenlandsAdres: {} };
  const prefixes = text(z, 'voorvoegsels');
  const firstNames = text(z, 'voornamen');
  return {
    ...base,
    zonderPgn: {
      achternaam: required(z, 'achternaam'),
      ...(prefixes ? { voorvoegsels: prefixes } : {}),
      ...(firstNames ? { voornamen: firstNames } : {}),
      address,
    },
  };
}

/** A `verwerkenPersoonsmutatie_Request`: the BSN and the parts that changed. */
export function personMutationOf(body: Node): PersonMutation {
  const surname = text(body, 'achternaam');
  const prefixes = text(body, 'voorvoegsels');
  const firstNames = text(body, 'voornamen');
  const address = addressOf(body);
  const dateOfDeath = optionalDate(body, 'datumOverlijden');
  return {
    bsn: required(body, 'burgerservicenummer'),
    ...(surname !== undefined
      ? {
          name: {
            achternaam: surname,
            ...(prefixes ? { voorvoegsels: prefixes } : {}),
            ...(firstNames ? { voornamen: firstNames } : {}),
          },
        }
      : {}),
    ...(address ? { address } : {}),
    ...(dateOfDeath !== undefined ? { datumOverlijden: dateOfDeath } : {}),
  };
}

/** An `aanvragenVooropleidingen_Request` (subscribe: with indicatieAbonnement) or a `stoppenAbonnementVooropleidingen_Request`. */
export interface PriorEducationRequest {
  readonly pgn: Pgn;
  readonly brin: string;
  readonly subscribe: boolean;
}

export function priorEducationRequestOf(body: Node): PriorEducationRequest {
  return {
    pgn: pgnOf(body),
    brin: required(body, 'brin'),
    subscribe: ['true', '1'].includes(text(body, 'indicatieAbonnement') ?? 'false'),
  };
}
