import fs from 'node:fs';
import path from 'node:path';
import { XmlCData, XmlDocument, XmlElement, XmlText } from 'libxml2-wasm';
import { bodyFingerprint, isResubmission } from '../../src/inbound/body-fingerprint.js';
import { BrokerFault } from '../../src/infra/errors.js';
import { maskPersonalNumbers } from '../../src/infra/log.js';
import { openSoapEnvelope } from '../../src/infra/xml/soap-envelope.js';
import { DEFAULT_GATE_LIMITS, gateXml, textContent } from '../../src/infra/xml/xml-gate.js';
import { bodyFixture, envelope, FIXTURES } from '../support/soap.js';

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const wrap = (body: string, header = ''): string =>
  `<s:Envelope xmlns:s="${SOAP}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;

function faultOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof BrokerFault) return error.faultCode;
    throw error;
  }
  return 'none';
}

describe('XML gate (lexical pre-scan)', () => {
  test.each([
    ['depth 64 is allowed', `${'<a>'.repeat(61)}${'</a>'.repeat(61)}`, 'none'],
    ['depth 65 is not', `${'<a>'.repeat(62)}${'</a>'.repeat(62)}`, 'Client.BB0002'],
    ['32 attributes', `<a ${Array.from({ length: 32 }, (_, i) => `x${i}="1"`).join(' ')}/>`, 'none'],
    ['33 attributes', `<a ${Array.from({ length: 33 }, (_, i) => `x${i}="1"`).join(' ')}/>`, 'Client.BB0002'],
    ['= inside attribute values is not an attribute', `<a x="${'='.repeat(100)}" y='${'='.repeat(100)}'/>`, 'none'],
    ['a 257-character element name', `<${'n'.repeat(257)}/>`, 'Client.BB0002'],
    ['a 257-character attribute name', `<a ${'n'.repeat(257)}="1"/>`, 'Client.BB0002'],
    ['a comment with > and = inside', '<a><!-- a=1 b=2 > c=3 --></a>', 'none'],
    ['CDATA with = and > inside', '<a><![CDATA[ x=1 > y=2 ]]></a>', 'none'],
    ['an entity reference passes the gate (libxml2 refuses it undeclared)', '<a>&nbsp;</a>', 'none'],
    ['a self-closing element at depth 65', `${'<a>'.repeat(61)}<b/>${'</a>'.repeat(61)}`, 'Client.BB0002'],
    ['a processing instruction', '<?php x ?>', 'Client.BB0002'],
    ['an unquoted attribute', '<a x=1/>', 'Client.BB0003'],
    ['an attribute value holding markup', '<a x="<!DOCTYPE y>"/>', 'none'],
    ['an unterminated comment', '<!-- x', 'Client.BB0003'],
  ])('%s', (_name, body, expected) => {
    expect(faultOf(() => gateXml(wrap(`<m:req xmlns:m="urn:m">${body}</m:req>`)))).toBe(expected);
  });

  test.each([
    ['an empty document', ''],
    ['two roots', `${wrap('<a/>')}${wrap('<a/>')}`],
    ['text after the root', `${wrap('<a/>')}text`],
    ['CDATA outside the root', `<![CDATA[x]]>${wrap('<a/>')}`],
    ['an unclosed element', wrap('<a>')],
  ])('%s is not well-formed', (_name, xml) => {
    expect(faultOf(() => gateXml(xml))).toBe('Client.BB0003');
  });

  test.each([
    ['DOCTYPE', `<!DOCTYPE s:Envelope [<!ENTITY e "x">]>${wrap('<a>&e;</a>')}`],
    ['a second XML declaration', `<?xml version="1.0"?><?xml version="1.0"?>${wrap('<a/>')}`],
  ])('%s is forbidden', (_name, xml) => {
    expect(faultOf(() => gateXml(xml))).toBe('Client.BB0002');
  });

  test('only UTF-8 may be declared', () => {
    expect(faultOf(() => gateXml(`<?xml version="1.0" encoding="utf-8"?>${wrap('<a/>')}`))).toBe('none');
    expect(faultOf(() => gateXml(`<?xml version="1.0" encoding='ISO-8859-1'?>${wrap('<a/>')}`))).toBe('Client.DK0009');
  });
});

describe('reading the envelope (gate outline + libxml2 parse)', () => {
  const read = (xml: string) => {
    const envelope = openSoapEnvelope(xml);
    try {
      return {
        headers: envelope.headers,
        name: `{${envelope.bodyNamespace}}${envelope.bodyLocalName}`,
        fields: envelope.bodyFields,
        libxml2Name: `{${envelope.bodyElement.namespaceUri}}${envelope.bodyElement.name}`,
        text: envelope.bodyText(),
      };
    } finally {
      envelope.dispose();
    }
  };

  test('header blocks, the body element and its direct fields, CDATA included', () => {
    const result = read(
      wrap(
        '<m:req xmlns:m="urn:m"><m:brin><![CDATA[25BE]]></m:brin><m:x><m:brin>no</m:brin></m:x></m:req>',
        '<a:To xmlns:a="urn:a">t</a:To><a:From xmlns:a="urn:a"><a:Address>f</a:Address></a:From>',
      ),
    );
    expect(result.name).toBe('{urn:m}req');
    expect(result.fields.get('brin')).toBe('25BE');
    expect(result.headers.map((h) => [h.localName, h.text, h.children.get('{urn:a}Address')])).toEqual([
      ['To', 't', undefined],
      ['From', 'f', 'f'],
    ]);
  });

  test('header children are keyed by namespace and name: a same-named child in another namespace is another child', () => {
    const result = read(
      wrap(
        '<m:req xmlns:m="urn:m"/>',
        '<a:From xmlns:a="urn:a"><b:Address xmlns:b="urn:b">b</b:Address><a:Address>a</a:Address></a:From>',
      ),
    );
    expect([...result.headers[0]!.children]).toEqual([
      ['{urn:b}Address', 'b'],
      ['{urn:a}Address', 'a'],
    ]);
  });

  test('mustUnderstand is read per header block, under any prefix of the SOAP 1.1 namespace only', () => {
    const result = read(
      wrap(
        '<m:req xmlns:m="urn:m"/>',
        '<a:One xmlns:a="urn:a" s:mustUnderstand="1"/><a:Two xmlns:a="urn:a" xmlns:t="urn:other" t:mustUnderstand="1"/>' +
          `<a:Three xmlns:a="urn:a" xmlns:e="${SOAP}" e:mustUnderstand=" true "/><a:Four xmlns:a="urn:a" s:mustUnderstand="0"/><a:Five xmlns:a="urn:a"/>`,
      ),
    );
    expect(result.headers.map((h) => [h.localName, h.mustUnderstand])).toEqual([
      ['One', true],
      ['Two', false],
      ['Three', true],
      ['Four', false],
      ['Five', false],
    ]);
  });

  test('namespaces resolve by scope: default namespace, a prefix redeclared inside, an entity in the URI', () => {
    const result = read(
      `<s:Envelope xmlns:s="${SOAP}" xmlns:m="urn:outer"><s:Body xmlns="urn:default">` +
        '<m:req xmlns:m="urn:a&amp;b"><brin>25BE</brin><m:x xmlns:m="urn:inner"/></m:req></s:Body></s:Envelope>',
    );
    expect(result.name).toBe('{urn:a&b}req');
    expect(result.libxml2Name).toBe(result.name);
    expect(result.fields.get('brin')).toBe('25BE');
  });

  test('text is decoded as libxml2 decodes it: entities, character references, CDATA as is, comments left out, CRLF', () => {
    const result = read(
      wrap(
        '<m:req xmlns:m="urn:m" a="x>y"><m:brin>&lt;a&amp;&#x42;&#67;&quot;&apos;&gt;</m:brin>' +
          '<!-- no --><m:y><![CDATA[&amp;<b>]]></m:y>r\r\ns\rt</m:req>',
      ),
    );
    expect(result.fields.get('brin')).toBe('<a&BC"\'>');
    expect(result.text).toBe('<a&BC"\'>&amp;<b>r\ns\nt');
  });

  test('a character reference XML does not allow is refused as not well-formed (a Client fault, not an internal error)', () => {
    expect(faultOf(() => read(wrap('<m:req xmlns:m="urn:&#x110000;"/>')))).toBe('Client.BB0003');
    expect(faultOf(() => read(wrap('<m:req xmlns:m="urn:&#99999999999999999999;"/>')))).toBe('Client.BB0003');
    expect(faultOf(() => read(wrap('<m:req xmlns:m="urn:m">&#0;</m:req>')))).toBe('Client.BB0003');
  });

  test('white space written as character references (.NET writes a CR as &#xD;) is not loose text in soap:Body', () => {
    expect(read(wrap('&#xD;\n  <m:req xmlns:m="urn:m"/>&#xD;&#x20;&#9;\n')).name).toBe('{urn:m}req');
    expect(faultOf(() => read(wrap('&#x41;<m:req xmlns:m="urn:m"/>')))).toBe('Client.DK0004');
  });

  test('an undeclared namespace prefix is not well-formed', () => {
    expect(faultOf(() => gateXml(wrap('<m:req/>')))).toBe('Client.BB0003');
  });

  test('the fingerprint ignores prefixes and indentation but not content', () => {
    const fingerprint = (xml: string): string => {
      const envelope = openSoapEnvelope(xml);
      try {
        return bodyFingerprint(envelope.bodyText()).toString('hex');
      } finally {
        envelope.dispose();
      }
    };
    const one = fingerprint(wrap('<m:req xmlns:m="urn:m"><m:a>1</m:a><m:b>2</m:b></m:req>'));
    expect(fingerprint(wrap('<req xmlns="urn:m">\n  <a>1</a>\n  <b>2</b>\n</req>'))).toBe(one);
    expect(fingerprint(wrap('<m:req xmlns:m="urn:m"><m:a>1</m:a><m:b>3</m:b></m:req>'))).not.toBe(one);
  });

  test('a resubmission is the same operation with the same body content as the stored original', () => {
    const storedXml = wrap('<m:req xmlns:m="urn:m"><m:a>1</m:a><m:b>2</m:b></m:req>');
    const check = (
      original: { operation: string; rawXml: string; bodyFingerprint: Buffer | null },
      operation: string,
      xml: string,
    ): boolean => {
      const envelope = openSoapEnvelope(xml);
      try {
        return isResubmission({ ...original, sharedId: 'identificatiecodeBedrijfsdocument' }, operation, envelope);
      } finally {
        envelope.dispose();
      }
    };
    const original = { operation: 'op', rawXml: storedXml, bodyFingerprint: null };
    expect(check(original, 'op', wrap('<req xmlns="urn:m">\n  <a>1</a>\n  <b>2</b>\n</req>'))).toBe(true);
    expect(check(original, 'op', wrap('<m:req xmlns:m="urn:m"><m:a>1</m:a><m:b>3</m:b></m:req>'))).toBe(false);
    expect(check(original, 'other', storedXml)).toBe(false);
    // Values are compared element by element: text moved between elements, or a space inside a name, is other content.
    expect(check(original, 'op', wrap('<m:req xmlns:m="urn:m"><m:a>12</m:a><m:b></m:b></m:req>'))).toBe(false);
    const named = {
      operation: 'op',
      rawXml: wrap(
        '<m:req xmlns:m="urn:m"><m:achternaam>Berg</m:achternaam><m:voornamen>Jan Piet</m:voornamen></m:req>',
      ),
      bodyFingerprint: null,
    };
    expect(
      check(
        named,
        'op',
        wrap('<m:req xmlns:m="urn:m"><m:achternaam>Bergvan</m:achternaam><m:voornamen>Jan Piet</m:voornamen></m:req>'),
      ),
    ).toBe(false);
    expect(
      check(
        named,
        'op',
        wrap('<m:req xmlns:m="urn:m"><m:achternaam>Berg</m:achternaam><m:voornamen>JanPiet</m:voornamen></m:req>'),
      ),
    ).toBe(false);
    // White space the types normalise away is not: around a value, a tab in a name, a run inside a code.
    expect(
      check(
        named,
        'op',
        wrap(
          '<m:req xmlns:m="urn:m"><m:achternaam>\n Berg </m:achternaam><m:voornamen>Jan\tPiet</m:voornamen></m:req>',
        ),
      ),
    ).toBe(true);
    const coded = {
      operation: 'op',
      rawXml: wrap('<m:req xmlns:m="urn:m"><m:inschrijvingvolgnummer>2026 0001</m:inschrijvingvolgnummer></m:req>'),
      bodyFingerprint: null,
    };
    expect(
      check(
        coded,
        'op',
        wrap('<m:req xmlns:m="urn:m"><m:inschrijvingvolgnummer>\n  2026   0001 </m:inschrijvingvolgnummer></m:req>'),
      ),
    ).toBe(true);
    // A row stored with its fingerprint (before migration 007) is compared by that, not re-read.
    const envelope = openSoapEnvelope(storedXml);
    const stored = { operation: 'op', rawXml: 'not read', bodyFingerprint: bodyFingerprint(envelope.bodyText()) };
    envelope.dispose();
    expect(check(stored, 'op', storedXml)).toBe(true);
    // A stored original is read without today's gate limits (they may have been tightened since).
    const deep = wrap(`<m:req xmlns:m="urn:m">${'<d>'.repeat(70)}1${'</d>'.repeat(70)}</m:req>`);
    expect(() => gateXml(deep)).toThrow();
    expect(
      check(
        { operation: 'op', rawXml: deep, bodyFingerprint: null },
        'op',
        wrap('<m:req xmlns:m="urn:m"><d>1</d></m:req>'),
      ),
    ).toBe(true);
  });

  test("on every fixture the outline agrees with libxml2's own tree (names, namespaces, header and body texts)", () => {
    const libxml2Text = (element: XmlElement): string => element.content;
    const elementChildren = (element: XmlElement): XmlElement[] => {
      const children: XmlElement[] = [];
      for (let node = element.firstChild; node; node = node.next) if (node instanceof XmlElement) children.push(node);
      return children;
    };
    const fixtures = ['valid', 'invalid', 'outbound'].flatMap((folder) =>
      fs.readdirSync(path.join(FIXTURES, folder)).map((file) => `${folder}/${file}`),
    );
    expect(fixtures.length).toBeGreaterThan(20);
    // A WS-Security block nests deeper than the outline and declares its own prefixes.
    const security =
      '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
      '<wsse:UsernameToken><wsse:Username>u &amp; v</wsse:Username></wsse:UsernameToken></wsse:Security>';
    for (const file of fixtures) {
      const xml = envelope(`\n  ${bodyFixture(file)}\n`, { extraHeaders: security });
      const root = gateXml(xml);
      const doc = XmlDocument.fromString(xml);
      try {
        const compare = (outline: ReturnType<typeof gateXml>, element: XmlElement, level: number): void => {
          expect(`${file}: {${outline.namespace}}${outline.localName}`).toBe(
            `${file}: {${element.namespaceUri}}${element.name}`,
          );
          expect(textContent(xml, outline)).toBe(libxml2Text(element));
          if (level < 4) {
            const children = elementChildren(element);
            expect(outline.children.length).toBe(children.length);
            for (const [index, child] of outline.children.entries()) compare(child, children[index]!, level + 1);
          }
          if (level <= 2) {
            let direct = false;
            for (let node = element.firstChild; node; node = node.next)
              if ((node instanceof XmlText || node instanceof XmlCData) && node.content.trim() !== '') direct = true;
            expect(outline.hasText).toBe(direct);
          }
        };
        compare(root, doc.root, 1);
      } finally {
        doc.dispose();
      }
    }
  });

  test('an undeclared entity is refused by libxml2 as not well-formed', () => {
    expect(faultOf(() => read(wrap('<a>&nbsp;</a>')))).toBe('Client.BB0003');
  });

  test.each([
    ['SOAP 1.2', '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><a/></e:Body></e:Envelope>'],
    ['no envelope', '<a/>'],
  ])('%s root is VersionMismatch.DK0001', (_name, xml) => {
    expect(faultOf(() => read(xml))).toBe('VersionMismatch.DK0001');
  });

  test.each([
    ['text directly in soap:Body', wrap('loose text<m:req xmlns:m="urn:m"/>')],
    ['two body elements', wrap('<m:a xmlns:m="urn:m"/><m:b xmlns:m="urn:m"/>')],
    ['an empty body', wrap('')],
    ['Body before Header', `<s:Envelope xmlns:s="${SOAP}"><s:Body><a/></s:Body><s:Header/></s:Envelope>`],
  ])('%s is DK0004', (_name, xml) => {
    expect(faultOf(() => read(xml))).toBe('Client.DK0004');
  });
});

describe('masking personal numbers', () => {
  test('7 to 10 digit numbers keep only their last three digits; OINs, UUIDs and times stay whole', () => {
    expect(maskPersonalNumbers("The value '123456782' is not accepted; OIN 00000001800866472000")).toBe(
      "The value '******782' is not accepted; OIN 00000001800866472000",
    );
    expect(maskPersonalNumbers("'12345678' and 1234567890")).toBe("'******678' and ******890");
    expect(
      maskPersonalNumbers('id 12345678-1234-4123-8123-123456789012 at 2026-09-01T10:15:00Z, BRIN 25BE, 123456'),
    ).toBe('id 12345678-1234-4123-8123-123456789012 at 2026-09-01T10:15:00Z, BRIN 25BE, 123456');
    // A UUID whose last group ends in a run of digits is an id, not a personal number.
    expect(maskPersonalNumbers('40a18168-0fa7-4484-bcc3-427e12345403 and 40A18168-0FA7-4484-BCC3-4E2345678403')).toBe(
      '40a18168-0fa7-4484-bcc3-427e12345403 and 40A18168-0FA7-4484-BCC3-4E2345678403',
    );
    // ...but outside the UUID shape the same text is masked.
    expect(maskPersonalNumbers('0fa7-4484-bcc3-427e123456782')).toBe('0fa7-4484-bcc3-427e******782');
    // Glued to a label or punctuation, a personal number is still masked.
    expect(maskPersonalNumbers('BSN:123456782 onbekend, PGN-123456782, x123456782.')).toBe(
      'BSN:******782 onbekend, PGN-******782, x******782.',
    );
  });
});

describe('gate limits on soap:Header and elements', () => {
  const limits = {
    ...DEFAULT_GATE_LIMITS,
    maxElements: 10,
    maxHeaderBytes: 200,
    maxHeaderElements: 3,
  };
  const header = (blocks: number): string => '<h:x xmlns:h="urn:h"/>'.repeat(blocks);

  test.each([
    ['3 header elements', wrap('<m:req xmlns:m="urn:m"/>', header(3)), 'none'],
    ['4 header elements', wrap('<m:req xmlns:m="urn:m"/>', header(4)), 'Client.BB0002'],
    // Envelope, Header, Body, req: 4; 6 more is the 10th element, 7 more the 11th.
    ['10 elements in all', wrap(`<m:req xmlns:m="urn:m">${'<a/>'.repeat(6)}</m:req>`), 'none'],
    ['11 elements in all', wrap(`<m:req xmlns:m="urn:m">${'<a/>'.repeat(7)}</m:req>`), 'Client.BB0002'],
    [
      'a header of 200 characters',
      wrap('<m:req xmlns:m="urn:m"/>', `<h:x xmlns:h="urn:h">${'a'.repeat(152)}</h:x>`),
      'none',
    ],
    [
      'a header of 201 characters',
      wrap('<m:req xmlns:m="urn:m"/>', `<h:x xmlns:h="urn:h">${'a'.repeat(153)}</h:x>`),
      'Client.BB0002',
    ],
    ['a header that never ends', `<s:Envelope xmlns:s="${SOAP}"><s:Header>${'a'.repeat(300)}`, 'Client.BB0002'],
  ])('%s', (_name, xml, expected) => {
    expect(faultOf(() => gateXml(xml, limits, Infinity))).toBe(expected);
  });

  test('the header is handed over before the body is scanned, so refusing it there skips the body', () => {
    const seen: string[] = [];
    const broken = wrap('<m:req xmlns:m="urn:m"><unclosed></m:req>', header(2));
    expect(faultOf(() => gateXml(broken))).toBe('Client.BB0003');
    expect(
      faultOf(() =>
        gateXml(broken, DEFAULT_GATE_LIMITS, Infinity, (h) => {
          seen.push(...h.children.map((c) => `{${c.namespace}}${c.localName}`));
          throw new BrokerFault('DK0002', 'unknown sender');
        }),
      ),
    ).toBe('Client.DK0002');
    expect(seen).toEqual(['{urn:h}x', '{urn:h}x']);
  });

  test('a self-closing soap:Header is handed over too, without blocks', () => {
    let blocks = -1;
    gateXml(
      `<s:Envelope xmlns:s="${SOAP}"><s:Header/><s:Body><a/></s:Body></s:Envelope>`,
      DEFAULT_GATE_LIMITS,
      4,
      (h) => {
        blocks = h.children.length;
      },
    );
    expect(blocks).toBe(0);
  });
});
