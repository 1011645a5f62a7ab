/** DUO's sample client posts every contract to one address, /vo-webservices/: the SOAPAction chooses the contract. */
import { INBOUND_CONTRACTS } from '../../src/infra/catalogue.js';
import { useTestBroker } from '../support/broker.js';
import { bodyFixture, elementText, lasRequest, send } from '../support/soap.js';

const FIXTURE_OF: Record<string, string> = {
  aanleverenInschrijvingVO: 'valid/aanleverenInschrijvingVO.xml',
  aanleverenVerwijderingInschrijvingVO: 'valid/aanleverenVerwijderingInschrijvingVO.xml',
  aanleverenIdentificerenPersoonVO: 'valid/aanleverenIdentificerenPersoonVO-metPGN.xml',
  verwerkenPersoonsmutatie: 'valid/verwerkenPersoonsmutatie-adres.xml',
  aanleverenExamenresultaatVO: 'valid/aanleverenExamenresultaatVO.xml',
  aanleverenVerwijderingExamenresultaatVO: 'valid/aanleverenVerwijderingExamenresultaatVO.xml',
  aanvragenVooropleidingen: 'valid/aanvragenVooropleidingen.xml',
  stoppenAbonnementVooropleidingen: 'valid/stoppenAbonnementVooropleidingen.xml',
};

describe('the shared address /vo-webservices/', () => {
  const broker = useTestBroker();

  test.each(INBOUND_CONTRACTS.flatMap((c) => c.operations.map((o) => [o.name, c.name, o.responseElement] as const)))(
    '%s: receipt of %s',
    async (operation, contract, responseElement) => {
      const body = bodyFixture(FIXTURE_OF[operation]!);
      const answer = await send(broker().baseUrl, { ...lasRequest(operation, body), path: '/vo-webservices/' });
      expect(answer.faultString).toBeNull();
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(new RegExp(`<\\w+:${responseElement} xmlns:\\w+="http://duo.nl/schema/${contract}"`));
      const stored = await broker().pool.query(
        'SELECT contract, operation FROM inbound_messages WHERE document_id = $1',
        [elementText(body, 'identificatiecodeBedrijfsdocument')],
      );
      expect(stored.rows).toEqual([{ contract, operation }]);
    },
  );

  test("a contract's own address still refuses another contract's SOAPAction", async () => {
    const request = lasRequest(
      'aanleverenIdentificerenPersoonVO',
      bodyFixture(FIXTURE_OF.aanleverenIdentificerenPersoonVO!),
    );
    const answer = await send(broker().baseUrl, {
      ...request,
      path: '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1',
    });
    expect(answer.faultCode).toBe('Client.DK0003');
  });
});
