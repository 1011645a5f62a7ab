import { latestSlot, type QualitySchedule } from '../../infra/schedule.js';
import { type QualityRunDeps, type QualityRunOutcome, runQualityChecks } from './quality-run.js';

/** How often each process looks whether a slot is due; a slot starts within this long. */
const TICK_MS = 60_000;

export interface QualityScheduler {
  /** Runs the latest slot when it has not run yet (what each tick does). */
  tick(): Promise<QualityRunOutcome>;
  close(): Promise<void>;
}

/**
 * Runs the quality checks on their schedule. Every pipeline process runs one of these: each tick
 * tries the latest slot, and the run's lock and unique key make exactly one process run it. A slot
 * missed while no broker ran is caught up at the next tick; on a fresh database only slots after
 * the start run.
 */
export function startQualityScheduler(deps: QualityRunDeps & { readonly schedule: QualitySchedule }): QualityScheduler {
  const clock = deps.now ?? (() => new Date());
  const startedAt = clock();
  let running: Promise<QualityRunOutcome> | undefined;
  const tick = (): Promise<QualityRunOutcome> => {
    running ??= runQualityChecks(deps, { slot: latestSlot(deps.schedule, clock()), catchUpAfter: startedAt }).finally(
      () => {
        running = undefined;
      },
    );
    return running;
  };
  const timer = setInterval(() => {
    tick().catch((error: unknown) => deps.log.error('quality checks failed', { error: (error as Error).message }));
  }, TICK_MS);
  timer.unref();
  return {
    tick,
    async close() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
