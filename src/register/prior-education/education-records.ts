/**
 * The records of the MBO and HO stand-in (docs/prior-education.md): what an operator loads for the
 * registers the broker does not own, one record per participation, diploma or degree.
 */
import type { IsoDate } from '../enrolment.js';
import type { MboResultaat } from './prior-education-rules.js';

export type MboNiveau = 1 | 2 | 3 | 4;

export interface MboParticipationRecord {
  readonly kind: 'mbo-deelname';
  readonly pgn: string;
  readonly brin: string;
  readonly volgnummer: string;
  readonly crebo: string;
  readonly niveau: MboNiveau;
  readonly datumInschrijving: IsoDate;
  readonly datumUitschrijving?: IsoDate;
  readonly leerweg?: 'BOL' | 'BBL';
}

export interface MboDiplomaRecord {
  readonly kind: 'mbo-diploma';
  readonly pgn: string;
  readonly brin: string;
  readonly crebo: string;
  readonly niveau: MboNiveau;
  readonly datumDiploma: IsoDate;
  readonly resultaten: readonly MboResultaat[];
}

export interface HoParticipationRecord {
  readonly kind: 'ho-deelname';
  readonly pgn: string;
  readonly brin: string;
  readonly volgnummer: string;
  readonly opleidingcode: string;
  readonly datumInschrijving: IsoDate;
  readonly datumUitschrijving?: IsoDate;
}

export interface HoDegreeRecord {
  readonly kind: 'ho-graad';
  readonly pgn: string;
  readonly brin: string;
  readonly opleidingcode: string;
  readonly graad: string;
  readonly datumGraad: IsoDate;
}

export type EducationRecord = MboParticipationRecord | MboDiplomaRecord | HoParticipationRecord | HoDegreeRecord;
