/**
 * Mutual TLS (docs/security.md): the broker's listener refuses a sender without a trusted, valid
 * certificate in the handshake; the sender is the certificate's OIN (subject serialNumber), which must
 * be a known party's and the one wsa:From names; deliveries present the broker's certificate.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Broker } from '../../src/broker.js';
import { deliveryHttpsAgent, httpsAgentFor } from '../../src/delivery/http-post.js';
import { institutionReceipt } from '../../src/delivery/institution-receipt.js';
import { attemptDelivery, outboundEnvelope } from '../../src/delivery/soap-client.js';
import { OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { loadConfig } from '../../src/infra/config.js';
import { loadEnvelopeSigner } from '../../src/infra/signing.js';
import { StartupError } from '../../src/infra/startup-failure.js';
import { clientTlsOptions, loadTlsMaterial } from '../../src/infra/tls.js';
import { compileSchemas } from '../../src/infra/xml/schema-set.js';
import { pingEndpoint } from '../../src/operator/institutions.js';
import { startTestBroker, storedCounts } from '../support/broker.js';
import { brokerTlsEnv, type Credentials, generateTestPki, type TestPki, UNKNOWN_OIN } from '../support/pki.js';
import { ANONYMOUS, BROKER_OIN, bodyFixture, lasRequest, OIN_25BE } from '../support/soap.js';

const OIN_00AH = '0000000700000AH00000';
const INSCHRIJVING = 'aanleverenInschrijvingVO';

let pki: TestPki;
let broker: Broker;

beforeAll(async () => {
  pki = generateTestPki({ broker: BROKER_OIN, school25BE: OIN_25BE, school00AH: OIN_00AH });
  broker = await startTestBroker({ env: brokerTlsEnv(pki, { crl: true }) });
});

afterAll(async () => {
  await broker?.close();
  pki?.remove();
});

interface TlsAnswer {
  status: number;
  text: string;
  faultCode: string | null;
}

/** One request on a new connection, presenting `client` (or no certificate), trusting the test root. */
function postTls(
  client: Credentials | undefined,
  request: { path: string; soapAction: string; xml: string },
): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${broker.baseUrl}${request.path}`,
      {
        method: 'POST',
        agent: false,
        ca: pki.ca,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: request.soapAction },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            text,
            faultCode: /<faultcode>soapenv:([^<]+)<\/faultcode>/.exec(text)?.[1] ?? null,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.xml);
  });
}

const inschrijving = (fromOin: string, body = bodyFixture('valid/aanleverenInschrijvingVO.xml')) =>
  lasRequest(INSCHRIJVING, body, { from: `${ANONYMOUS}?oin=${fromOin}` });

describe('the listener', () => {
  test('a school with a valid certificate whose OIN is wsa:From and owns the BRIN gets a receipt', async () => {
    const before = await storedCounts(broker);
    const answer = await postTls(pki.school25BE, inschrijving(OIN_25BE));
    expect(answer).toMatchObject({ status: 200, faultCode: null });
    expect(answer.text).toContain('aanleverenInschrijvingVO_Response');
    expect((await storedCounts(broker)).messages).toBe(before.messages + 1);
  });

  test.each([
    ['no certificate', () => undefined, /did not return a certificate/],
    ['an expired certificate', () => pki.expired, /CERT_HAS_EXPIRED/],
    ['a revoked certificate (TLS_CRL_FILE)', () => pki.revoked, /CERT_REVOKED/],
    [
      'a certificate of an untrusted CA',
      () => pki.untrusted,
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/,
    ],
  ])('%s: the handshake is refused, no HTTP answer, nothing stored', async (_name, client, reason) => {
    const before = await storedCounts(broker);
    // Why the listener dropped the connection: OpenSSL's alert, or the verification error it destroyed the socket for.
    const refused = new Promise<string>((resolve) =>
      broker.server.once('tlsClientError', (error: Error, socket: TLSSocket) =>
        resolve(`${error.message} ${String(socket.authorizationError)}`),
      ),
    );
    await expect(postTls(client(), inschrijving(OIN_25BE))).rejects.toThrow(/alert|socket hang up|ECONNRESET/);
    expect(await refused).toMatch(reason);
    expect(await storedCounts(broker)).toEqual(before);
  });

  test('a certificate whose OIN is no known party: Client.EK0030, nothing stored', async () => {
    const before = await storedCounts(broker);
    const answer = await postTls(pki.unknownOin, inschrijving(UNKNOWN_OIN));
    expect(answer).toMatchObject({ status: 500, faultCode: 'Client.EK0030' });
    expect(answer.text).toContain(UNKNOWN_OIN);
    expect(await storedCounts(broker)).toEqual(before);
  });

  test('a certificate without an OIN in its serialNumber: Client.EK0030', async () => {
    const answer = await postTls(pki.noOin, inschrijving(OIN_25BE));
    expect(answer).toMatchObject({ status: 500, faultCode: 'Client.EK0030' });
  });

  test('wsa:From names another OIN than the certificate: Client.EK0021, nothing stored', async () => {
    const before = await storedCounts(broker);
    const answer = await postTls(pki.school00AH, inschrijving(OIN_25BE));
    expect(answer).toMatchObject({ status: 500, faultCode: 'Client.EK0021' });
    expect(answer.text).toContain(OIN_00AH);
    expect(await storedCounts(broker)).toEqual(before);
  });

  test("the certificate OIN may not deliver for the body's BRIN: Client.DK0002", async () => {
    const before = await storedCounts(broker);
    const answer = await postTls(pki.school00AH, inschrijving(OIN_00AH));
    expect(answer).toMatchObject({ status: 500, faultCode: 'Client.DK0002' });
    expect(answer.text).toContain('BRIN 25BE');
    expect(await storedCounts(broker)).toEqual(before);
  });

  test("the WSDL's soap:address is the https listen address when PUBLIC_URL is unset", async () => {
    const wsdl = await new Promise<string>((resolve, reject) => {
      https
        .get(
          `${broker.baseUrl}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1?wsdl`,
          {
            agent: false,
            servername: 'localhost',
            ca: pki.ca,
            cert: pki.school25BE.cert,
            key: pki.school25BE.key,
            headers: { host: 'evil.example' },
          },
          (res) => {
            let text = '';
            res
              .setEncoding('utf8')
              .on('data', (chunk: string) => (text += chunk))
              .on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    expect(wsdl).toContain(
      `location="https://localhost:${broker.port}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1"`,
    );
    expect(wsdl).not.toContain('evil.example');
  });
});

describe('start-up checks', () => {
  test('TLS=on without its files names each missing setting', () => {
    expect(() => loadConfig({ TLS: 'on' })).toThrow(/TLS_CERT_FILE[\s\S]*TLS_KEY_FILE[\s\S]*TLS_CA_FILE/);
  });

  test("a key that is not the certificate's stops the start with one line", () => {
    const config = loadConfig({ ...brokerTlsEnv(pki), TLS_KEY_FILE: pki.school25BE.keyFile });
    let error: unknown;
    try {
      loadTlsMaterial(config.tls!);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(/TLS_KEY_FILE.*key values mismatch/);
  });

  test("a signing key that is not RSA, or not the certificate's, stops the start with one line", () => {
    const lineOf = (env: Record<string, string>): string => {
      try {
        loadEnvelopeSigner(loadConfig({ ...brokerTlsEnv(pki), ...env }).signing);
        return 'started';
      } catch (error) {
        expect(error).toBeInstanceOf(StartupError);
        return (error as Error).message;
      }
    };
    expect(lineOf({})).toBe('started');
    // The test CA's own key is EC.
    expect(
      lineOf({ SIGNING_KEY_FILE: path.join(path.dirname(pki.caFile), 'ca.key'), SIGNING_CERT_FILE: pki.caFile }),
    ).toMatch(
      /^SIGNING_KEY_FILE and SIGNING_CERT_FILE \(default TLS_KEY_FILE and TLS_CERT_FILE\): the signing key must be RSA \(RSA-SHA256\), not ec$/,
    );
    expect(lineOf({ SIGNING_KEY_FILE: pki.school25BE.keyFile })).toMatch(
      /: the key does not belong to the certificate$/,
    );
  });

  test('a CA bundle without a certificate, or a CRL that is none, stops the start with one line naming the setting', () => {
    const lineOf = (env: Record<string, string>): string => {
      try {
        loadTlsMaterial(loadConfig({ ...brokerTlsEnv(pki), ...env }).tls!);
        return 'started';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(lineOf({ TLS_CA_FILE: pki.broker.keyFile })).toBe('TLS_CA_FILE: holds no PEM certificate');
    expect(lineOf({ TLS_CRL_FILE: pki.broker.certFile })).toMatch(/^TLS_CRL_FILE: not usable: [^\n]+$/);
    expect(lineOf({})).toBe('started');
  });
});

describe('deliveries over mutual TLS', () => {
  const validator = compileSchemas([OUTBOUND_CONTRACT.schemaFile]).get(OUTBOUND_CONTRACT.schemaFile)!;
  afterAll(() => validator.dispose());

  /** A school's https endpoint that demands a client certificate from the test root; records the OINs it saw. */
  async function startSchool(
    server: Credentials,
  ): Promise<{ url: string; clientOins: string[]; close(): Promise<void> }> {
    const clientOins: string[] = [];
    const school = https.createServer(
      { cert: server.cert, key: server.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clientOins.push(String((req.socket as TLSSocket).getPeerCertificate().subject.serialNumber));
        let xml = '';
        req
          .setEncoding('utf8')
          .on('data', (chunk: string) => (xml += chunk))
          .on('end', () => {
            res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
            res.end(institutionReceipt(xml));
          });
      },
    );
    await new Promise<void>((resolve) => school.listen(0, '127.0.0.1', resolve));
    return {
      url: `https://127.0.0.1:${(school.address() as AddressInfo).port}/las`,
      clientOins,
      close: () =>
        new Promise<void>((resolve) => {
          school.closeAllConnections();
          school.close(() => resolve());
        }),
    };
  }

  /** The agent the pipeline builds from the broker's settings. */
  const brokerAgent = (): https.Agent =>
    httpsAgentFor(clientTlsOptions(loadTlsMaterial(loadConfig(brokerTlsEnv(pki)).tls!)));

  const deliver = (url: string, agent: https.Agent) => {
    const messageId = '6f1d8a52-2f55-4c7e-9f0b-6d7f1b3c9a01';
    const body = bodyFixture('outbound/terugkoppelenInschrijvingVO-afgekeurd.xml');
    const envelope = outboundEnvelope(body, 'terugkoppelenInschrijvingVO', messageId, OIN_25BE, BROKER_OIN);
    return attemptDelivery(
      url,
      envelope,
      `http://duo.nl/contract/${OUTBOUND_CONTRACT.name}/terugkoppelenInschrijvingVO`,
      5000,
      validator,
      messageId,
      agent,
    );
  };

  test("to an https endpoint: the broker presents its certificate and the school's is verified against the trusted CAs", async () => {
    const school = await startSchool(pki.school25BE);
    try {
      const outcome = await deliver(school.url, brokerAgent());
      expect(outcome).toEqual({ kind: 'delivered', httpStatus: 200 });
      expect(school.clientOins).toEqual([BROKER_OIN]);
    } finally {
      await school.close();
    }
  });

  test("a ping goes over the same transport: it presents the broker's certificate and trusts only the configured CAs", async () => {
    const school = await startSchool(pki.school25BE);
    const rogue = await startSchool(pki.untrusted);
    try {
      const agent = deliveryHttpsAgent(loadConfig(brokerTlsEnv(pki)).tls);
      expect(await pingEndpoint(school.url, 5000, agent)).toMatchObject({
        reachable: true,
        healthy: true,
        httpStatus: 200,
      });
      expect(school.clientOins).toEqual([BROKER_OIN]);
      const refused = await pingEndpoint(rogue.url, 5000, agent);
      expect(refused).toMatchObject({ reachable: false, healthy: false });
      expect(refused.error).toMatch(/^connection failed/);
      expect(rogue.clientOins).toEqual([]);
    } finally {
      await school.close();
      await rogue.close();
    }
  });

  test('to an endpoint whose certificate is not trusted: a transport failure, retried, nothing sent', async () => {
    const school = await startSchool(pki.untrusted);
    try {
      const outcome = await deliver(school.url, brokerAgent());
      expect(outcome.kind).toBe('retry');
      expect(outcome.httpStatus).toBeUndefined();
      expect(outcome.kind !== 'delivered' && outcome.error).toMatch(/connection failed/);
      expect(school.clientOins).toEqual([]);
    } finally {
      await school.close();
    }
  });
});

describe('ADMIN_PORT with TLS on', () => {
  let withAdmin: Broker;
  beforeAll(async () => {
    withAdmin = await startTestBroker({ env: { ...brokerTlsEnv(pki), ADMIN_PORT: '0' } });
  });
  afterAll(async () => {
    await withAdmin?.close();
  });

  const getTls = (url: string): Promise<number> =>
    new Promise((resolve, reject) => {
      https
        .get(url, { agent: false, ca: pki.ca, cert: pki.school25BE.cert, key: pki.school25BE.key }, (res) => {
          res.resume().on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });

  test('the operator routes answer on the plain-HTTP admin listener without a client certificate, and not on the TLS port', async () => {
    expect(withAdmin.adminBaseUrl.startsWith('http://')).toBe(true);
    expect((await fetch(`${withAdmin.adminBaseUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${withAdmin.adminBaseUrl}/readyz`)).status).toBe(200);
    // A school with a valid certificate finds none of them on the SOAP port.
    expect(await getTls(`${withAdmin.baseUrl}/metrics`)).toBe(404);
    expect(await getTls(`${withAdmin.baseUrl}/admin/`)).toBe(404);
  });
});
