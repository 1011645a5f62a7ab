import type { Pool } from '../infra/database.js';
import { maskedPgn } from '../register/pgn.js';
import { SIGNALS, type SignalCode } from '../register/signals.js';
import { findInstitution } from '../store/institutions.repo.js';
import {
  countQualitySignals,
  listQualityRuns,
  listQualitySignals,
  type QualityRun,
  type QualitySignalRow,
} from '../store/quality.repo.js';
import { type FieldNames, OperatorInputError, parseBrin, parseOin } from './input.js';

/** What operators filter the recorded quality signals by: a school's OIN (all its BRINs), a BRIN, a code. */
export interface QualityFilter {
  readonly institutionOin?: string;
  readonly brin?: string;
  readonly code?: string;
  readonly limit?: number;
}

/** A signal as operators see it: the pupil's number masked (`******782`), never in full. */
export interface QualitySignalView extends Omit<QualitySignalRow, 'pgn'> {
  readonly maskedPgn: string;
  readonly omschrijving: string;
}

/** Throws when the code is not one of the catalogue's quality codes. */
export function parseQualityCode(value: string): string {
  if (!/^Q\d{4}$/.test(value) || !(value in SIGNALS))
    throw new OperatorInputError(`a quality signal code such as Q0001, got '${value}'`);
  return value;
}

/** A quality filter as the CLI's options or the API's query spell it; `names` are the fields as the caller calls them. */
export function parseQualityFilter(
  input: {
    institution?: string | undefined;
    brin?: string | undefined;
    code?: string | undefined;
    limit?: string | undefined;
  },
  names: Pick<FieldNames, 'limit'>,
): QualityFilter {
  const given = (value: string | undefined): value is string => value !== undefined && value !== '';
  if (given(input.limit) && !/^\d{1,6}$/.test(input.limit.trim()))
    throw new OperatorInputError(`${names.limit}: a whole number, got '${input.limit}'`);
  return {
    ...(given(input.institution) ? { institutionOin: parseOin(input.institution) } : {}),
    ...(given(input.brin) ? { brin: parseBrin(input.brin) } : {}),
    ...(given(input.code) ? { code: parseQualityCode(input.code) } : {}),
    ...(given(input.limit) ? { limit: Number(input.limit) } : {}),
  };
}

/** The signals the latest quality run recorded, per school and enrolment, with their texts; PGNs masked. */
export async function listQuality(pool: Pool, filter: QualityFilter = {}): Promise<QualitySignalView[]> {
  let brins: string[] | undefined = filter.brin ? [filter.brin] : undefined;
  if (filter.institutionOin) {
    const institution = await findInstitution(pool, filter.institutionOin);
    if (!institution) throw new OperatorInputError(`no institution ${filter.institutionOin}`);
    brins = brins ? brins.filter((b) => institution.brins.includes(b)) : [...institution.brins];
  }
  const rows = await listQualitySignals(pool, {
    ...(brins ? { brins } : {}),
    ...(filter.code ? { code: filter.code } : {}),
    limit: filter.limit ?? 1000,
  });
  return rows.map(({ pgn, ...row }) => ({
    ...row,
    maskedPgn: maskedPgn(pgn.value),
    omschrijving: SIGNALS[row.code as SignalCode]?.omschrijving ?? '',
  }));
}

/** The dashboard's view: signals per school and code, and the latest runs. */
export async function qualityOverview(
  pool: Pool,
): Promise<{ counts: { brin: string; code: string; count: number }[]; runs: QualityRun[] }> {
  return { counts: await countQualitySignals(pool), runs: await listQualityRuns(pool, 10) };
}
