import { mutationMessage } from '../../src/operator/submit-person-mutation.js';
import { bodyElementOf, personMutationOf } from '../../src/processing/parse-message.js';
import { BROKER_OIN, BRP_OIN } from '../support/soap.js';

const parties = { brpSourceOin: BRP_OIN, brokerOin: BROKER_OIN };

describe('the mutation message the CLI stores', () => {
  test('is the request the BRP source would send, and parses back to the same mutation', () => {
    const mutation = {
      bsn: '123456782',
      name: { achternaam: 'Vries & Zn', voorvoegsels: 'de' },
      address: { binnenlandsAdres: { straatnaam: '.', plaatsnaam: 'Groningen' } },
      datumOverlijden: '2026-03-01',
    };
    const message = mutationMessage(parties, mutation, new Date('2026-11-27T10:00:00Z'));
    expect(message).toMatchObject({
      contract: 'DUO_BRP_Persoonsmutaties_V1',
      operation: 'verwerkenPersoonsmutatie',
      senderOin: BRP_OIN,
      brin: null,
      documentTime: '2026-11-27T10:00:00.000Z',
    });
    expect(message.rawXml).toContain(
      `<wsa:From><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous?oin=${BRP_OIN}</wsa:Address></wsa:From>`,
    );
    expect(personMutationOf(bodyElementOf(message.rawXml, 'verwerkenPersoonsmutatie_Request'))).toEqual(mutation);
  });

  test('is refused when the contract schema refuses it', () => {
    expect(() =>
      mutationMessage(parties, {
        bsn: '123456782',
        address: { binnenlandsAdres: { postcode: '0123AB', plaatsnaam: 'X' } },
      }),
    ).toThrow(/postcode/);
  });
});
