/**
 * The WS-Security verifier on its own (src/inbound/wss/ws-security.ts over src/infra/xml/wss-verifier.ts): the rules the integration test does not
 * reach through a broker, each with the fault element it names.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Revocations } from '../../src/inbound/wss/revocations.js';
import { verifyWsSecurity, type WsSecurityOutcome } from '../../src/inbound/wss/ws-security.js';
import { BrokerFault } from '../../src/infra/errors.js';
import { openSoapEnvelope } from '../../src/infra/xml/soap-envelope.js';
import { parseTrustAnchors, SigningCertificates } from '../../src/infra/xml/wss-certificates.js';
import { checkTimestamp } from '../../src/infra/xml/wss-timestamp.js';
import { generateTestPki, type TestPki } from '../support/pki.js';
import { BROKER_OIN, bodyFixture, OIN_25BE } from '../support/soap.js';
import {
  issueSigningCertificate,
  revokeCertificate,
  type SigningCredentials,
  type SignOptions,
  signEnvelope,
  TOKEN_ID,
  wssEnvelope,
} from '../support/wss-sign.js';

const INSCHRIJVING = 'aanleverenInschrijvingVO';
let pki: TestPki;
let signer: SigningCredentials;
let certificates: SigningCertificates;

beforeAll(() => {
  pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: '0000000700000AH00000' });
  signer = issueSigningCertificate(pki, 'unit-signer', 'unit signer 25BE', OIN_25BE);
  certificates = new SigningCertificates(parseTrustAnchors(pki.ca));
});

afterAll(() => pki?.remove());

const body = (): string => bodyFixture('valid/aanleverenInschrijvingVO.xml');
const signedXml = (options: SignOptions = {}, edit: (xml: string) => string = (xml) => xml): string =>
  signEnvelope(edit(wssEnvelope(INSCHRIJVING, body(), signer, options)), signer, options);

function verify(
  xml: string,
  policy: Partial<{ required: boolean; certificates: SigningCertificates; now: Date }> = {},
): WsSecurityOutcome {
  const envelope = openSoapEnvelope(xml);
  try {
    return verifyWsSecurity(envelope, OIN_25BE, { required: false, certificates, now: new Date(), ...policy });
  } finally {
    envelope.dispose();
  }
}

/** The EK0031 fault verifying throws, as `element: reason`. */
function refusal(xml: string, policy: Parameters<typeof verify>[1] = {}): string {
  try {
    verify(xml, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerFault);
    expect((error as BrokerFault).code).toBe('EK0031');
    return `${(error as BrokerFault).element}: ${(error as BrokerFault).reason}`;
  }
  throw new Error('verified');
}

describe('accepted', () => {
  test('signed as a LAS signs it: signed, with a digest of the signature value', () => {
    const outcome = verify(signedXml());
    expect(outcome).toEqual({ signed: true, signatureDigest: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) });
  });

  test('an unsigned request where signing is not required', () => {
    const xml = wssEnvelope(INSCHRIJVING, body(), signer).replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, '');
    expect(verify(xml)).toEqual({ signed: false });
    expect(refusal(xml, { required: true })).toMatch(/^Security: this sender must sign/);
  });

  test('the token signed as well', () => {
    expect(verify(signedXml({ extraReferences: [TOKEN_ID] })).signed).toBe(true);
  });

  test('references with an InclusiveNamespaces PrefixList: canonicalised with those prefixes', () => {
    expect(verify(signedXml({ inclusivePrefixes: ['soapenv', 'wsu'] })).signed).toBe(true);
  });

  test('the identical request gives the identical replay digest, a re-signed one another', () => {
    const xml = signedXml();
    expect(verify(xml)).toEqual(verify(xml));
    expect(verify(signedXml())).not.toEqual(verify(xml));
  });

  test('the same signature spelled otherwise in base64 (line breaks, unused bits) gives the same replay digest', () => {
    const xml = signedXml();
    const value = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(xml)![1]!;
    expect(value).toMatch(/[A-Za-z0-9+/]==$/); // 256 bytes: the last character carries 4 unused bits
    const last = value.at(-3)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const respelled = alphabet[alphabet.indexOf(last) ^ 0b0001]!;
    const other = `${value.slice(0, 40)}\n${value.slice(40, -3)}${respelled}==`;
    const replayed = xml.replace(value, other);
    expect(replayed).not.toBe(xml);
    expect(verify(replayed)).toEqual(verify(xml));
  });
});

describe('refused with EK0031', () => {
  test('inclusive C14N for SignedInfo', () => {
    expect(refusal(signedXml({ canonicalization: 'inclusive' }))).toMatch(/^CanonicalizationMethod: /);
  });

  test('an enveloped-signature transform before exclusive C14N', () => {
    const transforms = [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ];
    expect(refusal(signedXml({ transforms }))).toMatch(/^Transform: /);
  });

  test('two wsse:Security headers', () => {
    const xml = signedXml().replace(
      '</soapenv:Header>',
      '<wsse:Security><wsu:Timestamp><wsu:Created>2026-01-01T00:00:00Z</wsu:Created></wsu:Timestamp></wsse:Security></soapenv:Header>',
    );
    expect(refusal(xml)).toMatch(/^Security: more than one/);
  });

  test('a second ds:Signature elsewhere in the message', () => {
    const xml = signedXml();
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0];
    const twice = xml.replace(
      '</soapenv:Header>',
      `<wsa:ReplyTo><wsa:Address>${signature}</wsa:Address></wsa:ReplyTo></soapenv:Header>`,
    );
    expect(refusal(twice)).toMatch(/^Signature: the request must hold exactly one ds:Signature/);
  });

  test('another element in wsse:Security', () => {
    const xml = signedXml({}, (unsigned) =>
      unsigned.replace(
        '</wsse:Security>',
        '<wsse:UsernameToken><wsse:Username>x</wsse:Username></wsse:UsernameToken></wsse:Security>',
      ),
    );
    expect(refusal(xml)).toMatch(/^UsernameToken: /);
  });

  test('KeyInfo that refers to something else than the token', () => {
    const xml = signedXml().replace(`<wsse:Reference URI="#${TOKEN_ID}"`, '<wsse:Reference URI="#elsewhere"');
    expect(refusal(xml)).toMatch(/^KeyInfo: /);
  });

  test('a reference to an element inside the body', () => {
    const xml = signedXml({ extraReferences: ['id-inner'] }, (unsigned) =>
      unsigned.replace('<bas:brin>', '<bas:brin wsu:Id="id-inner">'),
    );
    expect(refusal(xml)).toMatch(/^Reference: Reference #id-inner is not the Body/);
  });

  test('a WS-Addressing header that is sent but not signed (ReplyTo)', () => {
    const xml = signedXml({}, (unsigned) =>
      unsigned.replace('</soapenv:Header>', '<wsa:ReplyTo><wsa:Address>x</wsa:Address></wsa:ReplyTo></soapenv:Header>'),
    );
    expect(refusal(xml)).toMatch(/^ReplyTo: ReplyTo is not signed/);
  });

  test('a wsa header changed after signing', () => {
    const original = signedXml();
    const xml = original.replace(/(<wsa:MessageID wsu:Id="id-messageid">)[^<]+/, `$1urn:uuid:${randomUUID()}`);
    expect(xml).not.toBe(original);
    expect(refusal(xml)).toMatch(/^MessageID: MessageID was changed after signing/);
  });

  test('SignedInfo changed after signing (a digest swapped)', () => {
    const xml = signedXml().replace(/<ds:DigestValue>[^<]+<\/ds:DigestValue>/, '<ds:DigestValue>AAAA</ds:DigestValue>');
    expect(refusal(xml)).toMatch(/^Signature: the signature does not verify/);
  });

  test('no trusted CA (TLS off): a signed request cannot be verified', () => {
    expect(refusal(signedXml(), { certificates: new SigningCertificates([]) })).toMatch(
      /^BinarySecurityToken: the broker has no trusted CA/,
    );
  });

  test('a certificate checked before is still refused once it has expired', () => {
    const xml = signedXml();
    expect(verify(xml).signed).toBe(true);
    const later = new Date(Date.now() + 40 * 86_400_000);
    expect(refusal(signedXml({ created: later }), { now: later })).toMatch(/^BinarySecurityToken: .*expired/);
  });

  test('a signing certificate with a 1024-bit RSA key', () => {
    const weak = issueSigningCertificate(pki, 'unit-weak', 'weak signer 25BE', OIN_25BE, { bits: 1024 });
    const xml = signEnvelope(wssEnvelope(INSCHRIJVING, body(), weak), weak);
    expect(refusal(xml)).toMatch(/^BinarySecurityToken: .*shorter than 2048 bits/);
  });

  test('a signing certificate revoked by a CRL of TLS_CRL_FILE; the others still pass', async () => {
    const revoked = issueSigningCertificate(pki, 'unit-revoked', 'revoked signer 25BE', OIN_25BE);
    const anchors = parseTrustAnchors(pki.ca);
    const withCrl = new SigningCertificates(
      anchors,
      await Revocations.fromPem(revokeCertificate(pki, revoked), anchors),
    );
    const xml = signEnvelope(wssEnvelope(INSCHRIJVING, body(), revoked), revoked);
    expect(verify(xml).signed).toBe(true); // without the CRL
    expect(refusal(xml, { certificates: withCrl })).toMatch(/^BinarySecurityToken: .*is revoked \(TLS_CRL_FILE\)/);
    expect(verify(signedXml(), { certificates: withCrl }).signed).toBe(true);
  });

  test('a CRL that no trusted CA signed stops the start', async () => {
    const rogue = issueSigningCertificate(pki, 'unit-rogue', 'rogue signer', OIN_25BE, { ca: 'rogue' });
    const crl = revokeCertificate(pki, rogue, 'rogue');
    await expect(Revocations.fromPem(crl, parseTrustAnchors(pki.ca))).rejects.toThrow(
      /^TLS_CRL_FILE: a CRL cannot be used for signing certificates: CRL not signed by a CA in TLS_CA_FILE$/,
    );
  });

  test('a CRL block that holds no CRL stops the start', async () => {
    const junk = Buffer.from(
      `-----BEGIN X509 CRL-----\n${Buffer.from('no crl here').toString('base64')}\n-----END X509 CRL-----\n`,
    );
    await expect(Revocations.fromPem(junk, parseTrustAnchors(pki.ca))).rejects.toThrow(
      /^TLS_CRL_FILE: a CRL cannot be used for signing certificates: not a CRL$/,
    );
  });

  test('a token that is not base64, or no certificate', () => {
    const notBase64 = signedXml().replace(/(<wsse:BinarySecurityToken[^>]*>)[^<]+/, '$1not*base64');
    expect(refusal(notBase64)).toMatch(/^BinarySecurityToken: the BinarySecurityToken is not base64/);
    const noCertificate = signedXml().replace(/(<wsse:BinarySecurityToken[^>]*>)[^<]+/, '$1AAAA');
    expect(refusal(noCertificate)).toMatch(/^BinarySecurityToken: the BinarySecurityToken holds no X.509/);
  });
});

describe('the timestamp window', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  const at = (offsetSeconds: number): string => new Date(now.getTime() + offsetSeconds * 1000).toISOString();
  const check = (created: string | undefined, expires?: string) => () => checkTimestamp(created, expires, now);

  test('Created up to 60 s ahead and up to 360 s old passes; a second beyond either is refused', () => {
    expect(check(at(60))).not.toThrow();
    expect(check(at(61))).toThrow(/future/);
    expect(check(at(-360))).not.toThrow();
    expect(check(at(-361))).toThrow(/stale/);
  });

  test('Expires passed by up to 60 s passes; beyond, or not after Created, is refused', () => {
    expect(check(at(-200), at(-60))).not.toThrow();
    expect(check(at(-200), at(-61))).toThrow(/has passed/);
    expect(check(at(0), at(0))).toThrow(/not after/);
  });

  test('no Created, or a time without a zone, is refused', () => {
    expect(check(undefined)).toThrow(/no wsu:Created/);
    expect(check('2026-12-03T10:00:00')).toThrow(/xsd:dateTime with a zone/);
  });
});
