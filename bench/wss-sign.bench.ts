/**
 * bench:wss — what WS-Security costs per message, as CPU time of this process (steadier than wall time
 * on a shared machine): a receipt envelope unsigned, signed by the broker's signer, and signed the
 * straightforward way with xml-crypto's SignedXml (parse, XPath, canonicalise, serialise) for comparison;
 * the RSA-2048 signature alone; and verifying a signed receipt as the deliverer does for institutions
 * with verify_receipt_signature. Keys come from a throw-away test PKI (RSA-2048 leaves).
 *
 * Environment: BENCH_ITERATIONS (2000 per round; three rounds, the median is printed).
 */
import { randomUUID, sign } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { verifyEnvelopeSignature } from '../src/delivery/receipt-signature.js';
import { receiptBody } from '../src/inbound/receipt.js';
import { responseEnvelope } from '../src/inbound/response-envelope.js';
import { INBOUND_CONTRACTS, NS } from '../src/infra/catalogue.js';
import { TrustAnchors } from '../src/infra/xml/wss-certificates.js';
import { WSS } from '../src/infra/xml/wss-names.js';
import { EnvelopeSigner, loadSigningMaterial } from '../src/infra/xml/wss-signer.js';
import { generateTestPki } from '../test/support/pki.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const contract = INBOUND_CONTRACTS[0]!;
const operation = contract.operations[0]!;

function receipt(signer?: EnvelopeSigner): string {
  const body = receiptBody(operation, contract.schemaNamespace, {
    receiptId: randomUUID(),
    receiptAt: new Date(),
    verzendendeInstantie: 'DUO',
    ontvangendeInstantie: '25BE',
  });
  return responseEnvelope(
    {
      action: operation.action,
      messageId: randomUUID(),
      relatesTo: `urn:uuid:${randomUUID()}`,
      to: 'http://www.w3.org/2005/08/addressing/anonymous?oin=0000000700025BE00000',
      fromOin: '00000001800866472000',
    },
    body,
    signer,
  );
}

/** The same signature made the usual way: xml-crypto over the whole envelope, with its Ids put in by text. */
function xmlCryptoSigned(material: ReturnType<typeof loadSigningMaterial>): string {
  const now = new Date();
  const security =
    `<wsse:Security xmlns:wsse="${NS.wsse}"><wsu:Timestamp wsu:Id="id-Timestamp"><wsu:Created>${now.toISOString()}</wsu:Created>` +
    `<wsu:Expires>${new Date(now.getTime() + 300_000).toISOString()}</wsu:Expires></wsu:Timestamp>` +
    `<wsse:BinarySecurityToken EncodingType="${WSS.base64Binary}" ValueType="${WSS.x509v3}" wsu:Id="id-X509Token">${material.tokenBase64}</wsse:BinarySecurityToken></wsse:Security>`;
  let xml = receipt()
    .replace('xmlns:wsa=', `xmlns:wsu="${NS.wsu}" xmlns:wsa=`)
    .replace('<soapenv:Header>', `<soapenv:Header>${security}`)
    .replace('<soapenv:Body>', '<soapenv:Body wsu:Id="id-Body">');
  for (const name of ['Action', 'MessageID', 'RelatesTo', 'To', 'From'])
    xml = xml.replace(`<wsa:${name}>`, `<wsa:${name} wsu:Id="id-${name}">`);
  const signature = new SignedXml({
    privateKey: material.key,
    idMode: 'wssecurity',
    signatureAlgorithm: WSS.rsaSha256,
    canonicalizationAlgorithm: WSS.excC14n,
    getKeyInfoContent: () =>
      `<wsse:SecurityTokenReference><wsse:Reference URI="#id-X509Token" ValueType="${WSS.x509v3}"/></wsse:SecurityTokenReference>`,
  });
  signature.addReference({
    xpath: "//*[@wsu:Id][local-name() != 'BinarySecurityToken']",
    transforms: [WSS.excC14n],
    digestAlgorithm: WSS.sha256,
  });
  signature.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: '/*/*[1]/*[1]', action: 'append' },
    existingPrefixes: { wsse: NS.wsse, wsu: NS.wsu },
  });
  return signature.getSignedXml();
}

/** CPU microseconds per call of `work`: the median of three rounds. */
function cpuPerCall(work: () => unknown, iterations = ITERATIONS): number {
  for (let i = 0; i < Math.min(200, iterations); i++) work(); // warm up
  const rounds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < iterations; i++) work();
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / iterations);
  }
  return rounds.sort((a, b) => a - b)[1]!;
}

const pki = generateTestPki({
  broker: '00000001800866472000',
  school25BE: '0000000700025BE00000',
  school00AH: '0000000700000AH00000',
});
try {
  const material = loadSigningMaterial(pki.broker.key, pki.broker.cert, 'broker');
  const signer = new EnvelopeSigner(material);
  const trust = new TrustAnchors(pki.ca);
  const signed = receipt(signer);
  const payload = Buffer.from(signed.slice(0, 2000));
  const results: [string, number][] = [
    ['receipt, unsigned', cpuPerCall(() => receipt())],
    ['receipt, signed (EnvelopeSigner)', cpuPerCall(() => receipt(signer))],
    ['receipt, signed with xml-crypto SignedXml', cpuPerCall(() => xmlCryptoSigned(material), ITERATIONS / 4)],
    ['RSA-2048 SHA-256 signature alone', cpuPerCall(() => sign('sha256', payload, material.key))],
    [
      'verify a signed receipt (wss-verifier.ts)',
      cpuPerCall(() => verifyEnvelopeSignature(signed, trust, new Date()), ITERATIONS / 4),
    ],
  ];
  const unsigned = results[0]![1];
  for (const [name, us] of results)
    process.stdout.write(
      `${name.padEnd(44)} ${us.toFixed(0).padStart(6)} µs CPU  (${(us / unsigned).toFixed(1)}× unsigned)\n`,
    );
} finally {
  pki.remove();
}
