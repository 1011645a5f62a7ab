/**
 * A LAS built the way PHP vendors build one: SoapClient loads each WSDL from the running broker and
 * calls every inbound operation with the LAS's own WS-Addressing headers (docs/protocol.md).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { INBOUND_CONTRACTS, OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { useTestBroker } from '../support/broker.js';
import { CONTRACT_NAMES } from '../support/duo-names.js';
import { PHP_LAS_CLIENT, runForJson, soapClientValue } from '../support/las-clients.js';
import {
  ANONYMOUS,
  actionOf,
  BROKER_OIN,
  bodyFixture,
  CONTRACT_OF,
  defaultSenderOin,
  elementText,
  FIXTURES,
  OIN_25BE,
  operationOfFixture,
} from '../support/soap.js';

interface PhpAnswer {
  functions?: string[];
  receipt?: Record<string, string>;
  fault?: { code: string; string: string };
  request?: string;
  requestHeaders?: string;
  error?: string;
}

const VALID_FIXTURES = fs
  .readdirSync(path.join(FIXTURES, 'valid'))
  .filter((f) => f.endsWith('.xml'))
  .map((f) => path.join('valid', f));
const OPERATIONS = INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => o.name));

/** The four headers a LAS adds itself: OINs in To and From, as docs/protocol.md says. */
function lasHeaders(operation: string, senderOin = defaultSenderOin(operation)): Record<string, string> {
  return {
    Action: actionOf(operation),
    To: `${ANONYMOUS}?oin=${BROKER_OIN}`,
    MessageID: `urn:uuid:${randomUUID()}`,
    From: `${ANONYMOUS}?oin=${senderOin}`,
  };
}

function php(request: Record<string, unknown>): Promise<PhpAnswer> {
  return runForJson<PhpAnswer>('php', [PHP_LAS_CLIENT], JSON.stringify(request));
}

describe('PHP SoapClient as a LAS', () => {
  const broker = useTestBroker();
  const wsdlUrl = (contract: string): string => `${broker().baseUrl}/vo-webservices/${contract}?wsdl`;

  test.each([...INBOUND_CONTRACTS, OUTBOUND_CONTRACT].map((c) => c.name))(
    "%s: the WSDL loads from its URL, with DUO's root type names",
    async (contract) => {
      const answer = await php({ mode: 'describe', wsdl: wsdlUrl(contract) });
      expect(answer.error).toBeUndefined();
      const expected = Object.entries(CONTRACT_NAMES[contract]!.rootTypes).map(
        ([operation, [request, response]]) => `${response} ${operation}(${request} $body)`,
      );
      expect(answer.functions!.sort()).toEqual(expected.sort());
    },
  );

  test.each(VALID_FIXTURES)("%s: a call with the LAS's own WS-Addressing headers gets a receipt", async (fixture) => {
    const operation = operationOfFixture(fixture);
    const body = bodyFixture(fixture);
    const answer = await php({
      mode: 'call',
      wsdl: wsdlUrl(CONTRACT_OF[operation]!),
      operation,
      body: soapClientValue(body),
      headers: lasHeaders(operation),
    });
    expect(answer.fault ?? answer.error).toBeUndefined();
    expect(answer.receipt).toMatchObject({
      ontvangstBevestiging: 'J',
      verzendendeInstantie: elementText(body, 'ontvangendeInstantie'),
      ontvangendeInstantie: elementText(body, 'verzendendeInstantie'),
    });
    expect(answer.request!.match(/<[\w-]+:Action>/g)).toHaveLength(1); // only the LAS's own: nothing in the WSDL adds another
    const stored = await broker().pool.query('SELECT operation FROM inbound_messages WHERE document_id = $1', [
      elementText(body, 'identificatiecodeBedrijfsdocument'),
    ]);
    expect(stored.rows).toEqual([{ operation }]);
  });

  test.each(OPERATIONS)(
    "%s at the shared address /vo-webservices/, as DUO's sample client posts, gets a receipt",
    async (operation) => {
      const fixture = VALID_FIXTURES.find((f) => operationOfFixture(f) === operation)!;
      const answer = await php({
        mode: 'call',
        wsdl: wsdlUrl(CONTRACT_OF[operation]!),
        location: `${broker().baseUrl}/vo-webservices/`,
        operation,
        body: soapClientValue(bodyFixture(fixture)),
        headers: lasHeaders(operation),
      });
      expect(answer.fault ?? answer.error).toBeUndefined();
      expect(answer.receipt?.ontvangstBevestiging).toBe('J');
      expect(answer.requestHeaders).toMatch(/^POST \/vo-webservices\/ HTTP\/1\.1\r\n/); // the shared address, not the WSDL's own
    },
  );

  test('a BRIN the sender does not hold surfaces as a SoapFault with our fault code', async () => {
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
      /(<bas:brin>)25BE(<\/bas:brin>)/,
      '$100AH$2',
    );
    const answer = await php({
      mode: 'call',
      wsdl: wsdlUrl('DUO_VOAanlevering_InschrijvingVO_V1'),
      operation: 'aanleverenInschrijvingVO',
      body: soapClientValue(body),
      headers: lasHeaders('aanleverenInschrijvingVO', OIN_25BE),
    });
    expect(answer.fault?.code).toMatch(/(^|:)Client\.DK0002$/);
    expect(answer.fault?.string).toMatch(/^DK0002/);
  });
});
