import { OIN_PATTERN } from '../infra/catalogue.js';
import type { ErrorFilter } from '../store/outbound.repo.js';
import type { ProcessingErrorFilter } from '../store/processing-outbox.repo.js';

/** Operator input that cannot be used; the CLI prints it, the admin API answers 400 with it. */
export class OperatorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorInputError';
  }
}

export function parseOin(value: string): string {
  if (!OIN_PATTERN.test(value)) throw new OperatorInputError('an OIN is 20 digits or capitals');
  return value;
}

export function parseBrin(value: string): string {
  if (!/^[0-9]{2}[A-Z]{2}$/.test(value)) throw new OperatorInputError('a BRIN is 2 digits and 2 capitals, e.g. 25BE');
  return value;
}

export function parseId(value: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) throw new OperatorInputError(`a message id is a number, got '${value}'`);
  return Number(value);
}

/** `90s`, `30m`, `2h`, `7d` or milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) throw new OperatorInputError('a duration such as 90s, 30m, 2h or 7d');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

/** An error-queue filter as the CLI's options and the admin API's query parameters spell it. */
export interface ErrorFilterInput {
  readonly ids?: readonly string[] | undefined;
  readonly institution?: string | undefined;
  readonly operation?: string | undefined;
  readonly contract?: string | undefined;
  readonly fault?: string | undefined;
  readonly olderThan?: string | undefined;
  readonly newerThan?: string | undefined;
  readonly limit?: string | undefined;
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Builds and checks an error-queue filter. With `requireScope` (replay, purge) an empty filter is
 * refused unless `all` is set, so a slip of the keyboard never replays the whole queue. Errors name
 * the fields as the caller spells them (`names`: CLI flags or API fields).
 */
export function parseErrorFilter(
  input: ErrorFilterInput,
  names: FieldNames,
  options: { requireScope?: boolean; all?: boolean } = {},
): ErrorFilter {
  const ids = field(names.ids, () => (input.ids ?? []).filter(present).map(parseId));
  const filter: ErrorFilter = {
    ...(ids.length > 0 ? { ids } : {}),
    ...(present(input.institution)
      ? { institutionOin: field(names.institution, () => parseOin(input.institution!.trim())) }
      : {}),
    ...(present(input.operation) ? { operation: input.operation.trim() } : {}),
    ...(present(input.contract) ? { contract: input.contract.trim() } : {}),
    ...(present(input.fault) ? { fault: input.fault.trim() } : {}),
    ...(present(input.olderThan) ? { olderThanMs: field(names.olderThan, () => parseDuration(input.olderThan!)) } : {}),
    ...(present(input.newerThan) ? { newerThanMs: field(names.newerThan, () => parseDuration(input.newerThan!)) } : {}),
  };
  if (options.requireScope && Object.keys(filter).length === 0 && !options.all) {
    throw new OperatorInputError(
      `name ${names.ids} or a filter (${[names.institution, names.operation, names.contract, names.fault, names.olderThan, names.newerThan].join(', ')}), or ${names.all}`,
    );
  }
  if (present(input.limit)) return { ...filter, limit: field(names.limit, () => parseId(input.limit!)) };
  return filter;
}

/** A processing-error-queue filter as the CLI's options and the admin API's fields spell it. */
export interface ProcessingErrorFilterInput {
  readonly ids?: readonly string[] | undefined;
  readonly sender?: string | undefined;
  readonly limit?: string | undefined;
}

/** How the caller names a filter's fields, so an error speaks of what the operator typed. */
export interface FieldNames {
  readonly ids: string;
  readonly sender: string;
  readonly institution: string;
  readonly operation: string;
  readonly contract: string;
  readonly fault: string;
  readonly olderThan: string;
  readonly newerThan: string;
  readonly limit: string;
  readonly all: string;
}

export const CLI_FIELDS: FieldNames = {
  ids: 'message ids',
  sender: '--sender',
  institution: '--institution',
  operation: '--operation',
  contract: '--contract',
  fault: '--fault',
  olderThan: '--older-than',
  newerThan: '--newer-than',
  limit: '--limit',
  all: '--all',
};
export const API_FIELDS: FieldNames = {
  ids: 'ids',
  sender: 'sender',
  institution: 'institution',
  operation: 'operation',
  contract: 'contract',
  fault: 'fault',
  olderThan: 'olderThan',
  newerThan: 'newerThan',
  limit: 'limit',
  all: 'all',
};

/** Re-throws a field's input error with the field's name in front. */
function field<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof OperatorInputError) throw new OperatorInputError(`${name}: ${error.message}`);
    throw error;
  }
}

/**
 * Builds and checks a processing-error-queue filter. With `requireScope` (replay) an empty filter is
 * refused unless `all` is set, as for the delivery error queue.
 */
export function parseProcessingErrorFilter(
  input: ProcessingErrorFilterInput,
  names: FieldNames,
  options: { requireScope?: boolean; all?: boolean } = {},
): ProcessingErrorFilter {
  const ids = field(names.ids, () => (input.ids ?? []).filter(present).map(parseId));
  const filter: ProcessingErrorFilter = {
    ...(ids.length > 0 ? { ids } : {}),
    ...(present(input.sender) ? { senderOin: field(names.sender, () => parseOin(input.sender!.trim())) } : {}),
  };
  if (options.requireScope && Object.keys(filter).length === 0 && !options.all) {
    throw new OperatorInputError(`name ${names.ids}, ${names.sender} or ${names.all}`);
  }
  if (!present(input.limit)) return filter;
  if (!/^\d{1,6}$/.test(input.limit.trim()))
    throw new OperatorInputError(`${names.limit}: a whole number, got '${input.limit}'`);
  return { ...filter, limit: Number(input.limit) };
}
