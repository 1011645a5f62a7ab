import type { ProgrammeKind } from '../register/prior-education/prior-education-rules.js';
import { inTransaction, type Pool } from '../shared/database.js';
import { insertAuditRow } from '../store/audit.repo.js';
import { upsertProgrammeKinds } from '../store/subscriptions.repo.js';
import { OperatorInputError } from './input.js';

/** One opleidingcode in the programme stand-in (docs/prior-education.md). */
export interface Programme {
  readonly opleidingcode: string;
  readonly soort: ProgrammeKind;
}

const KINDS: readonly ProgrammeKind[] = ['HAVO', 'VWO', 'VSO', 'VAVO'];

/** The records of a programme file (a JSON array of {opleidingcode, soort}), each checked; the first problem refuses the file. */
export function programmesOf(entries: unknown): Programme[] {
  if (!Array.isArray(entries)) throw new OperatorInputError('the file must hold a JSON array');
  const seen = new Set<string>();
  return entries.map((entry: { opleidingcode?: unknown; soort?: unknown }, index) => {
    const where = `record ${index + 1}`;
    const code = String(entry?.opleidingcode ?? '');
    if (!/^[0-9A-Z]{1,20}$/.test(code))
      throw new OperatorInputError(`${where}: opleidingcode must be 1-20 digits or capitals`);
    if (!KINDS.includes(entry.soort as ProgrammeKind))
      throw new OperatorInputError(`${where}: soort must be one of ${KINDS.join(', ')}`);
    if (seen.has(code)) throw new OperatorInputError(`${where}: ${code} appears twice`);
    seen.add(code);
    return { opleidingcode: code, soort: entry.soort as ProgrammeKind };
  });
}

/** Adds or replaces each named opleidingcode's kind, audited as `programmes.load`; returns how many. */
export function loadProgrammes(
  pool: Pool,
  actor: string,
  programmes: readonly Programme[],
  fileName: string,
): Promise<number> {
  return inTransaction(pool, async (tx) => {
    await upsertProgrammeKinds(tx, programmes);
    await insertAuditRow(tx, {
      actor,
      action: 'programmes.load',
      target: { file: fileName },
      affected: programmes.length,
      dryRun: false,
      outboundIds: [],
    });
    return programmes.length;
  });
}
