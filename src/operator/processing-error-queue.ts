import { maskPersonalNumbers } from '../infra/log.js';
import {
  listProcessingErrors,
  type ProcessingError,
  type ProcessingErrorFilter,
} from '../store/processing-outbox.repo.js';
import type { OperatorDeps } from './error-queue.js';

/**
 * The processing error queue as operators see it (CLI, admin API, dashboard). Replaying it is an
 * audited action: replayProcessing in operator-actions.ts.
 */
export async function listProcessingErrorQueue(
  deps: OperatorDeps,
  filter: ProcessingErrorFilter = {},
): Promise<ProcessingError[]> {
  // Reasons are masked when stored; masking again on the way out keeps a row written otherwise out of sight.
  return (await listProcessingErrors(deps.pool, filter)).map((entry) => ({
    ...entry,
    failure: entry.failure === null ? null : maskPersonalNumbers(entry.failure),
  }));
}
