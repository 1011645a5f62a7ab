/** A LAS built with Python's zeep: it loads each WSDL from the running broker and sees DUO's names. */
import { INBOUND_CONTRACTS, OUTBOUND_CONTRACT } from '../../src/infra/catalogue.js';
import { useTestBroker } from '../support/broker.js';
import { CONTRACT_NAMES } from '../support/duo-names.js';
import { DEBIAN_PYTHON, runForJson, ZEEP_DESCRIBE } from '../support/las-clients.js';

interface ZeepMessage {
  element: string;
  type: string | null;
}
interface ZeepView {
  services: Array<{
    name: string;
    ports: Array<{
      name: string;
      binding: string;
      portType: string;
      address: string;
      operations: Record<string, { soapAction: string; input: ZeepMessage; output: ZeepMessage }>;
    }>;
  }>;
}

describe('zeep as a LAS', () => {
  const broker = useTestBroker();

  test.each([...INBOUND_CONTRACTS, OUTBOUND_CONTRACT])(
    "$name: loads from its URL with DUO's service, port, binding and type names",
    async (contract) => {
      const view = await runForJson<ZeepView>(DEBIAN_PYTHON, [
        ZEEP_DESCRIBE,
        `${broker().baseUrl}/vo-webservices/${contract.name}?wsdl`,
      ]);
      const names = CONTRACT_NAMES[contract.name]!;
      expect(view.services).toEqual([
        {
          name: names.service,
          ports: [
            {
              name: names.port,
              binding: names.binding,
              portType: names.portType,
              address: `${broker().baseUrl}/vo-webservices/${contract.name}`,
              operations: Object.fromEntries(
                contract.operations.map((operation) => [
                  operation.name,
                  {
                    soapAction: operation.action,
                    input: { element: operation.requestElement, type: names.rootTypes[operation.name]![0] },
                    output: { element: operation.responseElement, type: names.rootTypes[operation.name]![1] },
                  },
                ]),
              ),
            },
          ],
        },
      ]);
    },
  );
});
