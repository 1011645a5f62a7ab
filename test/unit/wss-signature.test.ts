/**
 * The verifier of WS-Security signatures (src/delivery/receipt-signature.ts over src/infra/xml/wss-verifier.ts), held to signatures made by
 * another implementation (xml-crypto's SignedXml) and to the ways a signed message is forged: changed
 * parts, a signed Body moved aside for another (wrapping), an Id used twice, an unsigned header, a stale
 * Timestamp, a token from another CA.
 */
import { X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { verifyEnvelopeSignature } from '../../src/delivery/receipt-signature.js';
import { responseEnvelope } from '../../src/inbound/response-envelope.js';
import { NS } from '../../src/infra/catalogue.js';
import { TrustAnchors } from '../../src/infra/xml/wss-certificates.js';
import { WSS } from '../../src/infra/xml/wss-names.js';
import { EnvelopeSigner, loadSigningMaterial, type SigningMaterial } from '../../src/infra/xml/wss-signer.js';
import { generateTestPki, type TestPki } from '../support/pki.js';
import { BROKER_OIN, OIN_25BE } from '../support/soap.js';

let pki: TestPki;
let broker: SigningMaterial;
let trust: TrustAnchors;
beforeAll(() => {
  pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: '0000000700000AH00000' });
  broker = loadSigningMaterial(pki.broker.key, pki.broker.cert, 'broker');
  trust = new TrustAnchors(pki.ca);
});
afterAll(() => pki.remove());

const BODY = '<t:x_Response xmlns:t="urn:test"><t:a>1 &amp; 2 &apos;x&apos;</t:a><t:b/></t:x_Response>';
const ADDRESSING = {
  action: 'http://duo.nl/contract/X/x',
  messageId: '6f1d8a52-2f55-4c7e-9f0b-6d7f1b3c9a01',
  relatesTo: 'urn:uuid:1b7b3c1e-1111-4111-8111-111111111111',
  fromOin: OIN_25BE,
};
const signed = (): string => responseEnvelope(ADDRESSING, BODY, new EnvelopeSigner(broker));
const reasonOf = (xml: string, at = new Date(), anchors = trust): string => {
  try {
    verifyEnvelopeSignature(xml, anchors, at);
    return 'verified';
  } catch (error) {
    return (error as Error).message;
  }
};

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** How signedByXmlCrypto signs, where a test departs from the profile. */
interface XmlCryptoOptions {
  readonly created?: Date;
  readonly expires?: Date;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
}

/** The same profile signed by xml-crypto over a whole envelope, with ds declared on the Signature. */
function signedByXmlCrypto(options: XmlCryptoOptions = {}): string {
  const now = options.created ?? new Date();
  const expires = options.expires ?? new Date(now.getTime() + 300_000);
  const security =
    `<wsse:Security xmlns:wsse="${NS.wsse}"><wsu:Timestamp wsu:Id="TS-1"><wsu:Created>${now.toISOString()}</wsu:Created>` +
    `<wsu:Expires>${expires.toISOString()}</wsu:Expires></wsu:Timestamp>` +
    `<wsse:BinarySecurityToken EncodingType="${WSS.base64Binary}" ValueType="${WSS.x509v3}" wsu:Id="X509-1">${broker.tokenBase64}</wsse:BinarySecurityToken></wsse:Security>`;
  let xml = responseEnvelope(ADDRESSING, BODY)
    .replace('xmlns:wsa=', `xmlns:wsu="${NS.wsu}" xmlns:wsa=`)
    .replace('<soapenv:Header>', `<soapenv:Header>\n  ${security}\n  `)
    .replace('<soapenv:Body>', '<soapenv:Body wsu:Id="Body-1">');
  for (const name of ['Action', 'MessageID', 'RelatesTo', 'To', 'From'])
    xml = xml.replace(`<wsa:${name}>`, `<wsa:${name} wsu:Id="${name}-1">`);
  const signature = new SignedXml({
    privateKey: broker.key,
    idMode: 'wssecurity',
    signatureAlgorithm: options.signatureAlgorithm ?? WSS.rsaSha256,
    canonicalizationAlgorithm: WSS.excC14n,
    getKeyInfoContent: () =>
      `<wsse:SecurityTokenReference><wsse:Reference URI="#X509-1" ValueType="${WSS.x509v3}"/></wsse:SecurityTokenReference>`,
  });
  signature.addReference({
    xpath: "//*[@wsu:Id][local-name() != 'BinarySecurityToken']",
    transforms: [WSS.excC14n],
    digestAlgorithm: options.digestAlgorithm ?? WSS.sha256,
  });
  signature.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: '/*/*[1]/*[1]', action: 'append' },
    existingPrefixes: { wsse: NS.wsse, wsu: NS.wsu },
  });
  return signature.getSignedXml();
}

test("the broker's own signature verifies, and names the token's OIN", () => {
  expect(verifyEnvelopeSignature(signed(), trust, new Date()).oin).toBe(BROKER_OIN);
});

test('a signature made by xml-crypto verifies (another implementation, other Ids, white space between headers)', () => {
  expect(reasonOf(signedByXmlCrypto())).toBe('verified');
});

test('a changed body value, header value or Timestamp does not verify', () => {
  const xml = signed();
  expect(reasonOf(xml.replace('1 &amp; 2', '1 &amp; 3'))).toMatch(/does not verify/);
  expect(reasonOf(xml.replace(`oin=${OIN_25BE}`, 'oin=00000003999999990000'))).toMatch(/does not verify/);
  expect(reasonOf(xml.replace(/<wsu:Expires>[^<]+/, '<wsu:Expires>2999-01-01T00:00:00Z'))).toMatch(/does not verify/);
  expect(reasonOf(signedByXmlCrypto().replace('1 &amp; 2', '1 &amp; 3'))).toMatch(/does not verify/);
});

test('wrapping: the signed Body moved into a header and another Body put in its place is refused', () => {
  const xml = signed();
  const body = /<soapenv:Body wsu:Id="id-Body">[\s\S]*<\/soapenv:Body>/.exec(xml)![0];
  const wrapped = xml
    .replace(body, '<soapenv:Body><t:x_Response xmlns:t="urn:test"><t:a>forged</t:a></t:x_Response></soapenv:Body>')
    .replace('</soapenv:Header>', `<t:wrapper xmlns:t="urn:test">${body}</t:wrapper></soapenv:Header>`);
  expect(reasonOf(wrapped)).toBe('soap:Body is not signed');
  const twice = xml.replace('</soapenv:Header>', `<t:wrapper xmlns:t="urn:test" wsu:Id="id-Body"/></soapenv:Header>`);
  expect(reasonOf(twice)).toBe('a reference names more than one element');
});

test('an unsigned wsa header, no Security header, a stale Timestamp or an untrusted token is refused', () => {
  const xml = signed();
  const extra = xml.replace(
    '</soapenv:Header>',
    `<wsa:ReplyTo xmlns:wsa="${NS.wsa}"><wsa:Address>http://elsewhere</wsa:Address></wsa:ReplyTo></soapenv:Header>`,
  );
  expect(reasonOf(extra)).toBe('wsa:ReplyTo is not signed');
  expect(reasonOf(responseEnvelope(ADDRESSING, BODY))).toBe('no wsse:Security header');
  expect(reasonOf(xml, new Date(Date.now() + 11 * 60_000))).toBe('wsu:Timestamp has expired');
  expect(reasonOf(xml, new Date(Date.now() - 6 * 60_000))).toBe('wsu:Timestamp is in the future');
  const rogue = new EnvelopeSigner(loadSigningMaterial(pki.untrusted.key, pki.untrusted.cert, 'rogue'));
  expect(reasonOf(responseEnvelope(ADDRESSING, BODY, rogue))).toBe(
    'the token is not a valid certificate from a trusted CA',
  );
  // The test CA's own certificate (trusted, an EC key) put in as the token: no RSA signature can be its.
  const caToken = new X509Certificate(pki.ca).raw.toString('base64');
  expect(reasonOf(xml.replace(broker.tokenBase64, caToken))).toBe("the token's key is not RSA");
  expect(reasonOf(xml.replace('URI="#id-X509Token"', 'URI="#elsewhere"'))).toBe(
    'the SecurityTokenReference names no one token',
  );
});

test('receipts are held to the request rules: SHA-512, a stale Created, a second signature are refused', () => {
  expect(reasonOf(signedByXmlCrypto({ signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512' }))).toBe(
    'an algorithm is not exclusive C14N, RSA-SHA256 or SHA-256',
  );
  expect(reasonOf(signedByXmlCrypto({ digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha512' }))).toBe(
    'an algorithm is not exclusive C14N, RSA-SHA256 or SHA-256',
  );
  // An Expires an hour after Created no longer keeps a receipt current: 300 s + five minutes of skew do.
  const created = new Date();
  const longLived = signedByXmlCrypto({ created, expires: new Date(created.getTime() + 3_600_000) });
  expect(reasonOf(longLived, new Date(created.getTime() + 9 * 60_000))).toBe('verified');
  expect(reasonOf(longLived, new Date(created.getTime() + 11 * 60_000))).toBe('wsu:Timestamp has expired');
  // A second ds:Signature outside the Security header (a copy): the message must hold exactly one.
  const xml = signed();
  const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0];
  const twice = xml.replace(
    '</soapenv:Header>',
    `<t:extra xmlns:t="urn:test" xmlns:ds="${DSIG}" xmlns:wsse="${NS.wsse}">${signature}</t:extra></soapenv:Header>`,
  );
  expect(reasonOf(twice)).toBe('the wsse:Security header or ds:Signature is not as the signing profile requires');
});
