import { contractBySoapAction, fixedContract } from '../../src/inbound/contract-choice.js';
import { findContract, INBOUND_CONTRACTS } from '../../src/infra/catalogue.js';
import { BrokerFault } from '../../src/infra/errors.js';

const INSCHRIJVING = 'http://duo.nl/contract/DUO_VOAanlevering_InschrijvingVO_V1/aanleverenInschrijvingVO';

function faultOf(choose: () => unknown): string {
  try {
    choose();
  } catch (error) {
    if (error instanceof BrokerFault) return error.faultCode;
    throw error;
  }
  return 'no fault';
}

describe('the contract at the shared address /vo-webservices/', () => {
  test.each(INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => [o.action, c.name] as const)))(
    'SOAPAction %s chooses %s',
    (action, contract) => {
      expect(contractBySoapAction(`"${action}"`).name).toBe(contract);
    },
  );

  test.each([
    ['quoted', `"${INSCHRIJVING}"`, 'DUO_VOAanlevering_InschrijvingVO_V1'],
    ['bare', INSCHRIJVING, 'DUO_VOAanlevering_InschrijvingVO_V1'],
    ['white space around the quotes', `  "${INSCHRIJVING}" `, 'DUO_VOAanlevering_InschrijvingVO_V1'],
  ])('SOAPAction %s', (_case, raw, contract) => {
    expect(contractBySoapAction(raw).name).toBe(contract);
  });

  test.each([
    ['missing', undefined],
    ['empty', ''],
    ['empty quotes (SOAP 1.1: "no intent")', '""'],
    ['another case', INSCHRIJVING.toUpperCase()],
    [
      'the outbound contract, which institutions implement',
      'http://duo.nl/contract/DUO_VOTerugkoppeling_V1/terugkoppelenInschrijvingVO',
    ],
    ['a contract without the operation', 'http://duo.nl/contract/DUO_VOAanlevering_InschrijvingVO_V1'],
  ])('SOAPAction %s is Client.DK0003', (_case, raw) => {
    expect(faultOf(() => contractBySoapAction(raw))).toBe('Client.DK0003');
  });

  test("a contract's own address keeps its contract whatever the SOAPAction (the envelope rules check it)", () => {
    const contract = findContract('DUO_VOInformatiediensten_IdentificerenPersoonVO_V1')!;
    expect(fixedContract(contract)(`"${INSCHRIJVING}"`)).toBe(contract);
    expect(fixedContract(contract)(undefined)).toBe(contract);
  });
});

describe('an unknown SOAPAction in the fault', () => {
  test('is echoed cut to 120 characters', () => {
    const long = `urn:${'x'.repeat(5000)}`;
    let reason = '';
    try {
      contractBySoapAction(long);
    } catch (error) {
      reason = (error as BrokerFault).reason;
    }
    expect(reason).toContain(`'${long.slice(0, 120)}'`);
    expect(reason.length).toBeLessThan(200);
  });
});
