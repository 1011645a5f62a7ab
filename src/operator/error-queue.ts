import type { Pool } from '../infra/database.js';
import { maskPersonalNumbers } from '../infra/log.js';
import { withoutCredentials } from '../infra/url-credentials.js';
import {
  type DeliveryAttempt,
  type ErrorFilter,
  type ErrorQueueEntry,
  errorQueueIds,
  findOutboundMessages,
  listDeliveryAttempts,
  listErrorQueue,
  moveFromErrorQueue,
  type OutboundDetail,
} from '../store/outbound.repo.js';

/**
 * The operator's view of undeliverable messages (the error queue), and the batched move out of it that
 * the audited replay and purge in operator-actions.ts run in their transaction. The state lives in
 * PostgreSQL alone: what changes here, every delivery process sees at its next poll.
 */

export interface OperatorDeps {
  readonly pool: Pool;
}

/** An institution's answer can quote values from our message: operators see personal numbers masked, as in the log. */
const masked = (text: string | null): string | null => (text === null ? null : maskPersonalNumbers(text));

/** Error-queue messages matching the filter, oldest first; errors masked. */
export async function listErrors(
  deps: Pick<OperatorDeps, 'pool'>,
  filter: ErrorFilter = {},
): Promise<ErrorQueueEntry[]> {
  return (await listErrorQueue(deps.pool, filter)).map((entry) => ({ ...entry, lastError: masked(entry.lastError) }));
}

/** An outbound message as an operator inspects it (its body not included). */
export type OutboundView = Omit<OutboundDetail, 'documentId' | 'bodyXml'>;

/** One outbound message with its attempt timeline; errors masked. */
export async function showOutbound(
  deps: Pick<OperatorDeps, 'pool'>,
  id: number,
): Promise<{ message: OutboundView; attempts: Omit<DeliveryAttempt, 'outboundId'>[] } | null> {
  const [found] = await findOutboundMessages(deps.pool, { id });
  if (!found) return null;
  const { documentId: _documentId, bodyXml: _bodyXml, ...message } = found;
  const attempts = await listDeliveryAttempts(deps.pool, [id]);
  return {
    message: { ...message, lastError: masked(message.lastError) },
    attempts: attempts.map(({ outboundId: _outboundId, ...attempt }) => ({
      ...attempt,
      endpoint: withoutCredentials(attempt.endpoint),
      error: masked(attempt.error),
    })),
  };
}

/** How a bulk operation runs: a dry run changes nothing; progress is reported after each batch. */
export interface BulkOptions {
  readonly dryRun?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** Messages per statement (default 500): bounds each statement and lets progress move. */
  readonly batchSize?: number;
}

/**
 * Moves the error-queue messages the filter matches to `status` (see moveFromErrorQueue), a batch per
 * statement, in the caller's transaction; returns the ids that moved. A message another operator
 * moved in the meantime is left alone and not counted. With `dryRun` nothing changes: the result says
 * which would.
 */
export async function moveErrorQueueInBatches(
  tx: Pick<Pool, 'query'>,
  filter: ErrorFilter,
  status: 'pending' | 'purged',
  options: BulkOptions = {},
): Promise<number[]> {
  const ids = await errorQueueIds(tx, filter);
  if (options.dryRun) {
    options.onProgress?.(ids.length, ids.length);
    return ids;
  }
  const size = options.batchSize ?? 500;
  const done: number[] = [];
  options.onProgress?.(0, ids.length);
  for (let start = 0; start < ids.length; start += size) {
    done.push(...(await moveFromErrorQueue(tx, ids.slice(start, start + size), status)));
    options.onProgress?.(Math.min(start + size, ids.length), ids.length);
  }
  return done;
}
