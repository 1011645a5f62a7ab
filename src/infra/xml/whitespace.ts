/**
 * White space in inbound values, the way the contract schemas define it: codes, numbers, dates and
 * identifiers derive from xs:token (runs of white space become one space, none at either end); names
 * and address lines from xs:normalizedString (each tab and line end becomes a space, runs inside are
 * kept). libxml2 validates the value so normalised; whatever the broker reads, checks, stores or
 * pushes is that value, never the raw text. A unit test keeps this table in step with xsd/.
 */

/** XSD's `whiteSpace` facet of an element's type, for the two kinds inbound values have. */
export type WhiteSpaceFacet = 'replace' | 'collapse';

/** Inbound elements whose type derives from xs:normalizedString; every other inbound value collapses. */
export const NORMALIZED_STRING_ELEMENTS: ReadonlySet<string> = new Set([
  'achternaam',
  'voorvoegsels',
  'voornamen',
  'straatnaam',
  'huisnummerToevoeging',
  'locatieOmschrijving',
  'plaatsnaam',
  'adresregelBuitenland1',
  'adresregelBuitenland2',
  'adresregelBuitenland3',
]);

export const whiteSpaceOf = (localName: string): WhiteSpaceFacet =>
  NORMALIZED_STRING_ELEMENTS.has(localName) ? 'replace' : 'collapse';

// XML's white space is exactly these four characters (no-break space and the like are content).
const XML_SPACE_RUNS = /[ \t\n\r]+/g;
const XML_SPACE_CHARS = /[\t\n\r]/g;
const OUTER_SPACES = /^ +| +$/g;

/** The value an element's text has under its type's facet. */
export function normaliseValue(localName: string, text: string): string {
  // A space before or after a name means nothing (the register always read names trimmed); inner runs are the sender's.
  if (whiteSpaceOf(localName) === 'replace') return text.replace(XML_SPACE_CHARS, ' ').replace(OUTER_SPACES, '');
  return text.replace(XML_SPACE_RUNS, ' ').replace(OUTER_SPACES, '');
}

/** Whether a value holds nothing but XML white space (or nothing at all). */
export const isBlank = (text: string): boolean => !/[^ \t\n\r]/.test(text);
