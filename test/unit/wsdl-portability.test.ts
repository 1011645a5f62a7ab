/**
 * What every client generator needs from a published WSDL (.NET svcutil, PHP SoapClient, zeep, node-soap):
 * no extension it may not know, document/literal with one element part per message, DUO's names, and
 * type names that are unique over everything the WSDL imports (else a generator renames one: Foo1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import { INBOUND_CONTRACTS, OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { WSDL_DIR, XSD_DIR } from '../../src/infra/paths.js';
import { CONTRACT_NAMES } from '../support/duo-names.js';

const NS = {
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  soap: 'http://schemas.xmlsoap.org/wsdl/soap/',
  xs: 'http://www.w3.org/2001/XMLSchema',
};
const PUBLISHED = [...INBOUND_CONTRACTS, OUTBOUND_CONTRACT];

/** Runs `read` on a parsed file and frees it. */
function withDocument<T>(file: string, read: (doc: XmlDocument) => T): T {
  const doc = XmlDocument.fromString(fs.readFileSync(file, 'utf8'));
  try {
    return read(doc);
  } finally {
    doc.dispose();
  }
}

const values = (doc: XmlDocument, xpath: string): string[] => doc.find(xpath, NS).map((node) => node.content);
const wsdlValues = (contract: string, xpath: string): string[] =>
  withDocument(path.join(WSDL_DIR, `${contract}.wsdl`), (doc) => values(doc, xpath));

/** The XSD files a schema pulls in, itself included, following schemaLocation. */
function schemaClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const location of withDocument(path.join(XSD_DIR, file), (doc) =>
    values(doc, '/xs:schema/xs:import/@schemaLocation | /xs:schema/xs:include/@schemaLocation'),
  )) {
    schemaClosure(path.basename(location), seen);
  }
  return seen;
}

describe.each(PUBLISHED.map((c) => [c.name, c] as const))('%s.wsdl', (name, contract) => {
  test('declares no extension a client must understand, and nothing of WS-Addressing', () => {
    const wsdl = path.join(WSDL_DIR, `${name}.wsdl`);
    const foreign = withDocument(wsdl, (doc) =>
      [
        ...doc.find(
          `//*[namespace-uri() != '${NS.wsdl}' and namespace-uri() != '${NS.soap}' and namespace-uri() != '${NS.xs}']`,
        ),
        ...doc.find('//@*[namespace-uri() != ""]'),
      ].map((node) => (node as XmlElement).name),
    );
    expect(foreign).toEqual([]);
    expect(fs.readFileSync(wsdl, 'utf8')).not.toMatch(/xmlns:\w+="[^"]*addressing/);
  });

  test('is document/literal: one part named body per message, naming an element, and a distinct element per operation', () => {
    expect(wsdlValues(name, '//soap:binding/@style')).toEqual(['document']);
    expect(new Set(wsdlValues(name, '//soap:operation/@style'))).toEqual(new Set(['document']));
    expect(new Set(wsdlValues(name, '//soap:body/@use'))).toEqual(new Set(['literal']));
    const messages = wsdlValues(name, '/wsdl:definitions/wsdl:message/@name');
    expect(messages).toHaveLength(contract.operations.length * 2);
    for (const message of messages) {
      expect([message, wsdlValues(name, `/wsdl:definitions/wsdl:message[@name='${message}']/wsdl:part/@name`)]).toEqual(
        [message, ['body']],
      );
      expect([message, wsdlValues(name, `/wsdl:definitions/wsdl:message[@name='${message}']/wsdl:part/@type`)]).toEqual(
        [message, []],
      );
    }
    const inputs = wsdlValues(name, '/wsdl:definitions/wsdl:message[wsdl:part]/wsdl:part/@element').filter((e) =>
      e.endsWith('_Request'),
    );
    expect(new Set(inputs).size).toBe(contract.operations.length);
  });

  test('names its port type, binding, service and port as DUO does', () => {
    const names = CONTRACT_NAMES[name]!;
    expect(wsdlValues(name, '/wsdl:definitions/wsdl:portType/@name')).toEqual([names.portType]);
    expect(wsdlValues(name, '/wsdl:definitions/wsdl:binding/@name')).toEqual([names.binding]);
    expect(wsdlValues(name, '/wsdl:definitions/wsdl:service/@name')).toEqual([names.service]);
    expect(wsdlValues(name, '/wsdl:definitions/wsdl:service/wsdl:port/@name')).toEqual([names.port]);
  });

  test('gives each root element the type DUO names it with', () => {
    const rootTypes = withDocument(path.join(XSD_DIR, contract.schemaFile), (doc) =>
      Object.fromEntries(
        contract.operations.map((operation) => [
          operation.name,
          [
            doc
              .get(`/xs:schema/xs:element[@name='${operation.requestElement}']/@type`, NS)
              ?.content.replace(/^\w+:/, ''),
            doc
              .get(`/xs:schema/xs:element[@name='${operation.responseElement}']/@type`, NS)
              ?.content.replace(/^\w+:/, ''),
          ],
        ]),
      ),
    );
    expect(rootTypes).toEqual(CONTRACT_NAMES[name]!.rootTypes);
  });

  test('imports schemas whose type names are unique, also ignoring case', () => {
    const names = [...schemaClosure(contract.schemaFile)].flatMap((file) =>
      withDocument(path.join(XSD_DIR, file), (doc) =>
        values(doc, '/xs:schema/xs:complexType/@name | /xs:schema/xs:simpleType/@name'),
      ),
    );
    const duplicates = names.filter((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
    expect(duplicates).toEqual([]);
  });
});
