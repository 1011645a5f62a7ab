import { BrokerFault } from '../../src/errors.js';
import { scanEnvelope } from '../../src/inbound/envelope-scan.js';
import { maskPersonalNumbers } from '../../src/log.js';

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const wrap = (body: string, header = ''): string => `<s:Envelope xmlns:s="${SOAP}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;

function faultOf(xml: string): string {
  try {
    scanEnvelope(xml);
  } catch (error) {
    if (error instanceof BrokerFault) return error.faultCode;
    throw error;
  }
  return 'none';
}

describe('envelope scan', () => {
  test('collects header blocks, the body element and its direct fields', () => {
    const scanned = scanEnvelope(wrap('<m:req xmlns:m="urn:m"><m:brin>25BE</m:brin><m:x><m:brin>no</m:brin></m:x></m:req>', '<a:To xmlns:a="urn:a">t</a:To><a:From xmlns:a="urn:a"><a:Address>f</a:Address></a:From>'));
    expect(scanned.bodyNamespace).toBe('urn:m');
    expect(scanned.bodyLocalName).toBe('req');
    expect(scanned.bodyFields.get('brin')).toBe('25BE');
    expect(scanned.headers.map((h) => [h.localName, h.text, h.children.get('Address')])).toEqual([['To', 't', undefined], ['From', '', 'f']]);
  });

  test.each([
    ['depth 64 is allowed, 65 is not', `${'<a>'.repeat(61)}${'</a>'.repeat(61)}`, 'none'],
    ['depth 65', `${'<a>'.repeat(62)}${'</a>'.repeat(62)}`, 'Client.BB0002'],
    ['32 attributes', `<a ${Array.from({ length: 32 }, (_, i) => `x${i}="1"`).join(' ')}/>`, 'none'],
    ['33 attributes', `<a ${Array.from({ length: 33 }, (_, i) => `x${i}="1"`).join(' ')}/>`, 'Client.BB0002'],
    ['= inside attribute values is not an attribute', `<a x="${'='.repeat(100)}" y='${'='.repeat(100)}'/>`, 'none'],
    ['a 257-character element name', `<${'n'.repeat(257)}/>`, 'Client.BB0002'],
    ['a 257-character attribute name', `<a ${'n'.repeat(257)}="1"/>`, 'Client.BB0002'],
    ['a comment with > and = inside', '<a><!-- a=1 b=2 > c=3 --></a>', 'none'],
  ])('%s', (_name, body, expected) => {
    expect(faultOf(wrap(`<m:req xmlns:m="urn:m">${body}</m:req>`))).toBe(expected);
  });

  test('an empty document is not well-formed', () => {
    expect(faultOf('')).toBe('Client.BB0003');
  });
});

describe('masking personal numbers', () => {
  test('9-digit numbers keep only their last three digits; OINs stay whole', () => {
    expect(maskPersonalNumbers("The value '123456782' is not accepted; OIN 00000001800866472000")).toBe("The value '******782' is not accepted; OIN 00000001800866472000");
  });
});
