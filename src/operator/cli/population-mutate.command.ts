import fs from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../infra/config.js';
import { BrokerFault } from '../../infra/errors.js';
import { createProcessingQueue, processingWakeUps } from '../../infra/processing-queue.js';
import { createProducerConnection } from '../../infra/redis.js';
import { resolveRedis } from '../../infra/services/resolve-services.js';
import type { PersonMutation } from '../../register/person-mutation.js';
import { isValidBsn } from '../../register/pgn.js';
import type { AcceptedMessage } from '../../store/inbound-messages.repo.js';
import { cliActor } from '../audit.js';
import { submitMutation } from '../operator-actions.js';
import { mutationMessage } from '../submit-person-mutation.js';
import { withDatabase } from './cli-support.js';

/** The options of `population mutate`, as commander hands them over. */
export interface MutateOptions {
  bsn: string;
  surname?: string;
  prefixes?: string;
  firstNames?: string;
  street?: string;
  houseNumber?: string;
  houseLetter?: string;
  postcode?: string;
  city?: string;
  puntadres?: boolean;
  dateOfDeath?: string;
}

/** Whether `value` is a real calendar day as YYYY-MM-DD (month 13 or 30 February are not). */
export function isCalendarDate(value: string): boolean {
  const day = new Date(`${value}T00:00:00Z`);
  // An impossible month gives an invalid Date, whose toISOString would throw instead of saying no.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value);
}

function addressOf(options: MutateOptions): PersonMutation['address'] {
  const { street, houseNumber, houseLetter, postcode, city } = options;
  if (options.puntadres) {
    if (street !== undefined || houseNumber !== undefined || houseLetter !== undefined || postcode !== undefined) {
      throw new InvalidArgumentError('--puntadres has no street, house number or postcode (its street name is ".")');
    }
    if (city === undefined) throw new InvalidArgumentError('--puntadres needs --city');
    return { binnenlandsAdres: { straatnaam: '.', plaatsnaam: city } };
  }
  const given = [street, houseNumber, houseLetter, postcode, city].some((value) => value !== undefined);
  if (!given) return undefined;
  if (city === undefined) throw new InvalidArgumentError('a new address needs --city');
  // Insertion order is the schema's element order (straatnaam, huisnummer, huisletter, postcode, plaatsnaam).
  const fields: Record<string, string> = {};
  if (street !== undefined) fields.straatnaam = street;
  if (houseNumber !== undefined) fields.huisnummer = houseNumber;
  if (houseLetter !== undefined) fields.huisletter = houseLetter;
  if (postcode !== undefined) fields.postcode = postcode.replace(/\s+/g, '').toUpperCase();
  fields.plaatsnaam = city;
  return { binnenlandsAdres: fields };
}

/** The mutation the options describe; refuses options that do not make exactly one consistent mutation. */
export function mutationFromOptions(options: MutateOptions): PersonMutation {
  if (!isValidBsn(options.bsn)) throw new InvalidArgumentError('--bsn must be 9 digits passing the elfproef');
  if (options.surname === undefined && (options.prefixes !== undefined || options.firstNames !== undefined)) {
    throw new InvalidArgumentError(
      'a new name is replaced as a whole: give --surname with --prefixes or --first-names',
    );
  }
  if (options.dateOfDeath !== undefined && !isCalendarDate(options.dateOfDeath))
    throw new InvalidArgumentError('--date-of-death must be a date YYYY-MM-DD');
  const address = addressOf(options);
  const mutation: PersonMutation = {
    bsn: options.bsn,
    ...(options.surname !== undefined
      ? {
          name: {
            achternaam: options.surname,
            ...(options.prefixes ? { voorvoegsels: options.prefixes } : {}),
            ...(options.firstNames ? { voornamen: options.firstNames } : {}),
          },
        }
      : {}),
    ...(address ? { address } : {}),
    ...(options.dateOfDeath !== undefined ? { datumOverlijden: options.dateOfDeath } : {}),
  };
  if (!mutation.name && !mutation.address && !mutation.datumOverlijden) {
    throw new InvalidArgumentError(
      'nothing to change: give a name (--surname), an address (--street … --city or --puntadres --city) or --date-of-death',
    );
  }
  return mutation;
}

/** The message the BRP source would send; the contract schema's objection (a postcode, say) as the CLI's error. */
function validMessage(mutation: PersonMutation): AcceptedMessage {
  try {
    return mutationMessage(loadConfig(), mutation);
  } catch (error) {
    if (error instanceof BrokerFault && error.code === 'DK0004')
      throw new InvalidArgumentError(`not a valid mutation: ${error.reason}`);
    throw error;
  }
}

/**
 * Adds the processing job at once. Best effort: the row is in the processing outbox already, and the
 * running broker's sweeper enqueues it anyway within SWEEP_INTERVAL_MS + SWEEP_GRACE_MS.
 */
async function enqueueProcessing(messageId: number): Promise<boolean> {
  const config = loadConfig();
  const service = await resolveRedis(config, (message) => process.stderr.write(`${message}\n`));
  const redis = createProducerConnection(service.url);
  const queue = createProcessingQueue(redis, config.queuePrefix);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Redis did not answer')), 5000);
  });
  try {
    await Promise.race([queue.waitUntilReady().then(() => queue.addBulk(processingWakeUps([messageId]))), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await queue.close();
    redis.disconnect();
    await service.stop();
  }
}

/** `bron-broker population mutate`: a population-register change, processed exactly like one from the BRP source over SOAP. */
export function registerMutateCommand(population: Command): void {
  population
    .command('mutate')
    .description(
      "change a person's name, address or date of death as the BRP source would: every school with an active enrolment receives verstrekkenPersoonsgegevens (MUTATIE)",
    )
    .requiredOption(
      '--bsn <bsn>',
      "the person's BSN, or - to read it from standard input (keeps it out of shell history and ps)",
    )
    .option('--surname <achternaam>', 'new surname (the name is replaced as a whole)')
    .option('--prefixes <voorvoegsels>', 'new prefixes, e.g. "van der"')
    .option('--first-names <voornamen>', 'new first names')
    .option('--street <straatnaam>', 'new address: street')
    .option('--house-number <huisnummer>', 'new address: house number')
    .option('--house-letter <huisletter>', 'new address: house letter')
    .option('--postcode <postcode>', 'new address: postcode, e.g. 9712AB')
    .option('--city <plaatsnaam>', 'new address: place (required with any address)')
    .option('--puntadres', 'the address is a "puntadres" (street ".", no number or postcode); give --city')
    .option('--date-of-death <YYYY-MM-DD>', 'date of death')
    .action(async (options: MutateOptions) => {
      const bsn = options.bsn === '-' ? fs.readFileSync(0, 'utf8').trim() : options.bsn;
      const mutation = mutationFromOptions({ ...options, bsn });
      const message = validMessage(mutation);
      // What changed, never whose: the audit names the stored message, not the BSN.
      const changes = [
        mutation.name && 'name',
        mutation.address && 'address',
        mutation.datumOverlijden && 'dateOfDeath',
      ].filter((c): c is string => typeof c === 'string');
      const messageId = await withDatabase((pool) => submitMutation(pool, cliActor(), message, changes));
      const queued = await enqueueProcessing(messageId);
      process.stdout.write(
        `stored mutation for BSN ******${mutation.bsn.slice(-3)} as message ${messageId}; ${queued ? 'queued for processing' : "the broker's sweeper will queue it"}\n`,
      );
    });
}
