/** A client generator needs only the WSDL URL: every import resolves over HTTP from the running broker. */
import soap from 'soap';
import { INBOUND_CONTRACTS, OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';

/** Inbound contracts, and the outbound one institutions build their endpoint from. */
const PUBLISHED = [...INBOUND_CONTRACTS, OUTBOUND_CONTRACT];

import { useTestBroker } from '../support/broker.js';

/** Follows every wsdl/xsd import and include from a URL, returning each fetched URL and its status. */
async function crawl(start: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const queue = [start];
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    const response = await fetch(url);
    seen.set(url, response.status);
    const text = await response.text();
    for (const match of text.matchAll(/schemaLocation="([^"]+)"/g)) queue.push(new URL(match[1]!, url).toString());
  }
  return seen;
}

describe('published WSDLs and XSDs', () => {
  const broker = useTestBroker();

  test.each(PUBLISHED.map((c) => c.name))('%s: WSDL and all imported XSDs resolve over HTTP', async (contract) => {
    const fetched = await crawl(`${broker().baseUrl}/vo-webservices/${contract}?wsdl`);
    expect(fetched.size).toBeGreaterThanOrEqual(4); // WSDL, contract schema, base schema, CORE/BASIS
    for (const [url, status] of fetched) expect([url, status]).toEqual([url, 200]);
  });

  test.each(PUBLISHED)('$name: soap:address points at this server', async (contract) => {
    const wsdl = await (await fetch(`${broker().baseUrl}/vo-webservices/${contract.name}?wsdl`)).text();
    expect(wsdl).toContain(`location="${broker().baseUrl}/vo-webservices/${contract.name}"`);
    for (const operation of contract.operations) expect(wsdl).toContain(`soapAction="${operation.action}"`);
  });

  test.each(PUBLISHED)('$name: node-soap builds a client from the URL alone', async (contract) => {
    const client = await soap.createClientAsync(`${broker().baseUrl}/vo-webservices/${contract.name}?wsdl`);
    const description = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    const port = Object.values(Object.values(description)[0]!)[0]!;
    expect(Object.keys(port).sort()).toEqual(contract.operations.map((o) => o.name).sort());
  });

  test('an unknown contract is a 404 that lists the services', async () => {
    const response = await fetch(`${broker().baseUrl}/vo-webservices/Nope?wsdl`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('DUO_VOAanlevering_InschrijvingVO_V1?wsdl');
  });
});
