/**
 * libxml2 (the broker's validator) and Xerces (xsd-schema-validator, a JVM per call: never on the
 * request path) must agree on every body fixture: valid ones pass both, invalid ones fail both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import validator from 'xsd-schema-validator';
import { INBOUND_CONTRACTS, OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { BrokerFault } from '../../src/infra/errors.js';
import { XSD_DIR } from '../../src/infra/paths.js';
import { validateBody } from '../../src/infra/xml/body-validator.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { openSoapEnvelope } from '../../src/infra/xml/soap-envelope.js';
import { envelope, FIXTURES, operationOfFixture } from '../support/soap.js';

const CONTRACTS = [...INBOUND_CONTRACTS, OUTBOUND_CONTRACT];
const schemas = compileSchemas(CONTRACTS.map((c) => c.schemaFile));
const contractOf = (operation: string) => CONTRACTS.find((c) => c.operations.some((o) => o.name === operation))!;

function fixtures(kind: 'valid' | 'invalid' | 'outbound'): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, kind))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => path.join(kind, f));
}

/** The operation a body fixture is for, from its root element. */
function operationOf(xml: string): string {
  return /<(?:\w+:)?(\w+)_Request[\s>]/.exec(xml)![1]!;
}

function libxml2Verdict(xml: string): { valid: boolean; element?: string } {
  const contract = contractOf(operationOf(xml));
  const soap = openSoapEnvelope(envelope(xml.replace(/^<\?xml[^>]*\?>\s*/, ''), {}));
  try {
    validateBody(soap.bodyElement, schemas.get(contract.schemaFile)!);
    return { valid: true };
  } catch (error) {
    if (error instanceof BrokerFault && error.code === 'DK0004') return { valid: false, element: error.element };
    throw error;
  } finally {
    soap.dispose();
  }
}

async function xercesVerdict(file: string, xml: string): Promise<boolean> {
  const schema = path.join(XSD_DIR, contractOf(operationOf(xml)).schemaFile);
  try {
    const result = await validator.validateXML({ file }, schema);
    return result.valid;
  } catch (error) {
    // Only a schema verdict counts as "invalid" (Xerces' cvc-* messages), never a JVM that did not start.
    const verdict = error as { valid?: boolean; messages?: string[] };
    if (verdict.valid === false && verdict.messages?.some((m) => m.includes('cvc-'))) return false;
    throw error;
  }
}

import { jest } from '@jest/globals';

jest.setTimeout(120_000);

describe('libxml2 and Xerces agree', () => {
  test.each([...fixtures('valid'), ...fixtures('outbound')])('%s is valid for both', async (relative) => {
    const file = path.join(FIXTURES, relative);
    const xml = fs.readFileSync(file, 'utf8');
    expect(operationOfFixture(file)).toBe(operationOf(xml));
    expect(libxml2Verdict(xml)).toEqual({ valid: true });
    expect(await xercesVerdict(file, xml)).toBe(true);
  });

  test.each(fixtures('invalid'))('%s is invalid for both, at the expected element', async (relative) => {
    const file = path.join(FIXTURES, relative);
    const xml = fs.readFileSync(file, 'utf8');
    const expected = /<!-- expect-element: (\S+) -->/.exec(xml)?.[1];
    expect(libxml2Verdict(xml)).toEqual({ valid: false, element: expected });
    expect(await xercesVerdict(file, xml)).toBe(false);
  });
});

describe('libxml2 and Xerces agree on white space in values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xerces-ws-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** A body fixture with the text of the first `element` replaced. */
  const edited = (fixture: string, element: string, text: string): string =>
    fs
      .readFileSync(path.join(FIXTURES, fixture), 'utf8')
      .replace(new RegExp(`(<(\\w+:)${element}>)[^<]*(</\\2${element}>)`), `$1${text}$3`);

  test.each([
    ['valid/aanleverenInschrijvingVO.xml', 'burgerservicenummer', ' 123456782\n', true],
    ['valid/aanleverenInschrijvingVO.xml', 'inschrijvingvolgnummer', '\t2026   0001 ', true],
    ['valid/aanleverenInschrijvingVO.xml', 'datumInschrijving', ' 2026-08-20 ', true],
    ['valid/aanleverenInschrijvingVO.xml', 'datumTijdBedrijfsdocument', '\n2026-09-01T08:15:00Z\t', true],
    ['valid/aanleverenIdentificerenPersoonVO-zonderPGN.xml', 'achternaam', '   ', true], // blank, yet valid: the broker's EK0035 refuses it
    ['valid/aanleverenInschrijvingVO.xml', 'burgerservicenummer', '123 456 782', false],
    ['valid/aanleverenInschrijvingVO.xml', 'opleidingcode', '00 50', false],
    ['valid/aanleverenInschrijvingVO.xml', 'datumInschrijving', '2026 -08-20', false],
  ])('%s with %s = %j: valid %s for both', async (fixture, element, text, valid) => {
    const xml = edited(fixture, element, text);
    expect(xml).not.toBe(fs.readFileSync(path.join(FIXTURES, fixture), 'utf8'));
    const file = path.join(dir, `${element}-${valid}-${Buffer.from(text).toString('hex')}.xml`);
    fs.writeFileSync(file, xml);
    expect(libxml2Verdict(xml)).toEqual(valid ? { valid: true } : { valid: false, element });
    expect(await xercesVerdict(file, xml)).toBe(valid);
  });
});
