/**
 * WS-Security on inbound requests (docs/security.md): over mutual TLS, a request signed as a LAS signs
 * it is accepted; every way a signature can be missing, wrong, wrapped, stale, replayed or made by
 * another party gets Client.EK0031 naming the element, and nothing is stored. A request signed with the
 * xmlsec1 command is accepted too, so the broker does not merely agree with its own signing library.
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { Broker } from '../../src/broker.js';
import { ReplayGuard } from '../../src/inbound/wss/replay-guard.js';
import { createLogger, silentLogger } from '../../src/infra/log.js';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { installDebianPackage, onPath } from '../../src/infra/services/process-tools.js';
import { REPLAY_WINDOW_MS } from '../../src/infra/xml/wss-timestamp.js';
import { setInstitutionWssRequired } from '../../src/store/institutions.repo.js';
import { pruneSignedRequests } from '../../src/store/wss-replay.repo.js';
import { startTestBroker, storedCounts, waitFor } from '../support/broker.js';
import { databaseUrlOf } from '../support/console.js';
import { brokerTlsEnv, type Credentials, generateTestPki, type TestPki } from '../support/pki.js';
import { BROKER_OIN, bodyFixture, elementText, lasRequest, OIN_25BE } from '../support/soap.js';
import {
  BODY_ID,
  issueSigningCertificate,
  revokeCertificate,
  type SigningCredentials,
  type SignOptions,
  signEnvelope,
  signedLasRequest,
  signWithXmlsec1,
  wssEnvelope,
} from '../support/wss-sign.js';

const run = promisify(execFile);
const OIN_00AH = '0000000700000AH00000';
const INSCHRIJVING = 'aanleverenInschrijvingVO';

/** The broker's log lines, as JSON. */
const logLines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk: Buffer | string, _encoding, callback) {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      logLines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  },
});
let pki: TestPki;
let broker: Broker;
let signer25BE: SigningCredentials;
let signer00AH: SigningCredentials;
let rogue25BE: SigningCredentials;
let expired25BE: SigningCredentials;
let revoked25BE: SigningCredentials;

beforeAll(async () => {
  // The cross-check signs with the xmlsec1 command; installed like redis-server when missing (root, apt-get).
  if (!onPath('xmlsec1')) installDebianPackage('xmlsec1', (line) => process.stderr.write(`${line}\n`));
  pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: OIN_00AH });
  signer25BE = issueSigningCertificate(pki, 'sign-25BE', 'LAS signer 25BE', OIN_25BE);
  signer00AH = issueSigningCertificate(pki, 'sign-00AH', 'LAS signer 00AH', OIN_00AH);
  rogue25BE = issueSigningCertificate(pki, 'sign-rogue', 'rogue signer 25BE', OIN_25BE, { ca: 'rogue' });
  expired25BE = issueSigningCertificate(pki, 'sign-expired', 'expired signer 25BE', OIN_25BE, {
    dates: ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z'],
  });
  revoked25BE = issueSigningCertificate(pki, 'sign-revoked', 'revoked signer 25BE', OIN_25BE);
  revokeCertificate(pki, revoked25BE); // writes the root's CRL anew: TLS_CRL_FILE
  broker = await startTestBroker({
    env: { ...brokerTlsEnv(pki, { crl: true }), WSS_REQUIRED: 'false' },
    log: createLogger('info', capture),
  });
});

afterAll(async () => {
  await broker?.close();
  pki?.remove();
});

interface Answer {
  status: number;
  text: string;
  faultCode: string | null;
  element: string | null;
  faultString: string | null;
}

/** One request on its own connection over mutual TLS, as school 25BE (its EC client certificate) unless told. */
function postTls(request: { path: string; soapAction: string; xml: string }, client?: Credentials): Promise<Answer> {
  const tlsClient = client ?? pki.school25BE;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${broker.baseUrl}${request.path}`,
      {
        method: 'POST',
        agent: false,
        ca: pki.ca,
        cert: tlsClient.cert,
        key: tlsClient.key,
        headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: request.soapAction },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            faultCode: /<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(text)?.[1] ?? null,
            element: /<bb:element>([^<]*)<\/bb:element>/.exec(text)?.[1] ?? null,
            faultString:
              /<faultstring[^>]*>([^<]*)<\/faultstring>/
                .exec(text)?.[1]
                ?.replace(/&apos;/g, "'")
                .replace(/&amp;/g, '&') ?? null,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.xml);
  });
}

const body = (): string => bodyFixture('valid/aanleverenInschrijvingVO.xml');
const signed = (signer = signer25BE, options: SignOptions = {}, text = body()) =>
  signedLasRequest(INSCHRIJVING, text, signer, options);

/** Sends the request and expects Client.EK0031 naming `element`, and no new row anywhere. */
async function expectRefused(
  request: { path: string; soapAction: string; xml: string },
  element: string,
  reason: RegExp,
): Promise<void> {
  const before = await storedCounts(broker);
  const answer = await postTls(request);
  expect(answer).toMatchObject({ status: 500, faultCode: 'Client.EK0031', element });
  expect(answer.faultString).toMatch(reason);
  expect(await storedCounts(broker)).toEqual(before);
}

describe('a signed request', () => {
  test('signed as a LAS signs it (xml-crypto, mustUnderstand="1"): a receipt, one message stored', async () => {
    const before = await storedCounts(broker);
    const request = signed();
    expect(request.xml).toContain('soapenv:mustUnderstand="1"');
    const answer = await postTls(request);
    expect(answer).toMatchObject({ status: 200, faultCode: null });
    expect(answer.text).toContain('aanleverenInschrijvingVO_Response');
    expect((await storedCounts(broker)).messages).toBe(before.messages + 1);
  });

  test.each([
    ['', {}],
    [
      ', with InclusiveNamespaces prefix lists on SignedInfo and every reference (as WSS4J writes them)',
      {
        signedInfo: 'soapenv wsa wsse',
        references: 'soapenv wsu',
      },
    ],
  ])('signed with the xmlsec1 command%s: a receipt too', async (_name, prefixes) => {
    const before = await storedCounts(broker);
    const xml = signWithXmlsec1(wssEnvelope(INSCHRIJVING, body(), signer25BE), signer25BE, pki.dir, prefixes);
    expect(xml).toMatch(/<ds:DigestValue>[^<]+<\/ds:DigestValue>/);
    const answer = await postTls({ ...lasRequest(INSCHRIJVING, body()), xml });
    expect(answer).toMatchObject({ status: 200, faultCode: null });
    expect((await storedCounts(broker)).messages).toBe(before.messages + 1);
  });
});

describe('refused with Client.EK0031, nothing stored', () => {
  test('the body changed after signing', async () => {
    const request = signed();
    const xml = request.xml.replace('<bas:datumInschrijving>2026-08-20<', '<bas:datumInschrijving>2026-08-21<');
    expect(xml).not.toBe(request.xml);
    await expectRefused({ ...request, xml }, 'Body', /Body was changed after signing/);
  });

  test('a wrapped body: the signed Body moved into the header, another Body in its place', async () => {
    const request = signed();
    const signedBody = /<soapenv:Body wsu:Id="id-body">[\s\S]*<\/soapenv:Body>/.exec(request.xml)![0];
    const forged = signedBody
      .replace(` wsu:Id="${BODY_ID}"`, '')
      .replace('<bas:datumInschrijving>2026-08-20<', '<bas:datumInschrijving>2026-08-21<');
    const xml = request.xml
      .replace(signedBody, forged)
      .replace('</wsse:Security>', `<wsse:Wrapper>${signedBody}</wsse:Wrapper></wsse:Security>`);
    await expectRefused({ ...request, xml }, 'Wrapper', /does not process/);
  });

  test('a wrapped body inside a signed element is refused as well: the Body is not what was signed', async () => {
    // The signed Body's id moved to a WS-Addressing header that hides it; the real Body is unsigned.
    const request = signed();
    const signedBody = /<soapenv:Body wsu:Id="id-body">([\s\S]*)<\/soapenv:Body>/.exec(request.xml)!;
    const xml = request.xml
      .replace(signedBody[0], `<soapenv:Body>${signedBody[1]}</soapenv:Body>`)
      .replace(
        '</soapenv:Header>',
        `<wsa:ReplyTo wsu:Id="${BODY_ID}"><wsa:Address>x</wsa:Address></wsa:ReplyTo></soapenv:Header>`,
      );
    await expectRefused({ ...request, xml }, 'Body', /Body is not signed/);
  });

  test('a duplicate wsu:Id', async () => {
    const request = signed();
    const xml = request.xml.replace('<bas:verzendendeInstantie>', `<bas:verzendendeInstantie wsu:Id="${BODY_ID}">`);
    await expectRefused({ ...request, xml }, 'Id', /id 'id-body' occurs more than once/);
  });

  test('a stale timestamp (created 400 s ago)', async () => {
    await expectRefused(signed(signer25BE, { created: new Date(Date.now() - 400_000) }), 'Timestamp', /stale/);
  });

  test('a timestamp from the future (created in 120 s)', async () => {
    await expectRefused(signed(signer25BE, { created: new Date(Date.now() + 120_000) }), 'Timestamp', /future/);
  });

  test('an expired timestamp (Expires passed more than the skew ago)', async () => {
    await expectRefused(
      signed(signer25BE, { created: new Date(Date.now() - 200_000), ttlSeconds: 60 }),
      'Timestamp',
      /has passed/,
    );
  });

  test('SHA-1 digests', async () => {
    await expectRefused(signed(signer25BE, { digest: 'sha1' }), 'DigestMethod', /SHA-1 refused/);
  });

  test('an RSA-SHA1 signature', async () => {
    await expectRefused(signed(signer25BE, { signature: 'sha1' }), 'SignatureMethod', /SHA-1 refused/);
  });

  test("another party's certificate in the token (a trusted one, OIN of 00AH)", async () => {
    await expectRefused(signed(signer00AH), 'BinarySecurityToken', new RegExp(`OIN ${OIN_00AH} is not the sender's`));
  });

  test('a certificate of an untrusted CA in the token, with the right OIN', async () => {
    await expectRefused(signed(rogue25BE), 'BinarySecurityToken', /does not chain to a trusted CA/);
  });

  test('an expired certificate in the token', async () => {
    await expectRefused(signed(expired25BE), 'BinarySecurityToken', /expired/);
  });

  test('a revoked certificate in the token (TLS_CRL_FILE)', async () => {
    await expectRefused(signed(revoked25BE), 'BinarySecurityToken', /revoked \(TLS_CRL_FILE\)/);
  });

  test('a WS-Addressing header left out of the signature', async () => {
    await expectRefused(signed(signer25BE, { unsigned: ['id-messageid'] }), 'MessageID', /MessageID is not signed/);
  });

  test('the Timestamp left out of the signature', async () => {
    await expectRefused(signed(signer25BE, { unsigned: ['TS-1'] }), 'Timestamp', /Timestamp is not signed/);
  });

  test('two references to the Body', async () => {
    await expectRefused(signed(signer25BE, { extraReferences: [BODY_ID] }), 'Reference', /referenced more than once/);
  });

  test('a signature made with another key than the token', async () => {
    const xml = signEnvelope(wssEnvelope(INSCHRIJVING, body(), signer25BE), { ...signer25BE, key: signer00AH.key });
    await expectRefused({ ...lasRequest(INSCHRIJVING, body()), xml }, 'Signature', /does not verify/);
  });

  test('a wsse:Security header without a signature, even where signing is not required', async () => {
    const request = lasRequest(INSCHRIJVING, body(), {
      extraHeaders:
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/>',
    });
    await expectRefused(request, 'Signature', /exactly one Signature, found 0/);
  });
});

describe('the log', () => {
  test("an EK0031 line names the sender's OIN, the fault and the element, and no value of the message", async () => {
    const request = signed(signer00AH);
    const answer = await postTls(request);
    expect(answer.faultCode).toBe('Client.EK0031');
    const line = (
      await waitFor(
        async () => logLines.filter((l) => l.message === 'request' && l.faultCode === 'Client.EK0031'),
        (found) => found.length > 0,
      )
    ).at(-1)!;
    expect(line).toMatchObject({
      outcome: 'fault',
      faultCode: 'Client.EK0031',
      element: 'BinarySecurityToken',
      senderOin: OIN_25BE,
      reason: 'WS-Security signature missing or not valid',
    });
    const signatureValue = /<ds:SignatureValue>([^<]{20})/.exec(request.xml)![1]!;
    expect(JSON.stringify(logLines)).not.toContain(signatureValue);
    expect(JSON.stringify(logLines)).not.toContain('123456782');
  });
});

describe('replay', () => {
  test('the identical signed request again: Client.EK0031, still one message', async () => {
    const request = signed();
    const first = await postTls(request);
    expect(first).toMatchObject({ status: 200, faultCode: null });
    await expectRefused(request, 'MessageID', /replay/);
  });

  test('a resend re-signed with a new timestamp: the original receipt, nothing new stored', async () => {
    const text = body();
    const messageId = `urn:uuid:${randomUUID()}`;
    const first = await postTls(signed(signer25BE, { messageId, created: new Date(Date.now() - 2000) }, text));
    expect(first).toMatchObject({ status: 200, faultCode: null });
    const before = await storedCounts(broker);
    const resend = await postTls(signed(signer25BE, { messageId }, text));
    expect(resend).toMatchObject({ status: 200, faultCode: null });
    expect(elementText(resend.text, 'identificatiecodeBedrijfsdocument')).toBe(
      elementText(first.text, 'identificatiecodeBedrijfsdocument'),
    );
    expect(await storedCounts(broker)).toEqual(before);
  });

  test('the replay record is in PostgreSQL, keyed by sender, MessageID and signature', async () => {
    const request = signed();
    expect((await postTls(request)).status).toBe(200);
    const messageId = elementText(request.xml, 'MessageID')!;
    const rows = await broker.pool.query('SELECT sender_oin FROM wss_replay WHERE message_id = $1', [messageId]);
    expect(rows.rows).toEqual([{ sender_oin: OIN_25BE }]);
  });
});

describe('the replay guard', () => {
  test('admits a key once, admits it again once forgotten, and prunes records past the window', async () => {
    const guard = new ReplayGuard(broker.pool, silentLogger());
    const key = { senderOin: OIN_25BE, messageId: `urn:uuid:${randomUUID()}`, signatureDigest: 'digest-a' };
    await guard.admit(key);
    await expect(guard.admit(key)).rejects.toMatchObject({ code: 'EK0031', element: 'MessageID' });
    await guard.admit({ ...key, signatureDigest: 'digest-b' }); // re-signed: another signature
    await guard.forget(key);
    await guard.admit(key);
    // Aged past a window no background pruner uses (theirs is REPLAY_WINDOW_MS), so only this call may delete it.
    const window = REPLAY_WINDOW_MS / 7;
    await broker.pool.query(
      `UPDATE wss_replay SET seen_at = now() - make_interval(secs => $2)
        WHERE message_id = $1 AND signature_digest = 'digest-a'`,
      [key.messageId, window / 1000 + 1],
    );
    expect(await pruneSignedRequests(broker.pool, window)).toBeGreaterThanOrEqual(1);
    const left = await broker.pool.query('SELECT signature_digest FROM wss_replay WHERE message_id = $1', [
      key.messageId,
    ]);
    expect(left.rows).toEqual([{ signature_digest: 'digest-b' }]);
  });

  test('the record costs no WAL flush of its own: the table is unlogged', async () => {
    const table = await broker.pool.query("SELECT relpersistence FROM pg_class WHERE relname = 'wss_replay'");
    expect(table.rows).toEqual([{ relpersistence: 'u' }]);
  });
});

describe('required per institution', () => {
  afterEach(async () => {
    await setInstitutionWssRequired(broker.pool, OIN_25BE, null);
    await broker.registry.refresh();
  });

  test('an institution that must sign: unsigned gets Client.EK0031 naming Security, signed is accepted', async () => {
    await setInstitutionWssRequired(broker.pool, OIN_25BE, true);
    await broker.registry.refresh();
    await expectRefused(lasRequest(INSCHRIJVING, body()), 'Security', /must sign/);
    expect((await postTls(signed())).status).toBe(200);
  });

  test('the operator sets it with `institution signing`, audited', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'bron-broker.js'), ...args], {
        env: { ...process.env, DATABASE_URL: databaseUrlOf(broker), USER: 'tester' },
      });
    expect((await cli('institution', 'signing', OIN_25BE, 'required')).stdout).toBe(
      `signing required for ${OIN_25BE}\n`,
    );
    await broker.registry.refresh();
    await expectRefused(lasRequest(INSCHRIJVING, body()), 'Security', /must sign/);
    const audit = await broker.pool.query("SELECT target FROM operator_audit WHERE action = 'institution.signing'");
    expect(audit.rows).toEqual([{ target: { institution: OIN_25BE, signing: 'required' } }]);
    await expect(cli('institution', 'signing', OIN_25BE, 'always')).rejects.toThrow(/required, optional or default/);
    await cli('institution', 'signing', OIN_25BE, 'default');
    await broker.registry.refresh();
    expect((await postTls(lasRequest(INSCHRIJVING, body()))).status).toBe(200);
  });

  test('an institution that need not sign (WSS_REQUIRED=false): unsigned is accepted', async () => {
    const answer = await postTls(lasRequest(INSCHRIJVING, body()));
    expect(answer).toMatchObject({ status: 200, faultCode: null });
  });
});
