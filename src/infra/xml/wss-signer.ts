import { createHash, createPrivateKey, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { ParseOption, XmlC14NMode, XmlDocument } from 'libxml2-wasm';
import { NS } from '../catalogue.js';
import { StartupError } from '../startup-failure.js';
import { WSS } from './wss-names.js';

/** The broker's signing key and certificate, parsed once at start-up. */
export interface SigningMaterial {
  readonly key: KeyObject;
  readonly certificate: X509Certificate;
  /** The certificate's DER in base64: the BinarySecurityToken's text. */
  readonly tokenBase64: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/;

/**
 * Parses the key and the first certificate of the PEM chain and checks that they belong together and
 * that the key is RSA (Digikoppeling signs with RSA-SHA256), so a wrong file stops the start with one line.
 */
export function loadSigningMaterial(keyPem: Buffer, certPem: Buffer, settings: string): SigningMaterial {
  let key: KeyObject;
  let certificate: X509Certificate;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new StartupError(`${settings}: the key cannot be read: ${(error as Error).message}`);
  }
  const first = PEM_CERTIFICATE.exec(certPem.toString('latin1'))?.[0];
  try {
    if (!first) throw new Error('no PEM certificate in it');
    certificate = new X509Certificate(first);
  } catch (error) {
    throw new StartupError(`${settings}: the certificate cannot be read: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new StartupError(`${settings}: the signing key must be RSA (RSA-SHA256), not ${key.asymmetricKeyType}`);
  if (!certificate.checkPrivateKey(key))
    throw new StartupError(`${settings}: the key does not belong to the certificate`);
  return { key, certificate, tokenBase64: certificate.raw.toString('base64') };
}

/** How long a signed message's Timestamp says it is fresh. */
export const SIGNATURE_LIFETIME_SECONDS = 300;

/** A WS-Addressing header block of an envelope the broker writes; `From` holds its value in a wsa:Address. */
export interface AddressingHeader {
  readonly name: 'To' | 'Action' | 'MessageID' | 'RelatesTo' | 'From';
  readonly value: string;
}

/** Text escaped as Canonical XML writes it (so the same string is both sent and digested). */
const C14N_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const canonicalText = (value: string): string => value.replace(/[&<>\r]/g, (char) => C14N_TEXT[char]!);

const TOKEN_ID = 'id-X509Token';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const WSA_WSU = `xmlns:wsa="${NS.wsa}" xmlns:wsu="${NS.wsu}"`;
const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

/** The canonical form of a signed wsa header (exclusive C14N of the element, namespaces on it). */
function addressingElement({ name, value }: AddressingHeader): string {
  const content = name === 'From' ? `<wsa:Address>${canonicalText(value)}</wsa:Address>` : canonicalText(value);
  return `<wsa:${name} ${WSA_WSU} wsu:Id="id-${name}">${content}</wsa:${name}>`;
}

/**
 * The soap:Body with this content, in exclusive C14N (libxml2's, as xmlsec uses), parsed from the
 * broker's own body text: the content may use the soapenv prefix (a Fault does).
 */
function canonicalBody(content: string): string {
  const doc = XmlDocument.fromString(
    `<soapenv:Body xmlns:soapenv="${NS.soap11}" xmlns:wsu="${NS.wsu}" wsu:Id="id-Body">${content}</soapenv:Body>`,
    { option: PARSE_OPTIONS },
  );
  try {
    // The whole document (its root is the Body): no per-node visibility callback into JavaScript.
    return doc.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 });
  } finally {
    doc.dispose();
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * Signs the broker's own SOAP envelopes (receipts, pushes) as WS-Security 1.0 with an X.509 token: a
 * wsse:Security header with a wsu:Timestamp (now, +300 s), the broker's certificate as
 * BinarySecurityToken, and a ds:Signature (exclusive C14N, RSA-SHA256, SHA-256 digests) over the
 * Timestamp, every wsa header and the Body, whose KeyInfo refers to the token.
 *
 * The header elements are written in their canonical form, so the bytes sent are the bytes digested;
 * the body is sent as built and digested in the canonical form libxml2 gives it (exclusive C14N does
 * not depend on the Body's ancestors). No parse of the envelope, and no xml-crypto: its SignedXml
 * costs ~5 times as much (bench:wss). What stays the same between messages (the parsed key, the token,
 * the KeyInfo, the SignedInfo's algorithm parts) is built once. Receivers verify it as any WS-Security
 * signature (test/integration/wss-signing.test.ts checks it with xml-crypto and with xmlsec1).
 */
export class EnvelopeSigner {
  private readonly tokenElement: string;
  private readonly keyInfo: string;

  constructor(
    private readonly material: SigningMaterial,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.tokenElement =
      `<wsse:BinarySecurityToken EncodingType="${WSS.base64Binary}" ValueType="${WSS.x509v3}" wsu:Id="${TOKEN_ID}">` +
      `${material.tokenBase64}</wsse:BinarySecurityToken>`;
    this.keyInfo =
      `<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#${TOKEN_ID}" ValueType="${WSS.x509v3}"/>` +
      '</wsse:SecurityTokenReference></ds:KeyInfo>';
  }

  /** The signed envelope around these headers and this body element; a new Timestamp (and signature) every call. */
  envelope(headers: readonly AddressingHeader[], bodyXml: string): string {
    const created = this.now();
    const expires = new Date(created.getTime() + SIGNATURE_LIFETIME_SECONDS * 1000);
    const timestamp =
      `<wsu:Timestamp xmlns:wsu="${NS.wsu}" wsu:Id="id-Timestamp"><wsu:Created>${isoSeconds(created)}</wsu:Created>` +
      `<wsu:Expires>${isoSeconds(expires)}</wsu:Expires></wsu:Timestamp>`;
    const addressing = headers.map(addressingElement);
    const parts: [string, string][] = [
      ['id-Timestamp', timestamp],
      ...headers.map((h, i): [string, string] => [`id-${h.name}`, addressing[i]!]),
      ['id-Body', canonicalBody(bodyXml)],
    ];
    const signedInfo =
      `<ds:SignedInfo xmlns:ds="${DS}"><ds:CanonicalizationMethod Algorithm="${WSS.excC14n}"></ds:CanonicalizationMethod>` +
      `<ds:SignatureMethod Algorithm="${WSS.rsaSha256}"></ds:SignatureMethod>` +
      parts
        .map(
          ([id, canonical]) =>
            `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${WSS.excC14n}"></ds:Transform></ds:Transforms>` +
            `<ds:DigestMethod Algorithm="${WSS.sha256}"></ds:DigestMethod><ds:DigestValue>${sha256(canonical)}</ds:DigestValue></ds:Reference>`,
        )
        .join('') +
      '</ds:SignedInfo>';
    const signatureValue = sign('sha256', Buffer.from(signedInfo, 'utf8'), this.material.key).toString('base64');
    const security =
      `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">${timestamp}${this.tokenElement}` +
      `<ds:Signature xmlns:ds="${DS}">${signedInfo}<ds:SignatureValue>${signatureValue}</ds:SignatureValue>${this.keyInfo}</ds:Signature>` +
      '</wsse:Security>';
    return (
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${NS.soap11}" ${WSA_WSU}>` +
      `<soapenv:Header>${security}${addressing.join('')}</soapenv:Header>` +
      // The body as built: its exclusive C14N here is the one digested (the Envelope declares soapenv and wsu).
      `<soapenv:Body wsu:Id="id-Body">${bodyXml}</soapenv:Body></soapenv:Envelope>`
    );
  }
}

/** xs:dateTime in UTC to the second, as WS-Security timestamps are usually written. */
const isoSeconds = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;
