import type { Pool } from './store/database.js';
import { type Institution, insertInstitutionIfAbsent } from './store/institutions.repo.js';

/** The demo schools of the README; their OINs follow the BRIN-derived pattern 00000007000<BRIN>00000. */
export const DEMO_INSTITUTIONS: readonly Institution[] = [
  { oin: '0000000700025BE00000', name: 'Demo VO-school 25BE', brins: ['25BE'], endpointUrl: null, enabled: true },
  { oin: '0000000700000AH00000', name: 'Demo VO-school 00AH', brins: ['00AH'], endpointUrl: null, enabled: true },
  { oin: '0000000700008PG00000', name: 'Demo VO-school 08PG', brins: ['08PG'], endpointUrl: null, enabled: true },
];

/** Adds the demo institutions that are missing; an institution changed by an operator is left alone. */
export async function seedDemoInstitutions(pool: Pool): Promise<number> {
  let added = 0;
  for (const institution of DEMO_INSTITUTIONS) if (await insertInstitutionIfAbsent(pool, institution)) added += 1;
  return added;
}
