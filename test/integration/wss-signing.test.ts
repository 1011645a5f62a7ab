/**
 * WS-Security on what the broker sends (docs/security.md): receipts, faults about a readable message and
 * every push attempt carry a signature by the broker's key that verifies with xml-crypto and with
 * xmlsec1; a school's receipt signature is checked when its institution has that set.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SignedXml } from 'xml-crypto';
import { institutionReceipt } from '../../src/delivery/institution-receipt.js';
import { verifyEnvelopeSignature } from '../../src/delivery/receipt-signature.js';
import { NS } from '../../src/infra/catalogue.js';
import { silentLogger } from '../../src/infra/log.js';
import { TrustAnchors } from '../../src/infra/xml/wss-certificates.js';
import { EnvelopeSigner, loadSigningMaterial } from '../../src/infra/xml/wss-signer.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { processMessage } from '../../src/processing/process-message.js';
import { findInstitution, setInstitutionPaused, upsertInstitution } from '../../src/store/institutions.repo.js';
import { useTestBroker, waitFor } from '../support/broker.js';
import { type DeliveryRig, startDeliveryRig } from '../support/delivery-rig.js';
import { PHP_LAS_CLIENT, runForJson, soapClientValue } from '../support/las-clients.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';
import { brokerTlsEnv, generateTestPki, type TestPki } from '../support/pki.js';
import {
  ANONYMOUS,
  actionOf,
  BROKER_OIN,
  bodyFixture,
  CONTRACT_OF,
  elementText,
  lasRequest,
  OIN_25BE,
  post,
  send,
} from '../support/soap.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';
import { ensureXmlsec1, tokenCertificate, verifyWithXmlsec1 } from '../support/xmlsec.js';

const OIN_00AH = '0000000700000AH00000';
const pki: TestPki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: OIN_00AH });
afterAll(() => pki.remove());
beforeAll(() => ensureXmlsec1(), 300_000);

/** xml-crypto on its own, with the broker's certificate from the test PKI (not the token the message carries). */
function xmlCryptoVerifies(xml: string, certificate: Buffer): { valid: boolean; signed: string[] } {
  const checker = new SignedXml({ publicCert: certificate, idMode: 'wssecurity', getCertFromKeyInfo: () => null });
  const signature = /<ds:Signature [\s\S]*<\/ds:Signature>/.exec(xml)?.[0];
  if (!signature) return { valid: false, signed: [] };
  checker.loadSignature(signature);
  let valid: boolean;
  try {
    valid = checker.checkSignature(xml);
  } catch {
    valid = false;
  }
  return { valid, signed: checker.getReferences().map((ref) => String(ref.uri)) };
}

const SIGNED_PARTS = [
  '#id-Timestamp',
  '#id-Action',
  '#id-MessageID',
  '#id-RelatesTo',
  '#id-To',
  '#id-From',
  '#id-Body',
];

describe('receipts and faults', () => {
  const broker = useTestBroker({
    env: { SIGNING: 'on', SIGNING_KEY_FILE: pki.broker.keyFile, SIGNING_CERT_FILE: pki.broker.certFile },
  });

  test('a receipt is signed: Body, Timestamp and every wsa header, verified by xml-crypto and by xmlsec1', async () => {
    const answer = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml')),
    );
    expect(answer.status).toBe(200);
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    const byXmlCrypto = xmlCryptoVerifies(answer.text, pki.broker.cert);
    expect(byXmlCrypto.valid).toBe(true);
    expect(byXmlCrypto.signed.sort()).toEqual([...SIGNED_PARTS].sort());
    const byXmlsec = verifyWithXmlsec1(answer.text, pki.caFile);
    expect(byXmlsec.report).toContain('OK');
    expect(byXmlsec.status).toBe(0);
    expect(byXmlsec.chain).toBe(true);
    // The token is the broker's certificate; the Timestamp gives 300 seconds.
    expect(tokenCertificate(answer.text).fingerprint256).toBe(
      loadSigningMaterial(pki.broker.key, pki.broker.cert, 'x').certificate.fingerprint256,
    );
    const created = Date.parse(elementText(answer.text, 'Created')!);
    expect(Date.parse(elementText(answer.text, 'Expires')!) - created).toBe(300_000);
    expect(Math.abs(created - Date.now())).toBeLessThan(5000);
    expect(verifyEnvelopeSignature(answer.text, new TrustAnchors(pki.ca), new Date()).oin).toBe(BROKER_OIN);
  });

  test('a PHP SoapClient LAS reads a signed receipt as any other (the header is not mustUnderstand)', async () => {
    const operation = 'aanleverenInschrijvingVO';
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml');
    const answer = await runForJson<{ receipt?: Record<string, string>; fault?: unknown; error?: string }>(
      'php',
      [PHP_LAS_CLIENT],
      JSON.stringify({
        mode: 'call',
        wsdl: `${broker().baseUrl}/vo-webservices/${CONTRACT_OF[operation]}?wsdl`,
        operation,
        body: soapClientValue(body),
        headers: {
          Action: actionOf(operation),
          To: `${ANONYMOUS}?oin=${BROKER_OIN}`,
          MessageID: `urn:uuid:${randomUUID()}`,
          From: `${ANONYMOUS}?oin=${OIN_25BE}`,
        },
      }),
    );
    expect(answer.fault ?? answer.error).toBeUndefined();
    expect(answer.receipt).toMatchObject({ ontvangstBevestiging: 'J' });
  });

  test('a receipt changed after signing fails both checks', async () => {
    const answer = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml')),
    );
    const changed = answer.text.replace(/ontvangstBevestiging>J</, 'ontvangstBevestiging>N<');
    expect(changed).not.toBe(answer.text);
    expect(xmlCryptoVerifies(changed, pki.broker.cert).valid).toBe(false);
    expect(verifyWithXmlsec1(changed, pki.caFile).status).not.toBe(0);
    const readdressed = answer.text.replace(/<wsa:To [^>]*>[^<]*</, (to) =>
      to.replace(/oin=\w+/, 'oin=00000003999999990000'),
    );
    expect(readdressed).not.toBe(answer.text);
    expect(xmlCryptoVerifies(readdressed, pki.broker.cert).valid).toBe(false);
  });

  test('a fault about a readable message is signed; one about bytes that are no SOAP message is not', async () => {
    // 25BE's OIN delivering for 00AH: refused after the envelope was read.
    const foreign = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, '00AH');
    const refused = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', foreign));
    expect(refused.faultCode).toBe('Client.DK0002');
    expect(xmlCryptoVerifies(refused.text, pki.broker.cert).valid).toBe(true);
    expect(verifyWithXmlsec1(refused.text, pki.caFile).status).toBe(0);
    const garbage = await post(broker().baseUrl, '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1', 'not xml', {
      soapaction: '"x"',
    });
    expect(garbage.status).toBe(500);
    expect(garbage.text).not.toContain('wsse:Security');
  });
});

describe('pushes and receipts from schools', () => {
  const broker = useTestBroker();
  const brokerSigner = new EnvelopeSigner(loadSigningMaterial(pki.broker.key, pki.broker.cert, 'broker'));
  // The test's endpoints answer as school 25BE: receipts signed with its key (OIN 0000000700025BE00000).
  const schoolSigner = new EnvelopeSigner(loadSigningMaterial(pki.school25BE.key, pki.school25BE.cert, 'school'));
  let rig: DeliveryRig;

  beforeAll(async () => {
    rig = await startDeliveryRig(broker(), {
      timeoutMs: 2000,
      retries: 1,
      perInstitution: 4,
      signer: brokerSigner,
      receiptSigner: schoolSigner,
      receiptTrust: new TrustAnchors(pki.ca),
    });
  });
  afterAll(async () => {
    await rig?.close();
  });

  /** Registers the institution at the test's endpoint, has an enrolment of it processed and returns its terugkoppeling's id. */
  async function feedbackFor(brin: string, oin: string, verifyReceiptSignature: boolean): Promise<number> {
    await upsertInstitution(broker().pool, {
      oin,
      name: brin,
      brins: [brin],
      endpointUrl: rig.endpoints.url(brin),
      enabled: true,
      verifyReceiptSignature,
    });
    // Held until the pushes are taken out: on a slow machine a poller would otherwise deliver them first.
    await setInstitutionPaused(broker().pool, oin, true);
    await broker().registry.refresh();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/25BE/g, brin);
    const documentId = elementText(body, 'identificatiecodeBedrijfsdocument')!;
    await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, { from: `${ANONYMOUS}?oin=${oin}` }));
    const { id } = (await broker().pool.query('SELECT id FROM inbound_messages WHERE document_id = $1', [documentId]))
      .rows[0];
    const { outbound } = await processMessage(broker().pool, createHandlers(), id, {
      traceKey: TEST_SECRETS.TRACE_KEY,
      brokerOin: BROKER_OIN,
    });
    const feedback = (
      await broker().pool.query(
        "SELECT id FROM outbound_messages WHERE id = ANY($1) AND operation = 'terugkoppelenInschrijvingVO'",
        [outbound.map((o) => o.id)],
      )
    ).rows[0].id as number;
    // Only the terugkoppeling is delivered here.
    await broker().pool.query("UPDATE outbound_messages SET status = 'purged' WHERE id = ANY($1) AND id <> $2", [
      outbound.map((o) => o.id),
      feedback,
    ]);
    await setInstitutionPaused(broker().pool, oin, false);
    return feedback;
  }

  const finalState = (id: number) =>
    waitFor(
      async () =>
        withOpenedBodies(
          broker().pool,
          (
            await broker().pool.query(
              `SELECT status, attempts, last_error, ${BODY_XML_COLUMNS} FROM outbound_messages WHERE id = $1`,
              [id],
            )
          ).rows,
        )[0]!,
      (row) => row.status !== 'pending',
      15_000,
    );

  test('every attempt of a push is signed at send time; the stored message stays unsigned', async () => {
    rig.endpoints.script('25BE', 'server-error');
    const id = await feedbackFor('25BE', OIN_25BE, false);
    const state = await finalState(id);
    expect(state).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(state.body_xml).not.toContain('Security');
    const received = rig.endpoints.received('25BE').slice(-2);
    expect(received).toHaveLength(2);
    for (const { xml } of received) {
      const byXmlCrypto = xmlCryptoVerifies(xml, pki.broker.cert);
      expect(byXmlCrypto.valid).toBe(true);
      expect(byXmlCrypto.signed.sort()).toEqual(SIGNED_PARTS.filter((part) => part !== '#id-RelatesTo').sort());
      const byXmlsec = verifyWithXmlsec1(xml, pki.caFile);
      expect([byXmlsec.status, byXmlsec.chain]).toEqual([0, true]);
      expect(xml).toContain(`<wsa:To xmlns:wsa="${NS.wsa}"`);
    }
  });

  test('with the check on, a receipt signed by the institution is delivered', async () => {
    const id = await feedbackFor('25BE', OIN_25BE, true);
    expect(await finalState(id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  test('with the check on, an unsigned receipt is retried, then the error queue, with the reason', async () => {
    rig.endpoints.script('25BE', 'unsigned', 'unsigned');
    const id = await feedbackFor('25BE', OIN_25BE, true);
    const state = await finalState(id);
    expect(state).toMatchObject({
      status: 'error',
      attempts: 2,
      last_error: 'receipt signature refused: no wsse:Security header',
    });
    const outcomes = (
      await broker().pool.query(
        'SELECT outcome, error FROM delivery_attempts WHERE outbound_id = $1 ORDER BY attempt',
        [id],
      )
    ).rows;
    expect(outcomes.map((row) => row.outcome)).toEqual(['retry', 'retry']);
  });

  test('with the check on, a receipt changed after signing goes to the error queue', async () => {
    rig.endpoints.script('25BE', 'tampered', 'tampered');
    const id = await feedbackFor('25BE', OIN_25BE, true);
    const state = await finalState(id);
    expect(state.status).toBe('error');
    expect(state.last_error).toBe(
      'receipt signature refused: the signature does not verify (changed after signing, or another key)',
    );
  });

  test("with the check on, a receipt signed by another institution's certificate is refused", async () => {
    // The endpoints sign as 25BE; 00AH's receipts must carry 00AH's OIN.
    const id = await feedbackFor('00AH', OIN_00AH, true);
    const state = await finalState(id);
    expect(state.status).toBe('error');
    expect(state.last_error).toBe(`receipt signature refused: signed by OIN ${OIN_25BE}, not by the institution's OIN`);
  });

  test('with the check off, an unsigned receipt is delivered; replacing an institution keeps its setting', async () => {
    rig.endpoints.script('25BE', 'unsigned');
    const id = await feedbackFor('25BE', OIN_25BE, false);
    expect(await finalState(id)).toMatchObject({ status: 'delivered', attempts: 1 });
    await upsertInstitution(broker().pool, {
      oin: OIN_25BE,
      name: 'again',
      brins: ['25BE'],
      endpointUrl: null,
      enabled: true,
    });
    expect((await findInstitution(broker().pool, OIN_25BE))?.verifyReceiptSignature).toBe(false);
    await upsertInstitution(broker().pool, {
      oin: OIN_25BE,
      name: 'again',
      brins: ['25BE'],
      endpointUrl: null,
      enabled: true,
      verifyReceiptSignature: true,
    });
    await upsertInstitution(broker().pool, {
      oin: OIN_25BE,
      name: 'again',
      brins: ['25BE'],
      endpointUrl: null,
      enabled: true,
    });
    expect((await findInstitution(broker().pool, OIN_25BE))?.verifyReceiptSignature).toBe(true);
  });
});

describe('in production: mutual TLS, signing from the TLS files, a school that signs its receipts', () => {
  const broker = useTestBroker({
    env: { ...brokerTlsEnv(pki), DELIVERY_RETRIES: '1', DELIVERY_BACKOFF_MS: '50', DELIVERY_TIMEOUT_MS: '2000' },
  });
  const schoolSigner = new EnvelopeSigner(loadSigningMaterial(pki.school25BE.key, pki.school25BE.cert, 'school'));
  const received: { xml: string; clientOin: string }[] = [];
  let signReceipts = true;
  let school: https.Server;
  let pipeline: Pipeline;

  beforeAll(async () => {
    // The school's https endpoint: its server certificate from the test CA, demanding the broker's client certificate.
    school = https.createServer(
      { cert: pki.school25BE.cert, key: pki.school25BE.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        let xml = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (xml += chunk));
        req.on('end', () => {
          received.push({
            xml,
            clientOin: String((req.socket as TLSSocket).getPeerCertificate().subject.serialNumber),
          });
          res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
          res.end(institutionReceipt(xml, signReceipts ? schoolSigner : undefined));
        });
      },
    );
    await new Promise<void>((resolve) => school.listen(0, '127.0.0.1', resolve));
    await upsertInstitution(broker().pool, {
      oin: OIN_25BE,
      name: 'School 25BE',
      brins: ['25BE'],
      endpointUrl: `https://127.0.0.1:${(school.address() as AddressInfo).port}/las`,
      enabled: true,
      verifyReceiptSignature: true,
    });
    await broker().registry.refresh();
    pipeline = startPipeline(broker().config, broker().pool, process.env.TEST_REDIS_URL!, silentLogger(), {});
  });
  afterAll(async () => {
    await pipeline?.close();
    school?.closeAllConnections();
    await new Promise<void>((resolve) => (school ? school.close(() => resolve()) : resolve()));
  });

  /** An enrolment from 25BE over mutual TLS (its client certificate); returns the signed receipt and its document id. */
  function enrol(volgnummer: string): Promise<{ xml: string; documentId: string }> {
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(/2026-0001/g, volgnummer);
    const request = lasRequest('aanleverenInschrijvingVO', body, { from: `${ANONYMOUS}?oin=${OIN_25BE}` });
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${broker().baseUrl}${request.path}`,
        {
          method: 'POST',
          agent: false,
          ca: pki.ca,
          cert: pki.school25BE.cert,
          key: pki.school25BE.key,
          headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: request.soapAction },
        },
        (res) => {
          let xml = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (xml += chunk));
          res.on('end', () => resolve({ xml, documentId: elementText(body, 'identificatiecodeBedrijfsdocument')! }));
        },
      );
      req.on('error', reject);
      req.end(request.xml);
    });
  }

  /** The terugkoppeling of the enrolment with this document id, once it is no longer pending. */
  const feedbackState = (documentId: string) =>
    waitFor(
      async () =>
        (
          await broker().pool.query(
            `SELECT o.status, o.attempts, o.last_error FROM outbound_messages o JOIN inbound_messages m ON m.id = o.cause_message_id
             WHERE m.document_id = $1 AND o.operation = 'terugkoppelenInschrijvingVO'`,
            [documentId],
          )
        ).rows[0],
      (row) => row !== undefined && row.status !== 'pending',
      20_000,
    );

  test('the receipt and the push are signed by the broker; the signed receipt from the school is accepted', async () => {
    const { xml, documentId } = await enrol('2026-0101');
    expect(elementText(xml, 'ontvangstBevestiging')).toBe('J');
    expect(verifyWithXmlsec1(xml, pki.caFile)).toMatchObject({ status: 0, chain: true });
    expect(await feedbackState(documentId)).toMatchObject({ status: 'delivered', attempts: 1 });
    const push = received.at(-1)!;
    expect(push.clientOin).toBe(BROKER_OIN);
    expect(xmlCryptoVerifies(push.xml, pki.broker.cert).valid).toBe(true);
    expect(verifyWithXmlsec1(push.xml, pki.caFile)).toMatchObject({ status: 0, chain: true });
  });

  test('an unsigned receipt from the school is retried, then the error queue', async () => {
    signReceipts = false;
    try {
      const { documentId } = await enrol('2026-0102');
      expect(await feedbackState(documentId)).toMatchObject({
        status: 'error',
        attempts: 2,
        last_error: 'receipt signature refused: no wsse:Security header',
      });
    } finally {
      signReceipts = true;
    }
  });
});
