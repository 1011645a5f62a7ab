/**
 * Who the sender is, read strictly (docs/security.md): wsa:From/wsa:Address in the WS-Addressing
 * namespace only, the URL's own `oin` query parameter only; a header block the broker does not process
 * must not be ignored when marked mustUnderstand (wsse:Security it processes); the WSDL's address is configuration.
 */
import http from 'node:http';
import { storedCounts, useTestBroker } from '../support/broker.js';
import { ANONYMOUS, bodyFixture, lasRequest, OIN_25BE, send } from '../support/soap.js';

const PUBLIC_URL = 'https://bron.example.nl';
const broker = useTestBroker({ env: { PUBLIC_URL: `${PUBLIC_URL}/` } });
const INSCHRIJVING = 'aanleverenInschrijvingVO';
const body = (): string => bodyFixture('valid/aanleverenInschrijvingVO.xml');
const WSA = 'http://www.w3.org/2005/08/addressing';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** The request with its wsa:From replaced by `from` (the whole element). */
function withFrom(from: string): { path: string; soapAction: string; xml: string } {
  const request = lasRequest(INSCHRIJVING, body());
  return { ...request, xml: request.xml.replace(/<wsa:From>.*?<\/wsa:From>/, from) };
}

async function expectRefused(
  request: { path: string; soapAction: string; xml: string },
  faultCode: string,
): Promise<void> {
  const before = await storedCounts(broker());
  const answer = await send(broker().baseUrl, request);
  expect(answer.faultCode).toBe(faultCode);
  expect(await storedCounts(broker())).toEqual(before);
}

describe('wsa:From', () => {
  test('an Address element in another namespace is not wsa:Address: Client.EK0021', async () => {
    await expectRefused(
      withFrom(`<wsa:From><x:Address xmlns:x="urn:vendor">${ANONYMOUS}?oin=${OIN_25BE}</x:Address></wsa:From>`),
      'Client.EK0021',
    );
  });

  test("an oin= inside another parameter's value is not the address's oin: Client.EK0021", async () => {
    await expectRefused(
      withFrom(
        `<wsa:From><wsa:Address>${ANONYMOUS}?next=https://las.example/?oin=${OIN_25BE}</wsa:Address></wsa:From>`,
      ),
      'Client.EK0021',
    );
  });

  test("an oin= in the fragment is not the address's oin: Client.EK0021", async () => {
    await expectRefused(
      withFrom(`<wsa:From><wsa:Address>${ANONYMOUS}#?oin=${OIN_25BE}</wsa:Address></wsa:From>`),
      'Client.EK0021',
    );
  });

  test('two oin parameters are ambiguous: Client.EK0021', async () => {
    await expectRefused(
      withFrom(
        `<wsa:From><wsa:Address>${ANONYMOUS}?oin=${OIN_25BE}&amp;oin=0000000700000AH00000</wsa:Address></wsa:From>`,
      ),
      'Client.EK0021',
    );
  });

  test('the oin parameter among others, with wsa:Address after a foreign element, is accepted', async () => {
    const answer = await send(
      broker().baseUrl,
      withFrom(
        `<wsa:From><x:Address xmlns:x="urn:vendor">ignored</x:Address><wsa:Address>${ANONYMOUS}?las=x&amp;oin=${OIN_25BE}</wsa:Address></wsa:From>`,
      ),
    );
    expect(answer).toMatchObject({ status: 200, faultCode: null });
  });
});

describe('mustUnderstand', () => {
  test('a wsu header block marked mustUnderstand="1" gets the SOAP 1.1 MustUnderstand fault, nothing stored', async () => {
    const timestamp = `<wsu:Timestamp xmlns:wsu="${WSU}" soapenv:mustUnderstand="1"><wsu:Created>2026-01-01T00:00:00Z</wsu:Created></wsu:Timestamp>`;
    await expectRefused(lasRequest(INSCHRIJVING, body(), { extraHeaders: timestamp }), 'MustUnderstand.BB0005');
  });

  test('the attribute under another prefix of the SOAP 1.1 namespace counts too', async () => {
    const timestamp = `<wsu:Timestamp xmlns:wsu="${WSU}" xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:mustUnderstand="true"/>`;
    await expectRefused(lasRequest(INSCHRIJVING, body(), { extraHeaders: timestamp }), 'MustUnderstand.BB0005');
  });

  test('a wsse:Security header marked mustUnderstand is understood: it is verified, so an empty one gets Client.EK0031', async () => {
    const security = `<wsse:Security xmlns:wsse="${WSSE}" soapenv:mustUnderstand="1"><wsse:BinarySecurityToken>AAAA</wsse:BinarySecurityToken></wsse:Security>`;
    await expectRefused(lasRequest(INSCHRIJVING, body(), { extraHeaders: security }), 'Client.EK0031');
  });

  test('WS-Addressing headers marked mustUnderstand are accepted', async () => {
    const request = lasRequest(INSCHRIJVING, body());
    const xml = request.xml.replace('<wsa:Action>', '<wsa:Action soapenv:mustUnderstand="1">');
    const answer = await send(broker().baseUrl, { ...request, xml });
    expect(answer).toMatchObject({ status: 200, faultCode: null });
    expect(xml).toContain(WSA);
  });
});

describe('the WSDL', () => {
  test('soap:address is PUBLIC_URL whatever Host the request names', async () => {
    const wsdl = await new Promise<string>((resolve, reject) => {
      http
        .get(
          `${broker().baseUrl}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1?wsdl`,
          { headers: { host: 'evil.example:666' } },
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
    expect(wsdl).toContain(`location="${PUBLIC_URL}/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1"`);
    expect(wsdl).not.toContain('evil.example');
  });
});
