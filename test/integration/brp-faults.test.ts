/**
 * The population-register contract goes through the same gate, envelope rules, schema and
 * authorisation as every inbound contract: only the configured BRP source may send it, and the BRP
 * source may send nothing else. A refused message leaves no trace.
 */
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { jobCount, storedCounts, useTestBroker } from '../support/broker.js';
import {
  ANONYMOUS,
  actionOf,
  BRP_OIN,
  bodyFixture,
  elementText,
  envelope,
  lasRequest,
  OIN_25BE,
  post,
  send,
} from '../support/soap.js';

const MUTATIE = 'verwerkenPersoonsmutatie';
const mutation = (): string => bodyFixture('valid/verwerkenPersoonsmutatie-adres.xml');
const fromOin = (oin: string) => ({ from: `${ANONYMOUS}?oin=${oin}` });

interface FaultCase {
  name: string;
  code: string;
  mentions: string;
  request: () => { path: string; soapAction: string; xml: string };
}

const CASES: FaultCase[] = [
  {
    name: 'a mutation from a school',
    code: 'Client.DK0002',
    mentions: 'only from the population-register source',
    request: () => lasRequest(MUTATIE, mutation().replace(`>${BRP_OIN}<`, `>${OIN_25BE}<`), fromOin(OIN_25BE)),
  },
  {
    name: 'a mutation from an unregistered OIN',
    code: 'Client.DK0002',
    mentions: '00000099000000000001',
    request: () => lasRequest(MUTATIE, mutation(), fromOin('00000099000000000001')),
  },
  {
    name: 'a mutation whose verzendendeInstantie is not the BRP source',
    code: 'Client.DK0002',
    mentions: 'verzendendeInstantie',
    request: () => lasRequest(MUTATIE, mutation().replace(`>${BRP_OIN}<`, '>25BE<')),
  },
  {
    name: 'an enrolment from the BRP source',
    code: 'Client.DK0002',
    mentions: 'may not send aanleverenInschrijvingVO',
    request: () =>
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'), fromOin(BRP_OIN)),
  },
  {
    name: 'an identification request from the BRP source',
    code: 'Client.DK0002',
    mentions: 'may not send aanleverenIdentificerenPersoonVO',
    request: () =>
      lasRequest(
        'aanleverenIdentificerenPersoonVO',
        bodyFixture('valid/aanleverenIdentificerenPersoonVO-metPGN.xml').replace(
          '>0000000700025BE00000<',
          `>${BRP_OIN}<`,
        ),
        fromOin(BRP_OIN),
      ),
  },
  {
    name: 'a mutation posted to the enrolment endpoint',
    code: 'Client.DK0003',
    mentions: 'not an operation of DUO_VOAanlevering_InschrijvingVO_V1',
    request: () => ({
      ...lasRequest(MUTATIE, mutation()),
      path: '/vo-webservices/DUO_VOAanlevering_InschrijvingVO_V1',
    }),
  },
  {
    name: 'an enrolment body under the mutation action',
    code: 'Client.DK0003',
    mentions: 'does not belong to operation verwerkenPersoonsmutatie',
    request: () => ({ ...lasRequest(MUTATIE, bodyFixture('valid/aanleverenInschrijvingVO.xml')) }),
  },
  {
    name: 'a mutation that changes nothing',
    code: 'Client.DK0004',
    mentions: 'verwerkenPersoonsmutatie_Request',
    request: () => lasRequest(MUTATIE, mutation().replace(/<brp:binnenlandsAdres>[\s\S]*<\/brp:binnenlandsAdres>/, '')),
  },
  {
    name: 'a puntadres street in the contract namespace',
    code: 'Client.DK0004',
    mentions: 'straatnaam',
    request: () =>
      lasRequest(
        MUTATIE,
        bodyFixture('valid/verwerkenPersoonsmutatie-puntadres.xml').replace(/bd:straatnaam/g, 'brp:straatnaam'),
      ),
  },
  {
    name: 'ontvangendeInstantie not DUO',
    code: 'Client.DK0004',
    mentions: 'ontvangendeInstantie',
    request: () =>
      lasRequest(MUTATIE, mutation().replace('<bd:ontvangendeInstantie>DUO', '<bd:ontvangendeInstantie>25BE')),
  },
  {
    name: 'wsa:To addressed to another OIN',
    code: 'Client.DK0011',
    mentions: 'wsa:To',
    request: () => lasRequest(MUTATIE, mutation(), { to: `${ANONYMOUS}?oin=00000099000000000001` }),
  },
  {
    name: 'wsa:From missing',
    code: 'Client.EK0020',
    mentions: 'wsa:From',
    request: () => lasRequest(MUTATIE, mutation(), { from: null }),
  },
];

describe('DUO_BRP_Persoonsmutaties_V1 faults', () => {
  // No sweeper wake-ups in the way: these tests count the jobs the accept path adds.
  const broker = useTestBroker({ env: { SWEEP_GRACE_MS: '600000' } });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, fault) => {
    const before = await storedCounts(broker());
    const jobsBefore = await jobCount(broker());
    const answer = await send(broker().baseUrl, fault.request());
    expect(answer.status).toBe(500);
    expect(answer.faultCode).toBe(fault.code);
    expect(answer.faultString).toContain(fault.mentions);
    expect(await storedCounts(broker())).toEqual(before);
    expect(await jobCount(broker())).toBe(jobsBefore);
  });

  test('the BRP source registered as an institution with a BRIN still may not deliver enrolments', async () => {
    await upsertInstitution(broker().pool, {
      oin: BRP_OIN,
      name: 'misconfigured',
      brins: ['25BE'],
      endpointUrl: null,
      enabled: true,
    });
    await broker().registry.refresh();
    const body = bodyFixture('valid/aanleverenInschrijvingVO.xml').replace(
      '<bas:verzendendeInstantie>25BE',
      `<bas:verzendendeInstantie>${BRP_OIN}`,
    );
    const answer = await send(broker().baseUrl, lasRequest('aanleverenInschrijvingVO', body, fromOin(BRP_OIN)));
    expect(answer.faultCode).toBe('Client.DK0002');
  });

  test('the BRP source gets a receipt J, addressed back to it', async () => {
    const answer = await send(broker().baseUrl, lasRequest(MUTATIE, mutation()));
    expect(answer.faultString).toBeNull();
    expect(elementText(answer.text, 'ontvangstBevestiging')).toBe('J');
    expect(elementText(answer.text, 'ontvangendeInstantie')).toBe(BRP_OIN);
    expect(elementText(answer.text, 'To')).toBe(`${ANONYMOUS}?oin=${BRP_OIN}`);
  });
});

describe('BRP_SOURCE_OIN decides who the BRP source is', () => {
  const OTHER = '00000099000000000200';
  const broker = useTestBroker({ env: { BRP_SOURCE_OIN: OTHER } });

  test('the default source is refused, the configured one accepted', async () => {
    const refused = await send(broker().baseUrl, lasRequest(MUTATIE, mutation()));
    expect(refused.faultCode).toBe('Client.DK0002');
    const body = mutation().replace(`>${BRP_OIN}<`, `>${OTHER}<`);
    const accepted = await post(
      broker().baseUrl,
      `/vo-webservices/DUO_BRP_Persoonsmutaties_V1`,
      envelope(body, { action: actionOf(MUTATIE), ...fromOin(OTHER) }),
      { soapaction: `"${actionOf(MUTATIE)}"` },
    );
    expect(accepted.faultString).toBeNull();
    expect(elementText(accepted.text, 'ontvangstBevestiging')).toBe('J');
  });
});
