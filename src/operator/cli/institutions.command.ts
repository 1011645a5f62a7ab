import type { Command } from 'commander';
import { deliveryHttpsAgent } from '../../delivery/http-post.js';
import { loadConfig } from '../../infra/config.js';
import { cliActor } from '../audit.js';
import { endpointPolicy } from '../endpoint-url.js';
import { listErrors } from '../error-queue.js';
import { type InstitutionOverview, institutionOverview, type PingResult } from '../institutions.js';
import {
  addInstitution,
  pauseInstitution,
  resumeInstitution,
  setInstitutionSigning,
  setReceiptSignatureVerification,
} from '../operator-actions.js';
import { pingInstitution } from '../ping.js';
import { brins, oin, printJson, printTable, when, withDatabase, withOperator } from './cli-support.js';

const health = (i: InstitutionOverview): string =>
  i.health.state === 'idle' ? 'idle' : `${i.health.state} (${i.health.failedAttempts}/${i.health.attempts} failed)`;

function printInstitution(i: InstitutionOverview): void {
  const fields: [string, string][] = [
    ['oin', i.oin],
    ['name', i.name],
    ['brins', i.brins.join(', ')],
    ['endpoint', i.endpointUrl ?? '-'],
    ['enabled', i.enabled ? 'yes' : 'no'],
    ['paused', i.paused ? 'yes' : 'no'],
    ['receipt signed', i.verifyReceiptSignature ? 'checked' : 'not checked'],
    ['queued', String(i.queued)],
    ['in delivery', String(i.inDelivery)],
    ['delivered (1 h)', String(i.deliveredLastHour)],
    ['error queue', String(i.errorQueued)],
    ['endpoint health', health(i)],
    [
      'last attempt',
      i.health.lastAttemptAt
        ? `${when(i.health.lastAttemptAt)} ${i.health.lastOutcome}${i.health.lastError ? `: ${i.health.lastError}` : ''}`
        : '-',
    ],
  ];
  for (const [key, value] of fields) process.stdout.write(`${key.padEnd(16)} ${value}\n`);
}

async function findOrFail(value: string): Promise<InstitutionOverview> {
  const [found] = await withDatabase((pool) => institutionOverview(pool, oin(value)));
  if (!found) throw new Error(`no institution ${value}`);
  return found;
}

/** `bron-broker institution …` (alias `institutions`): who delivers, where pushes go, and how that goes. */
export function registerInstitutionCommands(program: Command): void {
  const institution = program
    .command('institution')
    .alias('institutions')
    .description('institutions that deliver messages and receive pushes');

  institution
    .command('add')
    .description(
      'register an institution, or replace the one with this OIN (a BRIN another institution serves needs --also)',
    )
    .requiredOption('--oin <oin>', 'OIN (20 characters)', oin)
    .requiredOption('--name <name>', 'name')
    .requiredOption('--brin <brin>', 'a BRIN it may deliver for (repeat for more)', brins)
    .option('--endpoint <url>', 'its SOAP endpoint for pushes (https://, a public address: see docs/operations.md)')
    .option('--disabled', 'register it disabled')
    .option('--also', 'a BRIN another institution serves: add this one as a further administration for it')
    .option(
      '--verify-receipt-signature',
      'its receipts must carry a valid WS-Security signature with its OIN (docs/security.md); replacing an institution keeps the setting unless given',
    )
    .option('--no-verify-receipt-signature', 'do not check its receipt signatures')
    .action(
      async (options: {
        oin: string;
        name: string;
        brin: string[];
        endpoint?: string;
        disabled?: boolean;
        also?: boolean;
        verifyReceiptSignature?: boolean;
      }) => {
        const given = {
          oin: options.oin,
          name: options.name,
          brins: options.brin,
          endpointUrl: options.endpoint ?? null,
          enabled: !options.disabled,
          ...(options.verifyReceiptSignature !== undefined
            ? { verifyReceiptSignature: options.verifyReceiptSignature }
            : {}),
        };
        const endpoint = { policy: endpointPolicy(loadConfig()), field: '--endpoint' };
        const stored = await withDatabase((pool) =>
          addInstitution(pool, cliActor(), given, { also: options.also ?? false, alsoName: '--also', endpoint }),
        );
        process.stdout.write(`saved ${stored.oin} ${stored.name} (${stored.brins.join(', ')})\n`);
      },
    );

  institution
    .command('update <oin>')
    .description("change a registered institution's settings: whether its receipt signatures are checked")
    .option('--verify-receipt-signature', 'its receipts must carry a valid WS-Security signature with its OIN')
    .option('--no-verify-receipt-signature', 'do not check its receipt signatures')
    .action(async (value: string, options: { verifyReceiptSignature?: boolean }) => {
      if (options.verifyReceiptSignature === undefined)
        throw new Error('say what to change: --verify-receipt-signature or --no-verify-receipt-signature');
      const verify = options.verifyReceiptSignature;
      const found = await withDatabase((pool) =>
        setReceiptSignatureVerification({ pool }, cliActor(), oin(value), verify),
      );
      if (!found) throw new Error(`no institution ${value}`);
      process.stdout.write(`${value}: receipt signatures ${verify ? 'checked' : 'not checked'}\n`);
    });

  institution
    .command('list')
    .description('the registered institutions with their queues and endpoint health')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const institutions = await withDatabase((pool) => institutionOverview(pool));
      if (options.json) return printJson(institutions);
      printTable(
        [
          'OIN',
          'BRINS',
          'ENABLED',
          'PAUSED',
          'QUEUED',
          'RETRYING',
          'DELIVERED 1H',
          'ERRORS',
          'HEALTH',
          'ENDPOINT',
          'NAME',
        ],
        institutions.map((i) => [
          i.oin,
          i.brins.join(','),
          i.enabled ? 'yes' : 'no',
          i.paused ? 'yes' : 'no',
          String(i.queued),
          String(i.inDelivery),
          String(i.deliveredLastHour),
          String(i.errorQueued),
          health(i),
          i.endpointUrl ?? '-',
          i.name,
        ]),
      );
    });

  institution
    .command('show <oin>')
    .description('one institution: queues, endpoint health, its newest error-queue messages')
    .option('--json', 'print JSON')
    .action(async (value: string, options: { json?: boolean }) => {
      const found = await findOrFail(value);
      const errors = await withDatabase((pool) => listErrors({ pool }, { institutionOin: found.oin, limit: 20 }));
      if (options.json) return printJson({ institution: found, errors });
      printInstitution(found);
      if (errors.length === 0) return;
      process.stdout.write('\n');
      printTable(
        ['ERROR ID', 'OPERATION', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
        errors.map((e) => [
          String(e.id),
          e.operation,
          String(e.attempts),
          when(e.createdAt),
          (e.lastError ?? '').slice(0, 80),
        ]),
      );
    });

  institution
    .command('ping <oin>')
    .description(
      "probe the institution's endpoint (HTTP GET with a timeout): healthy or not, status, latency (exit 2 when not)",
    )
    .option('--timeout <ms>', 'give up after this many milliseconds', (v) => Number(v), 5000)
    .option('--json', 'print JSON')
    .action(async (value: string, options: { timeout: number; json?: boolean }) => {
      const found = await findOrFail(value);
      if (!found.endpointUrl) throw new Error(`${found.oin} has no endpoint registered`);
      const target = { oin: found.oin, endpointUrl: found.endpointUrl };
      const config = loadConfig();
      // The same transport as deliveries: the broker's client certificate, DELIVERY_CA_FILE trusted.
      const deps = { endpointPolicy: endpointPolicy(config), httpsAgent: deliveryHttpsAgent(config.tls) };
      // The CLI runs with database access: the operator's detail.
      const result = (await withDatabase((pool) =>
        pingInstitution({ ...deps, pool }, cliActor(), target, { timeoutMs: options.timeout, detail: true }),
      )) as PingResult;
      if (options.json) return printJson(result);
      process.stdout.write(
        result.healthy
          ? `healthy: ${found.endpointUrl} answered HTTP ${result.httpStatus} in ${result.latencyMs} ms\n`
          : result.reachable
            ? `unhealthy: ${found.endpointUrl} answered HTTP ${result.httpStatus} in ${result.latencyMs} ms: ${result.error}\n`
            : `unreachable: ${found.endpointUrl} after ${result.latencyMs} ms: ${result.error}\n`,
      );
      if (!result.healthy) process.exitCode = 2;
    });

  institution
    .command('pause <oin>')
    .description('hold deliveries to an institution (holiday); its messages wait without using attempts')
    .action(async (value: string) => {
      if (!(await withDatabase((pool) => pauseInstitution({ pool }, cliActor(), oin(value)))))
        throw new Error(`no institution ${value}`);
      process.stdout.write(`paused ${value}\n`);
    });

  institution
    .command('resume <oin>')
    .description('resume deliveries to an institution and queue what waited')
    .action(async (value: string) => {
      const queued = await withOperator((deps) => resumeInstitution(deps, cliActor(), oin(value)));
      if (queued === null) throw new Error(`no institution ${value}`);
      process.stdout.write(`resumed ${value}; ${queued} message(s) queued\n`);
    });

  institution
    .command('signing <oin> <rule>')
    .description('whether its requests must be signed (WS-Security): required, optional, or default (WSS_REQUIRED)')
    .action(async (value: string, rule: string) => {
      const rules: Readonly<Record<string, boolean | null>> = { required: true, optional: false, default: null };
      if (!Object.hasOwn(rules, rule)) throw new Error(`signing must be required, optional or default, got '${rule}'`);
      const required = rules[rule] ?? null;
      if (!(await withDatabase((pool) => setInstitutionSigning({ pool }, cliActor(), oin(value), required))))
        throw new Error(`no institution ${value}`);
      process.stdout.write(`signing ${rule} for ${value}\n`);
    });
}
