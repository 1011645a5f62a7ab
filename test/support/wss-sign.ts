/**
 * Signs a LAS request the way a LAS does for WS-Security (docs/security.md): a wsse:Security header with
 * a wsu:Timestamp, an X.509 BinarySecurityToken and a ds:Signature (exclusive C14N, RSA-SHA256) over the
 * Body, the Timestamp and every WS-Addressing header, signed with xml-crypto. Also issues the RSA signing
 * certificates it needs from the test PKI's CAs, and signs with xmlsec1 for a cross-check.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignedXml } from 'xml-crypto';
import type { Credentials, TestPki } from './pki.js';
import { ANONYMOUS, actionOf, BROKER_OIN, CONTRACT_OF, defaultSenderOin } from './soap.js';

export const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
const BASE64 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ALGORITHMS = {
  sha256: {
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  },
  sha1: { digest: 'http://www.w3.org/2000/09/xmldsig#sha1', signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' },
} as const;

/** Where a signing certificate and its key are (RSA, as RSA-SHA256 needs). */
export type SigningCredentials = Credentials;

export interface SignOptions {
  /** wsu:Created; default now. */
  created?: Date;
  /** Seconds from Created to wsu:Expires; default 300. */
  ttlSeconds?: number;
  /** Digest and signature algorithms; default sha256. */
  digest?: keyof typeof ALGORITHMS;
  signature?: keyof typeof ALGORITHMS;
  messageId?: string;
  /** The OIN in wsa:From; default the operation's default sender. */
  fromOin?: string;
  /** Elements (by wsu:Id) left out of the signature's references. */
  unsigned?: readonly string[];
  /** wsu:Id → a second reference to it. */
  extraReferences?: readonly string[];
  /** SignedInfo's canonicalisation; default exclusive. */
  canonicalization?: 'exclusive' | 'inclusive';
  /** InclusiveNamespaces PrefixList of every reference's transform. */
  inclusivePrefixes?: readonly string[];
  /** The transforms of every reference; default exclusive C14N alone. */
  transforms?: readonly string[];
}

const ids = { To: 'id-to', Action: 'id-action', MessageID: 'id-messageid', From: 'id-from' } as const;
export const BODY_ID = 'id-body';
export const TIMESTAMP_ID = 'TS-1';
export const TOKEN_ID = 'X509-1';

/** The certificate's DER as base64, for the BinarySecurityToken. */
const base64Der = (pem: Buffer): string =>
  pem
    .toString('latin1')
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');

const xsdDateTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An unsigned envelope with wsu:Ids on the headers and the Body, and a Security header holding Timestamp and token. */
export function wssEnvelope(
  operation: string,
  body: string,
  signer: SigningCredentials,
  options: SignOptions = {},
): string {
  const created = options.created ?? new Date();
  const expires = new Date(created.getTime() + (options.ttlSeconds ?? 300) * 1000);
  const fromOin = options.fromOin ?? defaultSenderOin(operation);
  const header = (name: keyof typeof ids, content: string): string =>
    `<wsa:${name} wsu:Id="${ids[name]}">${content}</wsa:${name}>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}">` +
    '<soapenv:Header>' +
    header('To', `${ANONYMOUS}?oin=${BROKER_OIN}`) +
    header('Action', actionOf(operation)) +
    header('MessageID', options.messageId ?? `urn:uuid:${randomUUID()}`) +
    header('From', `<wsa:Address>${ANONYMOUS}?oin=${fromOin}</wsa:Address>`) +
    '<wsse:Security soapenv:mustUnderstand="1">' +
    `<wsu:Timestamp wsu:Id="${TIMESTAMP_ID}"><wsu:Created>${xsdDateTime(created)}</wsu:Created><wsu:Expires>${xsdDateTime(expires)}</wsu:Expires></wsu:Timestamp>` +
    `<wsse:BinarySecurityToken EncodingType="${BASE64}" ValueType="${X509V3}" wsu:Id="${TOKEN_ID}">${base64Der(signer.cert)}</wsse:BinarySecurityToken>` +
    '</wsse:Security>' +
    `</soapenv:Header><soapenv:Body wsu:Id="${BODY_ID}">${body}</soapenv:Body></soapenv:Envelope>`
  );
}

/** Signs an envelope from wssEnvelope with xml-crypto: the Signature is appended to wsse:Security. */
export function signEnvelope(xml: string, signer: SigningCredentials, options: SignOptions = {}): string {
  const algorithms = ALGORITHMS[options.signature ?? 'sha256'];
  const digestAlgorithm = ALGORITHMS[options.digest ?? 'sha256'].digest;
  const sig = new SignedXml({
    privateKey: signer.key,
    signatureAlgorithm: algorithms.signature,
    canonicalizationAlgorithm:
      options.canonicalization === 'inclusive' ? 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' : EXC_C14N,
    getKeyInfoContent: () =>
      `<wsse:SecurityTokenReference><wsse:Reference URI="#${TOKEN_ID}" ValueType="${X509V3}"/></wsse:SecurityTokenReference>`,
  });
  const signed = [...Object.values(ids), TIMESTAMP_ID, BODY_ID, ...(options.extraReferences ?? [])];
  for (const id of signed) {
    if (options.unsigned?.includes(id)) continue;
    sig.addReference({
      xpath: `//*[@*[local-name(.)='Id']='${id}']`,
      transforms: options.transforms ?? [EXC_C14N],
      digestAlgorithm,
      uri: `#${id}`,
      inclusiveNamespacesPrefixList: [...(options.inclusivePrefixes ?? [])],
    });
  }
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: "//*[local-name(.)='Security']", action: 'append' },
    existingPrefixes: { wsse: WSSE },
  });
  return sig.getSignedXml();
}

/** A complete signed LAS request: body, envelope with WS-Security, HTTP SOAPAction. */
export function signedLasRequest(
  operation: string,
  body: string,
  signer: SigningCredentials,
  options: SignOptions = {},
): { path: string; soapAction: string; xml: string } {
  return {
    path: `/vo-webservices/${CONTRACT_OF[operation]}`,
    soapAction: `"${actionOf(operation)}"`,
    xml: signEnvelope(wssEnvelope(operation, body, signer, options), signer, options),
  };
}

/**
 * Issues an RSA signing certificate (OIN in the subject's serialNumber) from one of the test PKI's CAs:
 * `root` (trusted) or `rogue` (untrusted). `dates` are openssl ca's -startdate/-enddate or -days.
 */
export function issueSigningCertificate(
  pki: TestPki,
  file: string,
  name: string,
  oin: string,
  options: { ca?: 'root' | 'rogue'; dates?: string[]; bits?: number } = {},
): SigningCredentials {
  const dir = path.join(pki.dir, options.ca ?? 'root');
  const base = path.join(dir, file);
  const config = path.join(dir, 'openssl.cnf');
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (!fs.existsSync(config)) {
    // The untrusted CA of pki.ts has no config of its own: borrow the root's, pointed at this directory.
    fs.writeFileSync(
      config,
      fs.readFileSync(path.join(pki.dir, 'root', 'openssl.cnf'), 'utf8').replaceAll(path.join(pki.dir, 'root'), dir),
    );
  }
  const subject = `/C=NL/O=${name}/serialNumber=${oin}/CN=${name}`;
  run([
    'req',
    '-new',
    '-newkey',
    `rsa:${options.bits ?? 2048}`,
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
    '-subj',
    subject,
    '-config',
    config,
  ]);
  run([
    'ca',
    '-batch',
    '-config',
    config,
    '-extensions',
    'leaf',
    '-notext',
    '-in',
    `${base}.csr`,
    '-out',
    `${base}.pem`,
    ...(options.dates ?? ['-days', '30']),
  ]);
  return {
    certFile: `${base}.pem`,
    keyFile: `${base}.key`,
    cert: fs.readFileSync(`${base}.pem`),
    key: fs.readFileSync(`${base}.key`),
  };
}

/**
 * Revokes a certificate of one of the test PKI's CAs and writes that CA's CRL anew: to `out`, or for the
 * root to the PKI's CRL file (TLS_CRL_FILE). Returns the CRL (PEM).
 */
export function revokeCertificate(pki: TestPki, credentials: Credentials, ca: 'root' | 'rogue' = 'root'): Buffer {
  const config = path.join(pki.dir, ca, 'openssl.cnf');
  const out = ca === 'root' ? pki.crlFile : path.join(pki.dir, ca, 'crl.pem');
  for (const args of [
    ['ca', '-batch', '-config', config, '-revoke', credentials.certFile],
    ['ca', '-batch', '-config', config, '-gencrl', '-out', out],
  ])
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return fs.readFileSync(out);
}

/**
 * Signs an envelope from wssEnvelope with the xmlsec1 command instead of xml-crypto: a signature
 * template with the same references, filled in by xmlsec1 (`--id-attr` tells it which attributes are ids).
 */
export function signWithXmlsec1(
  xml: string,
  signer: SigningCredentials,
  workDir: string,
  /** InclusiveNamespaces PrefixLists, as WSS4J writes them: on SignedInfo's canonicalisation and on each transform. */
  prefixes: { signedInfo?: string; references?: string } = {},
): string {
  const inclusive = (list: string | undefined): string =>
    list ? `<ec:InclusiveNamespaces xmlns:ec="${EXC_C14N}" PrefixList="${list}"/>` : '';
  const references = [...Object.values(ids), TIMESTAMP_ID, BODY_ID]
    .map(
      (id) =>
        `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${EXC_C14N}">${inclusive(prefixes.references)}</ds:Transform></ds:Transforms>` +
        `<ds:DigestMethod Algorithm="${ALGORITHMS.sha256.digest}"/><ds:DigestValue/></ds:Reference>`,
    )
    .join('');
  const template =
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' +
    `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}">${inclusive(prefixes.signedInfo)}</ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="${ALGORITHMS.sha256.signature}"/>` +
    `${references}</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><wsse:SecurityTokenReference>` +
    `<wsse:Reference URI="#${TOKEN_ID}" ValueType="${X509V3}"/></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>`;
  const input = path.join(workDir, `xmlsec-${randomUUID()}.xml`);
  fs.writeFileSync(input, xml.replace('</wsse:Security>', `${template}</wsse:Security>`));
  const idAttributes = [
    ['http://www.w3.org/2005/08/addressing', ['To', 'Action', 'MessageID', 'From']],
    [WSU, ['Timestamp']],
    ['http://schemas.xmlsoap.org/soap/envelope/', ['Body']],
  ].flatMap(([namespace, names]) =>
    (names as string[]).flatMap((name) => ['--id-attr:Id', `${namespace as string}:${name}`]),
  );
  try {
    return execFileSync('xmlsec1', ['--sign', '--privkey-pem', signer.keyFile, ...idAttributes, input], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } finally {
    fs.rmSync(input, { force: true });
  }
}
