/**
 * A person as the contracts carry them: the address of an identification or mutation, the details
 * `verstrekkenPersoonsgegevens` returns, and what a school asks to have identified.
 */
import type { IsoDate } from './enrolment.js';
import type { Pgn } from './pgn.js';

/** An address as given (binnenlands or buitenlands), its fields by element name; a "puntadres" is a binnenlandsAdres with straatnaam `.`. */
export type Address =
  | { readonly binnenlandsAdres: Readonly<Record<string, string>> }
  | { readonly buitenlandsAdres: Readonly<Record<string, string>> };

/** A person as the register knows them (`verstrekkenPersoonsgegevens`); an unidentified person has none of it. */
export interface PersonData {
  readonly pgn?: Pgn;
  readonly achternaam?: string;
  readonly voorvoegsels?: string;
  readonly voornamen?: string;
  readonly geboorteDatum?: IsoDate;
  readonly geslacht?: string;
  readonly address?: Address;
  readonly datumOverlijden?: IsoDate;
}

/** What `aanleverenIdentificerenPersoonVO` asks: a person by PGN, or by name and address without one. */
export interface IdentificationRequest {
  readonly huidigOnderwijsnummer?: string;
  readonly geboorteDatum: IsoDate;
  readonly geslacht: string;
  readonly metPgn?: Pgn;
  readonly zonderPgn?: {
    readonly achternaam: string;
    readonly voorvoegsels?: string;
    readonly voornamen?: string;
    readonly address: Address;
  };
}
