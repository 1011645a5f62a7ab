import type { PersonData } from '../../register/person.js';
import type { PopulationRecord } from '../../register/population.js';

/** A population-register entry as `verstrekkenPersoonsgegevens` carries it (identification and mutations alike). */
export function personFromPopulation(record: PopulationRecord): PersonData {
  return {
    pgn: { kind: 'BSN', value: record.bsn },
    achternaam: record.surname,
    ...(record.prefixes ? { voorvoegsels: record.prefixes } : {}),
    ...(record.firstNames ? { voornamen: record.firstNames } : {}),
    geboorteDatum: record.birthDate,
    geslacht: record.gender,
    ...(record.address ? { address: record.address } : {}),
    ...(record.dateOfDeath ? { datumOverlijden: record.dateOfDeath } : {}),
  };
}
