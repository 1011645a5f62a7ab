import type { PoolClient } from 'pg';
import { inTransaction, type Pool } from '../infra/database.js';
import type { Logger } from '../infra/log.js';
import { maskPersonalNumbers } from '../infra/log.js';
import { pushAfterEducationLoad } from '../processing/education-load-push.js';
import { type QualityRunOutcome, runQualityChecks } from '../processing/quality/quality-run.js';
import type { EducationRecord } from '../register/prior-education/education-records.js';
import type { RioLink } from '../register/rio-rules.js';
import { type AuditRecord, insertAuditRow } from '../store/audit.repo.js';
import { replaceEducation } from '../store/education-stand-in.repo.js';
import type { AcceptedMessage } from '../store/inbound-messages.repo.js';
import {
  type Institution,
  lockInstitutionAdds,
  otherInstitutionsServing,
  setInstitutionPaused,
  setInstitutionWssRequired,
  setReceiptSignatureCheck,
  upsertInstitution,
} from '../store/institutions.repo.js';
import { type ErrorFilter, makeInstitutionDeliveriesDue } from '../store/outbound.repo.js';
import { type ProcessingErrorFilter, replayProcessingErrors } from '../store/processing-outbox.repo.js';
import { replaceRioLinksInTransaction, upsertBrinSectors, upsertOpleidingNiveaus } from '../store/reference.repo.js';
import { upsertPopulationRecord } from '../store/register.repo.js';
import { checkEndpointUrl, type EndpointPolicy } from './endpoint-url.js';
import { type BulkOptions, moveErrorQueueInBatches, type OperatorDeps } from './error-queue.js';
import { OperatorInputError } from './input.js';
import { storeMutationMessage } from './submit-person-mutation.js';

/**
 * Every operator action that changes something, each recorded in the audit log with who did it.
 * The CLI and the admin API call these, never the repositories directly, so no path can act without
 * leaving a trace. Each writes its audit row in the action's own transaction: an action that fails
 * leaves no row, one that commits has exactly one. A dry run is recorded too (flagged), as the look it was.
 */

/** Who acts: `cli:<user>` or `api:<role>[ (name)]`. */
export type Actor = string;

/** The filter as the audit log shows it; an empty filter is the whole error queue. */
function auditTarget(filter: ErrorFilter): Record<string, unknown> {
  // A fault filter is free text an operator typed: it may hold a personal number.
  const shown = {
    ...filter,
    ids: filter.ids?.slice(0, 100),
    fault: filter.fault === undefined ? undefined : maskPersonalNumbers(filter.fault),
  };
  const target = Object.fromEntries(Object.entries(shown).filter(([, value]) => value !== undefined));
  return Object.keys(target).length > 0 ? target : { all: true };
}

/** Runs an action and writes its audit row in one transaction: a failed action leaves no row, a committed one exactly one. */
async function audited<T>(
  pool: Pool,
  act: (tx: PoolClient) => Promise<T>,
  audit: (result: T) => AuditRecord,
): Promise<T> {
  return inTransaction(pool, async (tx) => {
    const result = await act(tx);
    await insertAuditRow(tx, audit(result));
    return result;
  });
}

/**
 * Replays or purges the matching error-queue messages and records it, all in one transaction: a batch
 * per statement keeps statements bounded and progress moving, and a failure part-way changes nothing.
 */
function bulk(
  action: 'errors.replay' | 'errors.purge',
  deps: OperatorDeps,
  actor: Actor,
  filter: ErrorFilter,
  options: BulkOptions,
): Promise<number[]> {
  const status = action === 'errors.replay' ? 'pending' : 'purged';
  return audited(
    deps.pool,
    (tx) => moveErrorQueueInBatches(tx, filter, status, options),
    (ids) => ({
      actor,
      action,
      target: auditTarget(filter),
      affected: ids.length,
      dryRun: options.dryRun ?? false,
      outboundIds: ids,
    }),
  );
}

/** Puts error-queue messages back in delivery with their original wsa:MessageID and a fresh set of attempts (replaying twice delivers once); returns their ids. */
export const replayErrorQueue = (
  deps: OperatorDeps,
  actor: Actor,
  filter: ErrorFilter,
  options: BulkOptions = {},
): Promise<number[]> => bulk('errors.replay', deps, actor, filter, options);

/** Takes error-queue messages out of delivery for good (status `purged`; the row stays for audit); returns their ids. */
export const purgeErrorQueue = (
  deps: OperatorDeps,
  actor: Actor,
  filter: ErrorFilter,
  options: BulkOptions = {},
): Promise<number[]> => bulk('errors.purge', deps, actor, filter, options);

/** Inbound message ids one audit row's target keeps (`affected` always has the full count). */
const MAX_TARGET_IDS = 1000;

/**
 * Puts the processing-error-queue messages the filter matches back to be processed at once (the
 * sweeper wakes them); returns their ids. The audit's outbound ids are for outbound messages only, so
 * the inbound ids go in its target.
 */
export async function replayProcessing(
  deps: OperatorDeps,
  actor: Actor,
  filter: ProcessingErrorFilter,
  options: { dryRun?: boolean } = {},
): Promise<number[]> {
  const dryRun = options.dryRun ?? false;
  const scope = Object.fromEntries(
    Object.entries({ ids: filter.ids?.slice(0, 100), senderOin: filter.senderOin }).filter(
      ([, value]) => value !== undefined,
    ),
  );
  return audited(
    deps.pool,
    (tx) => replayProcessingErrors(tx, filter, dryRun),
    (ids) => ({
      actor,
      action: 'processing.replay',
      affected: ids.length,
      dryRun,
      outboundIds: [],
      target: { ...(Object.keys(scope).length > 0 ? scope : { all: true }), inboundIds: ids.slice(0, MAX_TARGET_IDS) },
    }),
  );
}

/** No institution has this OIN: the action changed nothing and records nothing. */
class NoSuchInstitution extends Error {}

/** Runs an action on one institution with its audit row; null (nothing done, nothing recorded) when there is no such institution. */
async function onInstitution<T>(
  pool: Pool,
  act: (tx: PoolClient) => Promise<T | null>,
  audit: (result: T) => AuditRecord,
): Promise<T | null> {
  try {
    return await audited(
      pool,
      async (tx) => {
        const result = await act(tx);
        if (result === null) throw new NoSuchInstitution();
        return result;
      },
      audit,
    );
  } catch (error) {
    if (error instanceof NoSuchInstitution) return null;
    throw error;
  }
}

/** Holds deliveries to an institution (a holiday, a migration): its messages wait without using attempts. False when there is no such institution. */
export async function pauseInstitution(deps: Pick<OperatorDeps, 'pool'>, actor: Actor, oin: string): Promise<boolean> {
  const paused = await onInstitution(
    deps.pool,
    async (tx) => ((await setInstitutionPaused(tx, oin, true)) ? true : null),
    () => ({
      actor,
      action: 'institution.pause',
      target: { institution: oin },
      affected: 1,
      dryRun: false,
      outboundIds: [],
    }),
  );
  return paused !== null;
}

/**
 * Sets whether an institution must sign its requests with WS-Security (null: the broker's WSS_REQUIRED);
 * the broker applies it within its registry refresh (5 s). False when there is no such institution.
 */
export async function setInstitutionSigning(
  deps: Pick<OperatorDeps, 'pool'>,
  actor: Actor,
  oin: string,
  required: boolean | null,
): Promise<boolean> {
  const set = await onInstitution(
    deps.pool,
    async (tx) => ((await setInstitutionWssRequired(tx, oin, required)) ? true : null),
    () => ({
      actor,
      action: 'institution.signing',
      target: { institution: oin, signing: required === null ? 'default' : required ? 'required' : 'optional' },
      affected: 1,
      dryRun: false,
      outboundIds: [],
    }),
  );
  return set !== null;
}

/**
 * Turns the check of an institution's receipt signatures on or off (docs/security.md): with it on, a
 * receipt counts as delivered only when signed by a trusted certificate with the institution's OIN.
 * False when there is no such institution.
 */
export async function setReceiptSignatureVerification(
  deps: Pick<OperatorDeps, 'pool'>,
  actor: Actor,
  oin: string,
  verify: boolean,
): Promise<boolean> {
  const set = await onInstitution(
    deps.pool,
    async (tx) => ((await setReceiptSignatureCheck(tx, oin, verify)) ? true : null),
    () => ({
      actor,
      action: 'institution.update',
      target: { institution: oin, verifyReceiptSignature: verify },
      affected: 1,
      dryRun: false,
      outboundIds: [],
    }),
  );
  return set !== null;
}

/**
 * Resumes deliveries to an institution: its waiting messages are due at once (a retry's backoff is not
 * waited out), and every delivery process's next poll takes them. Returns how many, or null when there
 * is no such institution.
 */
export async function resumeInstitution(deps: OperatorDeps, actor: Actor, oin: string): Promise<number | null> {
  return onInstitution(
    deps.pool,
    async (tx) => ((await setInstitutionPaused(tx, oin, false)) ? makeInstitutionDeliveriesDue(tx, oin) : null),
    (queued) => ({
      actor,
      action: 'institution.resume',
      target: { institution: oin },
      affected: queued,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/**
 * Refused: a BRIN of the institution being added is already served by another one. Adding it anyway is
 * a deliberate choice (a further administration of that school), so the operator repeats with `alsoName`.
 */
export class BrinAlreadyServedError extends OperatorInputError {
  constructor(
    readonly institution: Institution,
    readonly servedBy: readonly Institution[],
    alsoName: string,
  ) {
    const served = servedBy.map(
      (other) =>
        `${other.brins.filter((b) => institution.brins.includes(b)).join(', ')} by ${other.oin} (${other.name})`,
    );
    super(
      `BRIN already served: ${served.join('; ')}. Each administration receives the pushes about the enrolments it delivers; ` +
        `to add ${institution.oin} as a further administration for that BRIN, repeat with ${alsoName}`,
    );
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

/**
 * Registers an institution, or replaces the one with its OIN. A BRIN another institution serves is
 * refused unless `also` is set: silently sharing it used to take over the other's pushes. The endpoint
 * must meet the endpoint policy. Returns the institution as stored.
 */
export async function addInstitution(
  pool: Pool,
  actor: Actor,
  given: Institution,
  options: AddOptions,
): Promise<Institution> {
  // Stored normalised, so the audit, the overview and the deliverer all see the one URL that was checked.
  const endpointUrl =
    given.endpointUrl === null
      ? null
      : await checkEndpointUrl(given.endpointUrl, options.endpoint.field, options.endpoint.policy);
  const institution = { ...given, endpointUrl };
  await audited(
    pool,
    async (tx) => {
      await lockInstitutionAdds(tx);
      const servedBy = await otherInstitutionsServing(tx, institution.oin, institution.brins);
      if (servedBy.length > 0 && !options.also)
        throw new BrinAlreadyServedError(institution, servedBy, options.alsoName);
      await upsertInstitution(tx, institution);
      return servedBy.map((other) => other.oin);
    },
    (shared) => ({
      actor,
      action: 'institution.add',
      affected: 1,
      dryRun: false,
      outboundIds: [],
      target: {
        institution: institution.oin,
        name: institution.name,
        brins: institution.brins,
        endpoint: institution.endpointUrl,
        enabled: institution.enabled,
        ...(institution.verifyReceiptSignature !== undefined
          ? { verifyReceiptSignature: institution.verifyReceiptSignature }
          : {}),
        ...(shared.length > 0 ? { alsoServedBy: shared } : {}),
      },
    }),
  );
  return institution;
}

/**
 * Runs the quality checks now (an operator's run, besides the schedule) and records it; refused with
 * `busy` while another run is under way.
 */
export async function runQuality(
  deps: OperatorDeps & { brokerOin: string; log: Logger },
  actor: Actor,
): Promise<QualityRunOutcome> {
  return runQualityChecks(
    { pool: deps.pool, brokerOin: deps.brokerOin, log: deps.log },
    {
      actor,
      recordOutcome: (tx, outcome) =>
        insertAuditRow(tx, {
          actor,
          action: 'quality.run',
          dryRun: false,
          outboundIds: [],
          affected: outcome.ran ? outcome.signals : 0,
          target: outcome.ran
            ? { runId: outcome.runId, checkDate: outcome.checkDate, pupils: outcome.pupils, notified: outcome.notified }
            : { refused: outcome.reason },
        }),
    },
  );
}

/** Adds or replaces people in the population register (the BRP stand-in) from a file; returns how many. */
export async function loadPopulation(
  pool: Pool,
  actor: Actor,
  records: readonly Parameters<typeof upsertPopulationRecord>[1][],
  fileName: string,
): Promise<number> {
  return audited(
    pool,
    async (tx) => {
      for (const record of records) await upsertPopulationRecord(tx, record);
      return records.length;
    },
    (loaded) => ({
      actor,
      action: 'population.load',
      target: { file: fileName },
      affected: loaded,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/**
 * Stores a population-register change as the BRP source's message (see mutationMessage), to be
 * processed like one over SOAP; returns the stored message's id. The audit names what changed and the
 * message, never whose: no BSN.
 */
export async function submitMutation(
  pool: Pool,
  actor: Actor,
  message: AcceptedMessage,
  changes: readonly string[],
): Promise<number> {
  return audited(
    pool,
    (tx) => storeMutationMessage(tx, message),
    (messageId) => ({
      actor,
      action: 'population.mutate',
      target: { inboundMessageId: messageId, changes },
      affected: 1,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/** Makes `links` the whole set of onderwijslocaties of each vestiging they name (the RIO stand-in); returns how many links. */
export async function loadRioLinks(
  pool: Pool,
  actor: Actor,
  links: readonly RioLink[],
  fileName: string,
): Promise<number> {
  return audited(
    pool,
    async (tx) => {
      await replaceRioLinksInTransaction(tx, links);
      return links.length;
    },
    (loaded) => ({
      actor,
      action: 'rio.load',
      target: { file: fileName, vestigingen: new Set(links.map((l) => l.vestiging)).size },
      affected: loaded,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/** Sets the sector (VO, VSO, VAVO) of BRINs in the RIO stand-in (prior education reads it); returns how many. */
export async function loadBrinSectors(
  pool: Pool,
  actor: Actor,
  rows: readonly { readonly brin: string; readonly sector: string }[],
  fileName: string,
): Promise<number> {
  return audited(
    pool,
    async (tx) => {
      await upsertBrinSectors(tx, rows);
      return rows.length;
    },
    (loaded) => ({
      actor,
      action: 'rio.sectors',
      target: { file: fileName },
      affected: loaded,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/** Sets the niveau of opleidingcodes in the RIO stand-in (exam results are checked against it); returns how many. */
export async function loadOpleidingNiveaus(
  pool: Pool,
  actor: Actor,
  rows: readonly { readonly opleidingcode: string; readonly niveau: string }[],
  fileName: string,
): Promise<number> {
  return audited(
    pool,
    async (tx) => {
      await upsertOpleidingNiveaus(tx, rows);
      return rows.length;
    },
    (loaded) => ({
      actor,
      action: 'rio.niveaus',
      target: { file: fileName },
      affected: loaded,
      dryRun: false,
      outboundIds: [],
    }),
  );
}

/**
 * Makes the file's records the whole MBO and HO education of each pupil it names (the MBO and HO stand-in)
 * and pushes fresh prior education to the running subscriptions on them, all in one transaction with the
 * audit row (which lists the pushes' outbound ids); returns how many pupils and pushes. The audit names
 * the file and the counts, never a pupil's number.
 */
export async function loadEducation(
  pool: Pool,
  actor: Actor,
  records: readonly EducationRecord[],
  fileName: string,
  push: { readonly brokerOin: string; readonly now: Date },
): Promise<{ pupils: number; pushed: number }> {
  const loaded = await audited(
    pool,
    async (tx) => {
      const pupils = await replaceEducation(tx, records);
      const outboundIds = await pushAfterEducationLoad(tx, push, [...new Set(records.map((r) => r.pgn))]);
      return { pupils, outboundIds };
    },
    ({ pupils, outboundIds }) => ({
      actor,
      action: 'education.load',
      target: { file: fileName, pupils },
      affected: records.length,
      dryRun: false,
      outboundIds,
    }),
  );
  return { pupils: loaded.pupils, pushed: loaded.outboundIds.length };
}
