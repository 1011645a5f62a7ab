import type { Pool } from '../infra/database.js';
import { maskPgn } from '../infra/pupil-key.js';
import type { SubscriptionEndReason } from '../register/prior-education/subscription.js';
import { listSubscriptions, type SubscriptionOwner } from '../store/subscriptions.repo.js';
import { type FieldNames, OperatorInputError, parseBrin, parseOin } from './input.js';

/** What operators list prior-education subscriptions by: an institution's OIN or a BRIN; ended ones too with `all`. */
export interface SubscriptionFilter {
  readonly institution?: string;
  readonly all?: boolean;
  readonly limit?: number;
}

/** A subscription as operators see it: the pupil's number masked (`*****6782`), never in full. */
export interface SubscriptionView {
  readonly id: number;
  readonly institutionOin: string;
  readonly brin: string;
  readonly maskedPgn: string;
  readonly startedAt: Date;
  readonly endsAt: Date;
  readonly endedAt: Date | null;
  readonly endReason: SubscriptionEndReason | null;
  readonly state: 'running' | SubscriptionEndReason;
}

/** A filter as the CLI's options or the API's query spell it: `--institution` takes an OIN or a BRIN. */
export function parseSubscriptionFilter(
  input: { institution?: string | undefined; all?: boolean | string | undefined; limit?: string | undefined },
  names: Pick<FieldNames, 'limit'>,
): SubscriptionFilter {
  const institution = input.institution?.trim();
  if (input.limit !== undefined && input.limit !== '' && !/^\d{1,6}$/.test(input.limit.trim()))
    throw new OperatorInputError(`${names.limit}: a whole number, got '${input.limit}'`);
  return {
    ...(institution ? { institution: institution.length === 4 ? parseBrin(institution) : parseOin(institution) } : {}),
    ...(input.all === true || input.all === 'true' ? { all: true } : {}),
    ...(input.limit ? { limit: Number(input.limit) } : {}),
  };
}

/** Prior-education subscriptions, newest first: running ones (or all with `all`), PGNs masked. */
export async function listSubscriptionViews(pool: Pool, filter: SubscriptionFilter = {}): Promise<SubscriptionView[]> {
  const { institution, ...rest } = filter;
  // The filter holds a BRIN (4 characters) or an OIN (20), as parseSubscriptionFilter checked.
  const owner: SubscriptionOwner =
    institution === undefined ? {} : institution.length === 4 ? { brin: institution } : { institutionOin: institution };
  const rows = await listSubscriptions(pool, { ...rest, owner });
  return rows.map(({ pgn, ...s }) => ({ ...s, maskedPgn: maskPgn(pgn), state: s.endReason ?? 'running' }));
}
