import { type Pool, inTransaction } from '../shared/database.js';
import { type Institution, otherInstitutionsServing, upsertInstitution } from '../store/institutions.repo.js';
import { maskPersonalNumbers } from '../shared/log.js';
import { type ProcessingErrorFilter, replayProcessingErrors } from '../store/processing-outbox.repo.js';
import type { Logger } from '../shared/log.js';
import { type QualityRunOutcome, runQualityChecks } from '../processing/quality/quality-run.js';
import { recordAudit } from './audit.js';
import { OperatorInputError } from './input.js';
import { type EndpointPolicy, checkEndpointUrl } from './endpoint-url.js';
import { type BulkOptions, type ErrorFilter, type OperatorDeps, pauseInstitution, purgeErrors, replayErrors, resumeInstitution } from './error-queue.js';

/**
 * Every operator action that changes something, each recorded in the audit log with who did it.
 * The CLI and the admin API call these, never the mechanics in error-queue.ts directly, so no path
 * can act without leaving a trace. A dry run is recorded too (flagged), as the look it was.
 */

/** Who acts: `cli:<user>` or `api:<role>[ (name)]`. */
export type Actor = string;

/** The filter as the audit log shows it; an empty filter is the whole error queue. */
function auditTarget(filter: ErrorFilter): Record<string, unknown> {
  // A fault filter is free text an operator typed: it may hold a personal number.
  const shown = { ...filter, ids: filter.ids?.slice(0, 100), fault: filter.fault === undefined ? undefined : maskPersonalNumbers(filter.fault) };
  const target = Object.fromEntries(Object.entries(shown).filter(([, value]) => value !== undefined));
  return Object.keys(target).length > 0 ? target : { all: true };
}

async function bulk(action: 'errors.replay' | 'errors.purge', deps: OperatorDeps, actor: Actor, filter: ErrorFilter, options: BulkOptions): Promise<number[]> {
  let done = 0;
  const tracked: BulkOptions = { ...options, onProgress: (count, total) => { done = count; options.onProgress?.(count, total); } };
  let ids: number[];
  try {
    ids = await (action === 'errors.replay' ? replayErrors : purgeErrors)(deps, filter, tracked);
  } catch (error) {
    // Batches that went through before the failure did change messages: the audit says how many.
    if (done > 0) {
      await recordAudit(deps.pool, { actor, action, target: { ...auditTarget(filter), interrupted: (error as Error).message.slice(0, 200) }, affected: done, dryRun: options.dryRun ?? false, outboundIds: [] })
        .catch(() => undefined);
    }
    throw error;
  }
  await recordAudit(deps.pool, { actor, action, target: auditTarget(filter), affected: ids.length, dryRun: options.dryRun ?? false, outboundIds: ids });
  return ids;
}

/** Replays the error-queue messages the filter matches (see replayErrors); returns their ids. */
export const replay = (deps: OperatorDeps, actor: Actor, filter: ErrorFilter, options: BulkOptions = {}): Promise<number[]> =>
  bulk('errors.replay', deps, actor, filter, options);

/** Purges the error-queue messages the filter matches (see purgeErrors); returns their ids. */
export const purge = (deps: OperatorDeps, actor: Actor, filter: ErrorFilter, options: BulkOptions = {}): Promise<number[]> =>
  bulk('errors.purge', deps, actor, filter, options);

/** Inbound message ids one audit row's target keeps (`affected` always has the full count). */
const MAX_TARGET_IDS = 1000;

/**
 * Puts the processing-error-queue messages the filter matches back to be processed at once (the
 * sweeper wakes them); returns their ids. The audit's outbound ids are for outbound messages only, so
 * the inbound ids go in its target.
 */
export async function replayProcessing(deps: OperatorDeps, actor: Actor, filter: ProcessingErrorFilter, options: { dryRun?: boolean } = {}): Promise<number[]> {
  const dryRun = options.dryRun ?? false;
  const ids = await replayProcessingErrors(deps.pool, filter, dryRun);
  const scope = Object.fromEntries(Object.entries({ ids: filter.ids?.slice(0, 100), senderOin: filter.senderOin }).filter(([, value]) => value !== undefined));
  await recordAudit(deps.pool, {
    actor, action: 'processing.replay', affected: ids.length, dryRun, outboundIds: [],
    target: { ...(Object.keys(scope).length > 0 ? scope : { all: true }), inboundIds: ids.slice(0, MAX_TARGET_IDS) },
  });
  return ids;
}

/** Pauses deliveries to an institution; false when there is no such institution. */
export async function pause(deps: Pick<OperatorDeps, 'pool'>, actor: Actor, oin: string): Promise<boolean> {
  const found = await pauseInstitution(deps, oin);
  if (found) await recordAudit(deps.pool, { actor, action: 'institution.pause', target: { institution: oin }, affected: 1, dryRun: false, outboundIds: [] });
  return found;
}

/** Resumes deliveries to an institution; returns how many waiting messages were queued, or null when there is no such institution. */
export async function resume(deps: OperatorDeps, actor: Actor, oin: string): Promise<number | null> {
  const exists = (await deps.pool.query('SELECT 1 FROM institutions WHERE oin = $1', [oin])).rowCount === 1;
  if (!exists) return null;
  const queued = await resumeInstitution(deps, oin);
  await recordAudit(deps.pool, { actor, action: 'institution.resume', target: { institution: oin }, affected: queued, dryRun: false, outboundIds: [] });
  return queued;
}

/**
 * Refused: a BRIN of the institution being added is already served by another one. Adding it anyway is
 * a deliberate choice (a further administration of that school), so the operator repeats with `alsoName`.
 */
export class BrinAlreadyServedError extends OperatorInputError {
  constructor(readonly institution: Institution, readonly servedBy: readonly Institution[], alsoName: string) {
    const served = servedBy.map((other) => `${other.brins.filter((b) => institution.brins.includes(b)).join(', ')} by ${other.oin} (${other.name})`);
    super(`BRIN already served: ${served.join('; ')}. Each administration receives the pushes about the enrolments it delivers; `
      + `to add ${institution.oin} as a further administration for that BRIN, repeat with ${alsoName}`);
    this.name = 'BrinAlreadyServedError';
  }
}

/** How adding an institution treats BRINs another institution already serves. */
export interface AddOptions {
  /** Add it as a further administration for those BRINs. */
  readonly also: boolean;
  /** How the caller spells `also` in the refusal (`--also`, or the API's field). */
  readonly alsoName: string;
  /** The rules the endpoint URL must meet, and how the caller names its field (`--endpoint`, `endpoint`). */
  readonly endpoint: { readonly policy: EndpointPolicy; readonly field: string };
}

// One add at a time, so two operators cannot both find a BRIN free and both take it.
const ADD_LOCK_KEY = 4_242_017;

/**
 * Registers an institution, or replaces the one with its OIN. A BRIN another institution serves is
 * refused unless `also` is set: silently sharing it used to take over the other's pushes. The endpoint
 * must meet the endpoint policy. Returns the institution as stored.
 */
export async function addInstitution(pool: Pool, actor: Actor, given: Institution, options: AddOptions): Promise<Institution> {
  // Stored normalised, so the audit, the overview and the deliverer all see the one URL that was checked.
  const endpointUrl = given.endpointUrl === null ? null : await checkEndpointUrl(given.endpointUrl, options.endpoint.field, options.endpoint.policy);
  const institution = { ...given, endpointUrl };
  const shared = await inTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ADD_LOCK_KEY]);
    const servedBy = await otherInstitutionsServing(tx, institution.oin, institution.brins);
    if (servedBy.length > 0 && !options.also) throw new BrinAlreadyServedError(institution, servedBy, options.alsoName);
    await upsertInstitution(tx, institution);
    return servedBy.map((other) => other.oin);
  });
  await recordAudit(pool, {
    actor, action: 'institution.add', affected: 1, dryRun: false, outboundIds: [],
    target: {
      institution: institution.oin, name: institution.name, brins: institution.brins, endpoint: institution.endpointUrl, enabled: institution.enabled,
      ...(shared.length > 0 ? { alsoServedBy: shared } : {}),
    },
  });
  return institution;
}

/**
 * Runs the quality checks now (an operator's run, besides the schedule) and records it; refused with
 * `busy` while another run is under way.
 */
export async function runQuality(deps: OperatorDeps & { brokerOin: string; log: Logger }, actor: Actor): Promise<QualityRunOutcome> {
  const outcome = await runQualityChecks({ pool: deps.pool, brokerOin: deps.brokerOin, log: deps.log }, { actor });
  await recordAudit(deps.pool, {
    actor, action: 'quality.run', dryRun: false, outboundIds: [], affected: outcome.ran ? outcome.signals : 0,
    target: outcome.ran ? { runId: outcome.runId, checkDate: outcome.checkDate, pupils: outcome.pupils, notified: outcome.notified } : { refused: outcome.reason },
  });
  return outcome;
}
