import { randomUUID } from 'node:crypto';
import { inTransaction, type Pool } from '../../infra/database.js';
import type { Logger } from '../../infra/log.js';
import { dutchDate } from '../../register/calendar.js';
import type { OutboundDraft } from '../../register/outbound-draft.js';
import { checkPupilQuality, controlYear } from '../../register/quality-checks.js';
import { type SignalCode, signal } from '../../register/signals.js';
import {
  dropStaleQualitySignals,
  finishQualityRun,
  insertQualityRun,
  loadQualityPupils,
  nextQualityPupils,
  type QualitySignalRow,
  qualityReportRows,
  tryLockQualityRun,
  upsertQualitySignals,
} from '../../store/quality.repo.js';
import { insertOutbound, type Tx } from '../../store/register.repo.js';
import { kwaliteitscontroleBody } from '../outbound-messages.js';

/** What a quality run needs; `now` is injectable so tests choose the day. */
export interface QualityRunDeps {
  readonly pool: Pool;
  readonly brokerOin: string;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface QualityRunRequest {
  /** `schedule:<slot>` for a scheduled run (once per slot), or absent for an operator's run. */
  readonly slot?: Date;
  readonly actor?: string;
  /** Scheduled slots before this moment run only after an earlier scheduled run (see insertQualityRun). */
  readonly catchUpAfter?: Date;
  /** Writes in the run's transaction once the outcome is known, so it commits with the run or not at all (an operator's audit row). */
  readonly recordOutcome?: (tx: Tx, outcome: QualityRunOutcome) => Promise<void>;
}

export type QualityRunOutcome =
  | {
      readonly ran: true;
      readonly runId: number;
      readonly checkDate: string;
      readonly pupils: number;
      readonly signals: number;
      readonly notified: number;
    }
  | { readonly ran: false; readonly reason: 'busy' | 'not-due' };

/** Pupils read and checked per round trip. */
const PUPILS_PER_BATCH = 500;

/**
 * One message per BRIN and administration: each administration gets the signals about the enrolments it
 * delivered (a BRIN served by several gets one report each), as every other push about an enrolment.
 */
async function queueReports(tx: Tx, deps: QualityRunDeps, at: Date, checkDate: string): Promise<number> {
  const reports = new Map<string, { brin: string; institutionOin: string; rows: QualitySignalRow[] }>();
  for (const row of await qualityReportRows(tx)) {
    if (row.recipientOin === null) continue; // no registered institution holds the BRIN: nowhere to send it
    const key = `${row.brin}\u001f${row.recipientOin}`;
    const report = reports.get(key) ?? { brin: row.brin, institutionOin: row.recipientOin, rows: [] };
    report.rows.push(row);
    reports.set(key, report);
  }
  const drafts: OutboundDraft[] = [];
  for (const { brin, institutionOin, rows } of reports.values()) {
    const documentId = randomUUID();
    drafts.push({
      institutionOin,
      brin,
      operation: 'verstrekkenKwaliteitscontrole',
      wsaMessageId: randomUUID(),
      documentId,
      causeMessageId: null,
      bodyXml: kwaliteitscontroleBody(
        { documentId, brokerOin: deps.brokerOin, receiverBrin: brin, at },
        {
          brin,
          datumControle: checkDate,
          signals: rows.map((r) => ({
            pgn: r.pgn,
            inschrijvingvolgnummer: r.inschrijvingvolgnummer,
            datumEersteMelding: dutchDate(r.firstSeen),
            signal: signal(r.code as SignalCode, r.sleutelgegevens),
          })),
        },
      ),
    });
  }
  await insertOutbound(tx, drafts);
  return drafts.length;
}

/**
 * Runs the quality checks over the whole register in one transaction: records every signal per
 * school (first seen kept, those no longer found deleted) and queues each school's report for the
 * deliverer's pollers. Holds an advisory lock, so one run at a time across processes; a scheduled
 * slot runs once (its key is unique), and a run that dies leaves nothing behind, so it runs again.
 */
export async function runQualityChecks(
  deps: QualityRunDeps,
  request: QualityRunRequest = {},
): Promise<QualityRunOutcome> {
  const clock = deps.now ?? (() => new Date());
  const now = clock();
  const checkDate = dutchDate(now); // the register's day, as processing's: Dutch, not UTC
  return inTransaction(deps.pool, async (tx) => {
    const outcome = await checkInTransaction(tx, deps, request, { now, checkDate, clock });
    await request.recordOutcome?.(tx, outcome);
    return outcome;
  });
}

/** The run itself, in the caller's transaction: see runQualityChecks. */
async function checkInTransaction(
  tx: Tx,
  deps: QualityRunDeps,
  request: QualityRunRequest,
  day: { now: Date; checkDate: string; clock: () => Date },
): Promise<QualityRunOutcome> {
  const { now, checkDate, clock } = day;
  if (!(await tryLockQualityRun(tx))) return { ran: false, reason: 'busy' } as const;
  const runId = await insertQualityRun(
    tx,
    {
      runKey: request.slot ? `schedule:${request.slot.toISOString()}` : `operator:${randomUUID()}`,
      slot: request.slot ?? null,
      trigger: request.slot ? 'schedule' : 'operator',
      actor: request.actor ?? null,
      checkDate,
      startedAt: now,
    },
    request.catchUpAfter,
  );
  if (runId === null) return { ran: false, reason: 'not-due' } as const; // this slot ran, or it predates a fresh database's first scheduler

  const { from } = controlYear(checkDate);
  let pupils = 0;
  for (let after = ''; ; ) {
    const pgns = await nextQualityPupils(tx, after, from, PUPILS_PER_BATCH);
    if (pgns.length === 0) break;
    const findings = (await loadQualityPupils(tx, pgns)).flatMap((pupil) => checkPupilQuality(pupil, checkDate));
    await upsertQualitySignals(tx, runId, now, findings);
    pupils += pgns.length;
    after = pgns.at(-1)!;
  }
  const signals = await dropStaleQualitySignals(tx, runId);
  const notified = await queueReports(tx, deps, now, checkDate);
  await finishQualityRun(tx, runId, { finishedAt: clock(), pupils, signals, notified });
  deps.log.info('quality checks done', {
    runId,
    trigger: request.slot ? 'schedule' : 'operator',
    checkDate,
    pupils,
    signals,
    notified,
  });
  return { ran: true, runId, checkDate, pupils, signals, notified } as const;
}
