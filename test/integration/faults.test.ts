/** One request per fault code of docs/protocol.md's table that applies to the inbound path; none may leave a trace. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { jobCount, storedCounts, useTestBroker } from '../support/broker.js';
import { ANONYMOUS, actionOf, BROKER_OIN, bodyFixture, envelope, lasRequest, post, send } from '../support/soap.js';

const INSCHRIJVING = 'aanleverenInschrijvingVO';
const validBody = (): string => bodyFixture('valid/aanleverenInschrijvingVO.xml');
const PATH = '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1';
const SOAP_ACTION = `"${actionOf(INSCHRIJVING)}"`;
/** Where DUO's sample client posts every contract; the SOAPAction chooses. */
const SHARED_PATH = '/vo-webservices/';

interface FaultCase {
  name: string;
  code: string;
  /** Words the faultstring must contain (the element or the reason). */
  mentions: string;
  request: () => { path: string; xml: string | Uint8Array; headers: Record<string, string> };
}

const viaLas =
  (options: Parameters<typeof lasRequest>[2], body = validBody()) =>
  () => {
    const request = lasRequest(INSCHRIJVING, body, options);
    return { path: request.path, xml: request.xml, headers: { soapaction: request.soapAction } };
  };
const raw =
  (xml: string | Uint8Array, headers: Record<string, string> = {}) =>
  () => ({ path: PATH, xml, headers: { soapaction: SOAP_ACTION, ...headers } });

const CASES: FaultCase[] = [
  {
    name: 'SOAP 1.2 envelope',
    code: 'VersionMismatch.DK0001',
    mentions: 'SOAP 1.2',
    request: raw(
      `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>${validBody()}</env:Body></env:Envelope>`,
    ),
  },
  {
    name: 'BRIN of another school',
    code: 'Client.DK0002',
    mentions: 'BRIN 00AH',
    request: viaLas(
      {},
      validBody()
        .replace('<bas:brin>25BE</bas:brin>', '<bas:brin>00AH</bas:brin>')
        .replace('<bas:verzendendeInstantie>25BE', '<bas:verzendendeInstantie>00AH'),
    ),
  },
  {
    name: 'verzendendeInstantie neither BRIN nor OIN',
    code: 'Client.DK0002',
    mentions: 'verzendendeInstantie',
    request: viaLas({}, validBody().replace('<bas:verzendendeInstantie>25BE', '<bas:verzendendeInstantie>08PG')),
  },
  {
    name: 'unregistered sender OIN',
    code: 'Client.DK0002',
    mentions: '00000099000000000001',
    request: viaLas({ from: `${ANONYMOUS}?oin=00000099000000000001` }),
  },
  {
    name: 'SOAPAction missing',
    code: 'Client.DK0003',
    mentions: 'SOAPAction',
    request: () => ({ ...raw(lasRequest(INSCHRIJVING, validBody()).xml)(), headers: {} }),
  },
  {
    name: 'SOAPAction of another contract',
    code: 'Client.DK0003',
    mentions: 'aanleverenIdentificerenPersoonVO',
    request: raw(lasRequest(INSCHRIJVING, validBody()).xml, {
      soapaction: `"${actionOf('aanleverenIdentificerenPersoonVO')}"`,
    }),
  },
  {
    name: 'SOAPAction and body of different operations',
    code: 'Client.DK0003',
    mentions: 'aanleverenInschrijvingVO_Request',
    request: () => {
      const action = actionOf('aanleverenVerwijderingInschrijvingVO');
      return { path: PATH, xml: envelope(validBody(), { action }), headers: { soapaction: `"${action}"` } };
    },
  },
  {
    name: 'shared address: SOAPAction missing',
    code: 'Client.DK0003',
    mentions: 'SOAPAction',
    request: () => ({ path: SHARED_PATH, xml: lasRequest(INSCHRIJVING, validBody()).xml, headers: {} }),
  },
  {
    name: 'shared address: SOAPAction of no inbound contract',
    code: 'Client.DK0003',
    mentions: 'terugkoppelenInschrijvingVO',
    request: () => ({
      path: SHARED_PATH,
      xml: lasRequest(INSCHRIJVING, validBody()).xml,
      headers: { soapaction: '"http://duo.nl/contract/DUO_VOTerugkoppeling_V1/terugkoppelenInschrijvingVO"' },
    }),
  },
  {
    name: 'shared address: SOAPAction and body of different contracts',
    code: 'Client.DK0003',
    mentions: 'aanleverenInschrijvingVO_Request',
    request: () => {
      const action = actionOf('aanleverenIdentificerenPersoonVO');
      return { path: SHARED_PATH, xml: envelope(validBody(), { action }), headers: { soapaction: `"${action}"` } };
    },
  },
  // The same precedence as at a contract's own address: header blocks are checked before the SOAPAction.
  {
    name: 'shared address: unknown header block and no SOAPAction',
    code: 'Client.DK0010',
    mentions: 'Tracking',
    request: () => ({
      path: SHARED_PATH,
      xml: lasRequest(INSCHRIJVING, validBody(), { extraHeaders: '<x:Tracking xmlns:x="urn:vendor">1</x:Tracking>' })
        .xml,
      headers: {},
    }),
  },
  {
    name: 'contract address: unknown header block and no SOAPAction',
    code: 'Client.DK0010',
    mentions: 'Tracking',
    request: () => ({
      path: PATH,
      xml: lasRequest(INSCHRIJVING, validBody(), { extraHeaders: '<x:Tracking xmlns:x="urn:vendor">1</x:Tracking>' })
        .xml,
      headers: {},
    }),
  },
  {
    name: 'wsa:Action differs from SOAPAction',
    code: 'Client.DK0003',
    mentions: 'wsa:Action',
    request: () => ({
      path: PATH,
      xml: envelope(validBody(), { action: actionOf('aanleverenVerwijderingInschrijvingVO') }),
      headers: { soapaction: SOAP_ACTION },
    }),
  },
  {
    name: 'body invalid against the XSD',
    code: 'Client.DK0004',
    mentions: 'element brin',
    request: viaLas({}, validBody().replace('<bas:brin>25BE', '<bas:brin>25be')),
  },
  {
    name: 'ontvangendeInstantie not DUO',
    code: 'Client.DK0004',
    mentions: 'ontvangendeInstantie',
    request: viaLas({}, validBody().replace('<bas:ontvangendeInstantie>DUO', '<bas:ontvangendeInstantie>08PG')),
  },
  { name: 'wsa:To missing', code: 'Client.DK0005', mentions: 'wsa:To', request: viaLas({ to: null }) },
  { name: 'wsa:Action missing', code: 'Client.DK0006', mentions: 'wsa:Action', request: viaLas({ action: null }) },
  {
    name: 'wsa:MessageID missing',
    code: 'Client.DK0007',
    mentions: 'wsa:MessageID',
    request: viaLas({ messageId: null }),
  },
  {
    name: 'invalid UTF-8 bytes',
    code: 'Client.DK0009',
    mentions: 'UTF-8',
    request: raw(
      Buffer.concat([
        Buffer.from(lasRequest(INSCHRIJVING, validBody()).xml.replace('Z</bas:datumTijd', 'Z</bas:datumTijd')),
        Buffer.from([0xc3, 0x28]),
      ]),
    ),
  },
  {
    name: 'charset ISO-8859-1',
    code: 'Client.DK0009',
    mentions: 'ISO-8859-1',
    request: raw(lasRequest(INSCHRIJVING, validBody()).xml, { 'content-type': 'text/xml; charset=ISO-8859-1' }),
  },
  {
    name: 'unknown header block',
    code: 'Client.DK0010',
    mentions: 'Tracking',
    request: viaLas({ extraHeaders: '<x:Tracking xmlns:x="urn:vendor">1</x:Tracking>' }),
  },
  {
    name: 'wsa:To addressed to another OIN',
    code: 'Client.DK0011',
    mentions: 'wsa:To',
    request: viaLas({ to: `${ANONYMOUS}?oin=00000099000000000001` }),
  },
  {
    name: 'wsa:MessageID twice',
    code: 'Client.DK0011',
    mentions: 'MessageID',
    request: viaLas({ extraHeaders: `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` }),
  },
  { name: 'wsa:From missing', code: 'Client.EK0020', mentions: 'wsa:From', request: viaLas({ from: null }) },
  { name: 'wsa:From without OIN', code: 'Client.EK0021', mentions: 'wsa:From', request: viaLas({ from: ANONYMOUS }) },
  {
    name: 'wsa:From with uppercase OIN parameter',
    code: 'Client.EK0021',
    mentions: 'oin=',
    request: viaLas({ from: `${ANONYMOUS}?OIN=0000000700025BE00000` }),
  },
  {
    name: 'wsa:To without valid OIN',
    code: 'Client.EK0022',
    mentions: 'wsa:To',
    request: viaLas({ to: `${ANONYMOUS}?oin=123` }),
  },
  {
    name: 'wsa:MessageID not a UUID',
    code: 'Client.EK0023',
    mentions: 'not a UUID',
    request: viaLas({ messageId: 'message-1' }),
  },
  {
    name: 'body over 1 MiB',
    code: 'Client.BB0001',
    mentions: 'limit',
    request: raw(
      lasRequest(INSCHRIJVING, validBody()).xml.replace(
        '<soapenv:Body>',
        `<soapenv:Body><!--${'x'.repeat(1_100_000)}-->`,
      ),
    ),
  },
  {
    name: 'DOCTYPE',
    code: 'Client.BB0002',
    mentions: 'DOCTYPE',
    request: raw(
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "v">]>${lasRequest(INSCHRIJVING, validBody()).xml.replace(/^<\?xml[^>]*\?>/, '')}`,
    ),
  },
  {
    name: 'two roots',
    code: 'Client.BB0003',
    mentions: 'not well-formed',
    request: raw(
      `${lasRequest(INSCHRIJVING, validBody()).xml}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>`,
    ),
  },
  {
    name: 'brotli Content-Encoding',
    code: 'Client.BB0004',
    mentions: 'br',
    request: raw(lasRequest(INSCHRIJVING, validBody()).xml, { 'content-encoding': 'br' }),
  },
  {
    name: 'corrupt gzip',
    code: 'Client.BB0004',
    mentions: 'gzip',
    request: raw(gzipSync(lasRequest(INSCHRIJVING, validBody()).xml).subarray(0, 200), { 'content-encoding': 'gzip' }),
  },
];

describe('SOAP faults', () => {
  const broker = useTestBroker();

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, fault) => {
    const before = await storedCounts(broker());
    const jobsBefore = await jobCount(broker());
    const request = fault.request();
    const answer = await post(broker().baseUrl, request.path, request.xml, request.headers);
    expect(answer.status).toBe(500);
    expect(answer.faultCode).toBe(fault.code);
    expect(answer.faultString).toContain(fault.mentions);
    expect(answer.text).not.toMatch(/at .*\.(js|ts):\d+/); // never a stack trace
    expect(await storedCounts(broker())).toEqual(before);
    expect(await jobCount(broker())).toBe(jobsBefore);
  });

  test('a disabled institution is refused with DK0002', async () => {
    await upsertInstitution(broker().pool, {
      oin: '0000000700008PG00000',
      name: 'off',
      brins: ['08PG'],
      endpointUrl: null,
      enabled: false,
    });
    await broker().registry.refresh();
    const body = validBody().replace(/25BE/g, '08PG');
    const answer = await send(
      broker().baseUrl,
      lasRequest(INSCHRIJVING, body, { from: `${ANONYMOUS}?oin=0000000700008PG00000` }),
    );
    expect(answer.faultCode).toBe('Client.DK0002');
  });

  test('a fault answers with WS-Addressing headers relating to the request', async () => {
    const messageId = `urn:uuid:${randomUUID()}`;
    const answer = await send(
      broker().baseUrl,
      lasRequest(INSCHRIJVING, validBody().replace('<bas:brin>25BE', '<bas:brin>25be'), { messageId }),
    );
    expect(answer.text).toContain(`<wsa:RelatesTo>${messageId}</wsa:RelatesTo>`);
    expect(answer.text).toContain('<wsa:Action>http://www.w3.org/2005/08/addressing/soap/fault</wsa:Action>');
    expect(answer.text).toContain('<bb:element>brin</bb:element>');
  });

  test('the broker OIN in ontvangendeInstantie is accepted like DUO', async () => {
    const answer = await send(
      broker().baseUrl,
      lasRequest(
        INSCHRIJVING,
        validBody().replace('<bas:ontvangendeInstantie>DUO', `<bas:ontvangendeInstantie>${BROKER_OIN}`),
      ),
    );
    expect(answer.faultCode).toBeNull();
  });
});
