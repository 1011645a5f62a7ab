import { DEMO_RECEIVER_PATH } from './delivery/demo-receiver.js';
import type { Pool } from './infra/database.js';
import { checkEndpointUrl, type EndpointPolicy } from './operator/endpoint-url.js';
import type { PopulationRecord } from './register/population.js';
import type { RioLink } from './register/rio-rules.js';
import { type Institution, insertInstitutionIfAbsent } from './store/institutions.repo.js';
import { replaceRioLinks, upsertOpleidingNiveaus } from './store/reference.repo.js';
import { upsertPopulationRecord } from './store/register.repo.js';

export { DEMO_RECEIVER_PATH };

/** The demo schools of the README; their OINs follow the BRIN-derived pattern 00000007000<BRIN>00000. */
export const DEMO_INSTITUTIONS: readonly Institution[] = [
  { oin: '0000000700025BE00000', name: 'Demo VO-school 25BE', brins: ['25BE'], endpointUrl: null, enabled: true },
  { oin: '0000000700000AH00000', name: 'Demo VO-school 00AH', brins: ['00AH'], endpointUrl: null, enabled: true },
  { oin: '0000000700008PG00000', name: 'Demo VO-school 08PG', brins: ['08PG'], endpointUrl: null, enabled: true },
];

/** Where the demo schools' endpoints are: the broker's demo receiver as the delivering process reaches it. */
export interface DemoEndpoints {
  /** DEMO_BASE_URL, e.g. http://localhost:8080. */
  readonly baseUrl: string;
  /** The operator's rules hold for the demo's endpoints too (SEED_DEMO in production needs them allowed). */
  readonly policy: EndpointPolicy;
}

/**
 * Adds the demo institutions that are missing, with their endpoint at the broker's built-in demo
 * receiver when `endpoints` is given; an institution changed by an operator is left alone.
 */
export async function seedDemoInstitutions(pool: Pool, endpoints?: DemoEndpoints): Promise<number> {
  let added = 0;
  for (const institution of DEMO_INSTITUTIONS) {
    const endpointUrl = endpoints
      ? await checkEndpointUrl(
          `${endpoints.baseUrl}${DEMO_RECEIVER_PATH}${institution.brins[0]}`,
          'DEMO_BASE_URL',
          endpoints.policy,
        )
      : null;
    if (await insertInstitutionIfAbsent(pool, { ...institution, endpointUrl })) added += 1;
  }
  return added;
}

/**
 * Demo pupils in the population register, so the README's examples are approved. Both went to a
 * Dutch primary school from the age of four, so neither is a nieuwkomer.
 */
export const DEMO_POPULATION: readonly PopulationRecord[] = [
  {
    bsn: '123456782',
    birthDate: '2013-04-17',
    gender: '2',
    surname: 'Jansen',
    prefixes: null,
    firstNames: 'Anna',
    address: {
      binnenlandsAdres: { straatnaam: 'Kerkstraat', huisnummer: '12', postcode: '9712AB', plaatsnaam: 'Groningen' },
    },
    dateOfDeath: null,
    firstEnrolmentPoVo: '2017-04-18',
  },
  {
    bsn: '111222333',
    birthDate: '2012-11-02',
    gender: '1',
    surname: 'Bakker',
    prefixes: 'de',
    firstNames: 'Daan',
    address: {
      binnenlandsAdres: { straatnaam: 'Dorpsweg', huisnummer: '3', postcode: '8011AA', plaatsnaam: 'Zwolle' },
    },
    dateOfDeath: null,
    firstEnrolmentPoVo: '2016-11-03',
  },
];

export async function seedDemoPopulation(pool: Pool): Promise<void> {
  for (const record of DEMO_POPULATION) await upsertPopulationRecord(pool, record);
}

/** The demo schools' onderwijslocaties in the RIO stand-in (the README's example uses 25BE00 at 100X300). */
export const DEMO_RIO_LINKS: readonly RioLink[] = [
  { vestiging: '25BE00', onderwijslocatie: '100X300' },
  { vestiging: '25BE01', onderwijslocatie: '100X301' },
  { vestiging: '00AH00', onderwijslocatie: '200X300' },
  { vestiging: '08PG00', onderwijslocatie: '300X300' },
];

/** The niveau of the demo's opleidingcodes (the README's enrolment uses 0050), for the exam results' level check. */
export const DEMO_OPLEIDING_NIVEAUS = [
  { opleidingcode: '0050', niveau: 'HAVO' },
  { opleidingcode: '0060', niveau: 'HAVO' },
] as const;

export async function seedDemoRio(pool: Pool): Promise<void> {
  await replaceRioLinks(pool, DEMO_RIO_LINKS);
  await upsertOpleidingNiveaus(pool, DEMO_OPLEIDING_NIVEAUS);
}
