import fs from 'node:fs';
import path from 'node:path';
import { OIN_PATTERN } from './catalogue.js';
import { DataKeys } from './data-keys.js';
import { parseSchedule, type QualitySchedule } from './schedule.js';

/** Validated, frozen broker configuration, read once from the environment at start-up. */
export interface Config {
  /** HTTP port of the SOAP endpoint, WSDLs and admin routes (`PORT`, default 8080). */
  readonly port: number;
  /** Interface to bind (`HOST`, default 0.0.0.0). */
  readonly host: string;
  /** External PostgreSQL; when absent an embedded PostgreSQL is started (`DATABASE_URL`). */
  readonly databaseUrl: string | undefined;
  /** External Redis; when absent a local redis-server is started (`REDIS_URL`). */
  readonly redisUrl: string | undefined;
  /** Where embedded services keep their data (`BROKER_DATA_DIR`, default ./var). */
  readonly dataDir: string;
  /** Port of the embedded PostgreSQL (`EMBEDDED_PG_PORT`, default 54329). */
  readonly embeddedPgPort: number;
  /** Port of the local redis-server (`EMBEDDED_REDIS_PORT`, default 63790). */
  readonly embeddedRedisPort: number;
  /** The broker's own OIN (`BROKER_OIN`, default DUO's). */
  readonly brokerOin: string;
  /**
   * The only sender whose `DUO_BRP_Persoonsmutaties_V1` messages are accepted, and who may send nothing
   * else (`BRP_SOURCE_OIN`, default the demo test OIN {@link DEMO_BRP_SOURCE_OIN}).
   */
  readonly brpSourceOin: string;
  /** winston level (`LOG_LEVEL`, default info). */
  readonly logLevel: string;
  /** Largest accepted body, compressed and decompressed (`MAX_BODY_BYTES`, default 1 MiB). */
  readonly maxBodyBytes: number;
  /** Largest soap:Header, its tags included (`MAX_HEADER_BYTES`, default 16 KiB). */
  readonly maxHeaderBytes: number;
  /** Most elements inside soap:Header (`MAX_HEADER_ELEMENTS`, default 100). */
  readonly maxHeaderElements: number;
  /** Most elements in a whole message (`MAX_ELEMENTS`, default 20,000). */
  readonly maxElements: number;
  /** Requests of one sender OIN in flight at once in one HTTP process; more get Server.BB0006 (`MAX_IN_FLIGHT_PER_SENDER`, default 32). */
  readonly maxInFlightPerSender: number;
  /** Open connections one HTTP process takes; more are closed unanswered (`MAX_CONNECTIONS`, default 1024). */
  readonly maxConnections: number;
  /** Open connections one HTTP process takes from one IP address (`MAX_CONNECTIONS_PER_IP`, default 64; 0: no cap). */
  readonly maxConnectionsPerIp: number;
  /**
   * New connections one HTTP process takes from one IP address a second, a burst of as many at once;
   * more are closed as they are accepted, before a TLS handshake (`MAX_NEW_CONNECTIONS_PER_IP`,
   * default 20 with TLS in production, else 0; 0: no limit).
   */
  readonly maxNewConnectionsPerIp: number;
  /**
   * Longest wait for a transaction slot, and longest a group commit may take, before Server.DK0051
   * (`ACCEPT_TIMEOUT_MS`, default 1500): PostgreSQL refuses to commit a statement past it.
   */
  readonly acceptTimeoutMs: number;
  /**
   * How long after a commit's deadline the broker keeps asking PostgreSQL whether a statement that got
   * no answer stored its messages, before it closes the request without an answer (`ACCEPT_OUTCOME_WAIT_MS`, default 10000).
   */
  readonly acceptOutcomeWaitMs: number;
  /** Most messages group-committed in one transaction (`ACCEPT_BATCH_SIZE`, default 100). */
  readonly acceptBatchSize: number;
  /** Group-commit transactions in flight at once (`ACCEPT_MAX_IN_FLIGHT`, default 2: one per core, measured better than 4 in docs/benchmarks.md). */
  readonly acceptMaxInFlight: number;
  /** How often the sweeper looks for accepted messages without a job (`SWEEP_INTERVAL_MS`, default 5000). */
  readonly sweepIntervalMs: number;
  /** Age an outbox row must reach before the sweeper treats it as missing a job (`SWEEP_GRACE_MS`, default 5000). */
  readonly sweepGraceMs: number;
  /** Key prefix for BullMQ (`QUEUE_PREFIX`, default bron). */
  readonly queuePrefix: string;
  /**
   * `development` or `production` (`BROKER_PROFILE`; unset: development when the broker starts its own
   * embedded PostgreSQL, i.e. `DATABASE_URL` is unset as on a developer's `npm start`, else production).
   * It decides the defaults of the demo and endpoint settings below.
   */
  readonly profile: Profile;
  /** Seed the demo data and mount the demo receiver (`SEED_DEMO`, default true in development, false in production). */
  readonly seedDemo: boolean;
  /** Where the delivering process reaches this broker's demo receiver (`DEMO_BASE_URL`, default http://localhost:PORT). */
  readonly demoBaseUrl: string;
  /** Institution endpoints may use plain http (`ALLOW_HTTP_ENDPOINTS`, default true in development, false in production). */
  readonly allowHttpEndpoints: boolean;
  /** Institution endpoints may be loopback addresses or names (`ALLOW_LOOPBACK_ENDPOINTS`, default true in development, false in production). */
  readonly allowLoopbackEndpoints: boolean;
  /** Institution endpoints may be private addresses: 10/8, 172.16/12, 192.168/16, fc00::/7 (`ALLOW_PRIVATE_ENDPOINTS`, default false). */
  readonly allowPrivateEndpoints: boolean;
  /** Processing jobs active at once per process (`PROCESSING_CONCURRENCY`, default 64); they share transactions. */
  readonly processingConcurrency: number;
  /** Most messages processed in one transaction (`PROCESSING_BATCH_SIZE`, default 64: see docs/benchmarks.md, sixth round). */
  readonly processingBatchSize: number;
  /** Processing transactions running at once per process (`PROCESSING_TRANSACTIONS`, default 2). */
  readonly processingTransactions: number;
  /** Timeout of one delivery attempt (`DELIVERY_TIMEOUT_MS`, default 10000). */
  readonly deliveryTimeoutMs: number;
  /** Retries after the first delivery attempt (`DELIVERY_RETRIES`, default 3). */
  readonly deliveryRetries: number;
  /** Waits before each retry, ms (`DELIVERY_BACKOFF_MS`, comma-separated, default 30000,120000,600000; the last repeats). */
  readonly deliveryBackoffMs: readonly number[];
  /** How often each pipeline process looks in PostgreSQL for due deliveries: retries, resumed, replayed, another process's (`DELIVERY_POLL_MS`, default 500). */
  readonly deliveryPollMs: number;
  /** Deliveries in flight at once per process (`DELIVERY_CONCURRENCY`, default 256). */
  readonly deliveryConcurrency: number;
  /** Deliveries in flight at once to one institution, over all processes (`DELIVERY_PER_INSTITUTION`, default 4). */
  readonly deliveryPerInstitution: number;
  /** How long a worker's claim on a job lasts without renewal; a killed worker's jobs return after about this long (`JOB_LOCK_MS`, default 30000). */
  readonly jobLockMs: number;
  /** What this start runs (`ROLE`, default all): see {@link ProcessRole}. */
  readonly role: ProcessRole;
  /** HTTP processes sharing the port, in roles all and http (`HTTP_PROCESSES`, default 1: on 2 cores shared with PostgreSQL one is fastest). */
  readonly httpProcesses: number;
  /** Bearer token for the read-only admin API and dashboard (`ADMIN_READ_TOKEN`; unset: generated once into BROKER_DATA_DIR/operator-secrets.json). */
  readonly adminReadToken: string | undefined;
  /** Bearer token for admin actions: replay, purge, pause, resume, add (`ADMIN_OPERATOR_TOKEN`; unset: generated like the read token). */
  readonly adminOperatorToken: string | undefined;
  /** Key of the keyed hash (HMAC-SHA256) that indexes pupils for `trace --pupil` (`TRACE_KEY`; unset: generated like the tokens). */
  readonly traceKey: string | undefined;
  /**
   * When the weekly quality checks run (`QUALITY_SCHEDULE`, a cron expression, default `0 3 * * 6`:
   * Saturday 03:00; `off` runs them only on an operator's request) in `QUALITY_TIMEZONE` (default Europe/Amsterdam).
   */
  readonly qualitySchedule: QualitySchedule | null;
  /**
   * Mutual TLS on the listener and for deliveries (`TLS=on|off`; unset: on when `TLS_CERT_FILE` is set).
   * null: plain HTTP, for development only (docs/security.md).
   */
  readonly tls: TlsSettings | null;
  /**
   * Whether senders must sign their requests with WS-Security (`WSS_REQUIRED`, default false); an
   * institution's own `wss_required` overrides it. A signature that is present is verified either way.
   */
  readonly wssRequired: boolean;
  /** The broker's address as senders reach it, used in the WSDLs' soap:address (`PUBLIC_URL`; unset: the listen address). */
  readonly publicUrl: string | undefined;
  /**
   * Keys that seal stored messages at rest, AES-256-GCM (`DATA_KEYS`, `id:base64key,…`: the first seals,
   * all open). Unset: plain text, allowed in the development profile only (docs/security.md).
   */
  readonly dataKeys: DataKeys;
  /**
   * A listener of its own for /admin, /metrics and /readyz (`ADMIN_PORT`; unset: they are served on
   * `PORT`), on `ADMIN_HOST` (default 127.0.0.1), plain HTTP.
   */
  readonly admin: { readonly port: number; readonly host: string } | null;
  /**
   * WS-Security signing of receipts and pushes (`SIGNING=on|off`; unset: on when a key is configured:
   * `SIGNING_KEY_FILE`, or `TLS_KEY_FILE` with TLS on). null: unsigned (docs/security.md).
   */
  readonly signing: SigningSettings | null;
  /** Limits that follow from the settings above, computed here so no call site invents its own. */
  readonly limits: DerivedLimits;
  /** One line per old setting name still in the environment, naming what replaced it (logged at start). */
  readonly deprecations: readonly string[];
}

/**
 * `all`: this machine runs everything: HTTP process(es) plus one pipeline process (`npm start`).
 * `http`: accepts messages only (SOAP, WSDLs, admin, metrics); processing and delivery run elsewhere.
 * `pipeline`: processes and delivers only; no HTTP listener.
 */
export const ROLES = ['all', 'http', 'pipeline'] as const;
export type ProcessRole = (typeof ROLES)[number];

/** Where the PEM files of mutual TLS are (checked readable at start-up; their content in src/infra/tls.ts). */
export interface TlsSettings {
  /** The broker's certificate (chain), presented to senders and to schools (`TLS_CERT_FILE`). */
  readonly certFile: string;
  /** Its private key (`TLS_KEY_FILE`). */
  readonly keyFile: string;
  /** CA bundle a sender's client certificate must chain to (`TLS_CA_FILE`). */
  readonly caFile: string;
  /** Revoked certificates, optional (`TLS_CRL_FILE`). */
  readonly crlFile: string | undefined;
  /** CA bundle a school's server certificate must chain to on delivery (`DELIVERY_CA_FILE`, default `TLS_CA_FILE`). */
  readonly deliveryCaFile: string;
}
/** Where the broker's signing key and certificate are (read and checked at start-up in src/infra/signing.ts). */
export interface SigningSettings {
  /** The RSA private key that signs (`SIGNING_KEY_FILE`, default `TLS_KEY_FILE`). */
  readonly keyFile: string;
  /** Its certificate (chain), PEM; the first is sent as the BinarySecurityToken (`SIGNING_CERT_FILE`, default `TLS_CERT_FILE`). */
  readonly certFile: string;
}

/** `development`: the demo and loopback/plain-http endpoints are on by default; `production`: off. */
export const PROFILES = ['development', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

/** Limits derived from the settings: pool sizes, lease and ping times. */
export interface DerivedLimits {
  /** Connections of an HTTP process's general pool: registry, sweeper, admin API, gauges, readiness. */
  readonly httpPoolSize: number;
  /** Connections of the accept path's group commits: one per commit in flight. */
  readonly acceptPoolSize: number;
  /** Connections of the pipeline: its processing transactions plus delivery's claims, polls, reads and records, and a quality run. */
  readonly pipelinePoolSize: number;
  /** How long a delivery lease lasts: the attempt's timeout plus a margin, so only a dead process's lease expires. */
  readonly deliveryLeaseMs: number;
  /** A message offered for its first attempt by the process that queued it is the pollers' after this long. */
  readonly deliveryHandoffMs: number;
  /** Timeout of an operator's endpoint ping: a delivery attempt's, at most five seconds (someone waits for it). */
  readonly pingTimeoutMs: number;
}

/** Old setting names: each still in the environment gets this warning line, naming what replaced it. */
const REPLACED: Readonly<Record<string, string>> = {
  HTTP_WORKERS: 'HTTP_WORKERS is read as HTTP_PROCESSES, its new name: rename it',
  RUN_WORKERS: 'RUN_WORKERS is no longer read: set ROLE=http for a process without processing and delivery',
  PIPELINE_PROCESS: 'PIPELINE_PROCESS is no longer read: ROLE=all always runs the pipeline in a process of its own',
};

/** Computes the limits that follow from the settings (the one place they are decided). */
export function deriveLimits(
  settings: Pick<Config, 'acceptMaxInFlight' | 'processingTransactions' | 'deliveryTimeoutMs'>,
): DerivedLimits {
  return {
    httpPoolSize: 6,
    acceptPoolSize: settings.acceptMaxInFlight,
    // Each processing transaction reads its reference data on a second connection; a quality run holds one for its transaction.
    pipelinePoolSize: 2 * settings.processingTransactions + 6,
    deliveryLeaseMs: settings.deliveryTimeoutMs + 5000,
    deliveryHandoffMs: 1000,
    pingTimeoutMs: Math.min(settings.deliveryTimeoutMs, 5000),
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Thrown when the environment is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DUO_OIN = '00000001800866472000';
/** Stand-in OIN of the population-register feed: a test OIN (prefix 00000099), so it can never be a real party's. */
export const DEMO_BRP_SOURCE_OIN = '00000099000000000100';

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
      return fallback;
    }
    return value;
  };
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must use ${protocols.join(' or ')}`);
    } catch {
      problems.push(`${name} is not a URL`);
    }
    return raw;
  };
  const intList = (name: string, fallback: number[]): number[] => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const parts = raw.split(',').map((part) => part.trim());
    // Number('') is 0: an empty part ('100,,200') would be a wait of nothing.
    const values = parts.map((part) => (part === '' ? Number.NaN : Number(part)));
    if (values.some((v) => !Number.isInteger(v) || v < 0 || v > 86_400_000)) {
      problems.push(`${name} must be comma-separated whole numbers of milliseconds, got '${raw}'`);
      return fallback;
    }
    return values;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'no'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got '${raw}'`);
    return fallback;
  };

  const brokerOin = env.BROKER_OIN || DUO_OIN;
  if (!OIN_PATTERN.test(brokerOin)) problems.push(`BROKER_OIN must be 20 digits or capitals, got '${brokerOin}'`);
  const brpSourceOin = env.BRP_SOURCE_OIN || DEMO_BRP_SOURCE_OIN;
  if (!OIN_PATTERN.test(brpSourceOin))
    problems.push(`BRP_SOURCE_OIN must be 20 digits or capitals, got '${brpSourceOin}'`);
  else if (brpSourceOin === brokerOin) problems.push('BRP_SOURCE_OIN must differ from BROKER_OIN');
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be a winston level, got '${logLevel}'`);
  }
  const secret = (name: string, minLength: number): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (raw.length < minLength || /\s/.test(raw))
      problems.push(`${name} must be at least ${minLength} characters without white space`);
    return raw;
  };
  const adminReadToken = secret('ADMIN_READ_TOKEN', 16);
  const adminOperatorToken = secret('ADMIN_OPERATOR_TOKEN', 16);
  // One token for both roles would make the read-only token an operator token.
  if (adminReadToken && adminReadToken === adminOperatorToken)
    problems.push('ADMIN_READ_TOKEN and ADMIN_OPERATOR_TOKEN must differ');
  const role = (env.ROLE || 'all') as ProcessRole;
  if (!ROLES.includes(role)) problems.push(`ROLE must be ${ROLES.join(', ')} or unset (all), got '${env.ROLE}'`);
  // HTTP_WORKERS is read (with a warning) until deployments have renamed it; HTTP_PROCESSES wins.
  const httpProcessesName =
    env.HTTP_PROCESSES === undefined && env.HTTP_WORKERS !== undefined ? 'HTTP_WORKERS' : 'HTTP_PROCESSES';
  const deprecations = Object.entries(REPLACED)
    .filter(([name]) => env[name] !== undefined)
    .map(([, line]) => line);
  const queuePrefix = env.QUEUE_PREFIX || 'bron';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(queuePrefix)) problems.push('QUEUE_PREFIX may hold only letters, digits, _ . -');

  const qualityCron = (env.QUALITY_SCHEDULE || '0 3 * * 6').trim();
  const qualitySchedule =
    qualityCron === 'off' ? null : { cron: qualityCron, timezone: env.QUALITY_TIMEZONE || 'Europe/Amsterdam' };
  if (qualitySchedule) {
    try {
      parseSchedule(qualitySchedule);
    } catch (error) {
      problems.push(
        `QUALITY_SCHEDULE must be a cron expression (minute hour day month weekday) or off, and QUALITY_TIMEZONE a time zone: ${(error as Error).message}`,
      );
    }
  }

  const tls = tlsSettings(env, problems);
  const wssRequired = bool('WSS_REQUIRED', false);
  // Signing certificates are checked against TLS_CA_FILE: without it no signature could ever be verified.
  if (wssRequired && !tls)
    problems.push('WSS_REQUIRED=true needs TLS=on (signing certificates must chain to TLS_CA_FILE)');
  const signing = signingSettings(env, tls, problems);
  const publicUrl = url('PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, '');
  // An embedded PostgreSQL is what `npm start` on a developer's machine uses; a deployment names its database.
  const profile = (env.BROKER_PROFILE || (env.DATABASE_URL ? 'production' : 'development')) as Profile;
  if (!PROFILES.includes(profile))
    problems.push(`BROKER_PROFILE must be ${PROFILES.join(' or ')}, got '${env.BROKER_PROFILE}'`);
  const development = profile === 'development';
  const port = int('PORT', 8080, 0, 65535);
  const demoBaseUrl = (
    url('DEMO_BASE_URL', ['http:', 'https:']) ?? `${tls ? 'https' : 'http'}://localhost:${port}`
  ).replace(/\/+$/, '');

  const dataKeys = dataKeysSetting(env, development, problems);
  const adminPort = env.ADMIN_PORT ? int('ADMIN_PORT', 0, 0, 65535) : undefined;
  if (adminPort !== undefined && adminPort !== 0 && adminPort === port)
    problems.push('ADMIN_PORT must differ from PORT');

  const settings = {
    port,
    host: env.HOST || '0.0.0.0',
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    dataDir: path.resolve(env.BROKER_DATA_DIR || './var'),
    embeddedPgPort: int('EMBEDDED_PG_PORT', 54329, 1, 65535),
    embeddedRedisPort: int('EMBEDDED_REDIS_PORT', 63790, 1, 65535),
    brokerOin,
    brpSourceOin,
    logLevel,
    maxBodyBytes: int('MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxHeaderBytes: int('MAX_HEADER_BYTES', 16 * 1024, 1024, 1024 * 1024),
    maxHeaderElements: int('MAX_HEADER_ELEMENTS', 100, 10, 10_000),
    maxElements: int('MAX_ELEMENTS', 20_000, 100, 1_000_000),
    maxInFlightPerSender: int('MAX_IN_FLIGHT_PER_SENDER', 32, 1, 10_000),
    maxConnections: int('MAX_CONNECTIONS', 1024, 1, 100_000),
    maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', 64, 0, 100_000),
    // What it saves is TLS handshakes (a private-key operation each); development and tests connect freely.
    maxNewConnectionsPerIp: int('MAX_NEW_CONNECTIONS_PER_IP', tls && !development ? 20 : 0, 0, 100_000),
    acceptTimeoutMs: int('ACCEPT_TIMEOUT_MS', 1500, 100, 60_000),
    acceptOutcomeWaitMs: int('ACCEPT_OUTCOME_WAIT_MS', 10_000, 100, 600_000),
    acceptBatchSize: int('ACCEPT_BATCH_SIZE', 100, 1, 1000),
    acceptMaxInFlight: int('ACCEPT_MAX_IN_FLIGHT', 2, 1, 32),
    sweepIntervalMs: int('SWEEP_INTERVAL_MS', 5000, 50, 3_600_000),
    sweepGraceMs: int('SWEEP_GRACE_MS', 5000, 0, 3_600_000),
    queuePrefix,
    profile,
    seedDemo: bool('SEED_DEMO', development),
    demoBaseUrl,
    allowHttpEndpoints: bool('ALLOW_HTTP_ENDPOINTS', development),
    allowLoopbackEndpoints: bool('ALLOW_LOOPBACK_ENDPOINTS', development),
    allowPrivateEndpoints: bool('ALLOW_PRIVATE_ENDPOINTS', false),
    role,
    httpProcesses: int(httpProcessesName, 1, 1, 64),
    processingConcurrency: int('PROCESSING_CONCURRENCY', 64, 1, 1024),
    processingBatchSize: int('PROCESSING_BATCH_SIZE', 64, 1, 1000),
    processingTransactions: int('PROCESSING_TRANSACTIONS', 2, 1, 32),
    deliveryTimeoutMs: int('DELIVERY_TIMEOUT_MS', 10_000, 50, 600_000),
    deliveryRetries: int('DELIVERY_RETRIES', 3, 0, 20),
    deliveryBackoffMs: intList('DELIVERY_BACKOFF_MS', [30_000, 120_000, 600_000]),
    deliveryPollMs: int('DELIVERY_POLL_MS', 500, 10, 60_000),
    deliveryConcurrency: int('DELIVERY_CONCURRENCY', 256, 1, 1024),
    deliveryPerInstitution: int('DELIVERY_PER_INSTITUTION', 4, 1, 256),
    jobLockMs: int('JOB_LOCK_MS', 30_000, 500, 600_000),
    adminReadToken,
    adminOperatorToken,
    traceKey: secret('TRACE_KEY', 32),
    qualitySchedule,
    tls,
    wssRequired,
    publicUrl,
    dataKeys,
    admin: adminPort === undefined ? null : { port: adminPort, host: env.ADMIN_HOST || '127.0.0.1' },
    signing,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...settings, limits: Object.freeze(deriveLimits(settings)), deprecations });
}

/** DATA_KEYS parsed; required in production, where a stolen backup must not hold readable messages. */
function dataKeysSetting(env: Env, development: boolean, problems: string[]): DataKeys {
  const raw = env.DATA_KEYS?.trim();
  if (!raw) {
    if (!development)
      problems.push('DATA_KEYS must be set in the production profile: id:base64key of 32 bytes (docs/security.md)');
    return DataKeys.NONE;
  }
  try {
    return DataKeys.parse(raw);
  } catch (error) {
    problems.push(`DATA_KEYS: ${(error as Error).message}`);
    return DataKeys.NONE;
  }
}

const TLS_FILES = { certFile: 'TLS_CERT_FILE', keyFile: 'TLS_KEY_FILE', caFile: 'TLS_CA_FILE' } as const;

/** A file setting's absolute path; a problem when the file cannot be read (checked now, read later). */
function readablePath(name: string, raw: string, problems: string[]): string {
  const resolved = path.resolve(raw);
  try {
    fs.accessSync(resolved, fs.constants.R_OK);
  } catch {
    problems.push(`${name} names ${resolved}, which cannot be read`);
  }
  return resolved;
}

/** TLS on (every file named and readable), or off: explicitly, or by default when no certificate is configured. */
function tlsSettings(env: Env, problems: string[]): TlsSettings | null {
  const mode = env.TLS || (env.TLS_CERT_FILE ? 'on' : 'off');
  if (mode !== 'on' && mode !== 'off') {
    problems.push(`TLS must be on or off, got '${env.TLS}'`);
    return null;
  }
  if (mode === 'off') return null;
  const file = (name: string, required: boolean): string | undefined => {
    const raw = env[name];
    if (!raw) {
      if (required) problems.push(`${name} must name a PEM file when TLS is on`);
      return undefined;
    }
    return readablePath(name, raw, problems);
  };
  const [certFile, keyFile, caFile] = Object.values(TLS_FILES).map((name) => file(name, true));
  const crlFile = file('TLS_CRL_FILE', false);
  const deliveryCaFile = file('DELIVERY_CA_FILE', false) ?? caFile;
  if (!certFile || !keyFile || !caFile || !deliveryCaFile) return null;
  return { certFile, keyFile, caFile, crlFile, deliveryCaFile };
}

/**
 * Signing on (key and certificate named and readable), or off: explicitly, or by default when neither
 * SIGNING_KEY_FILE nor (with TLS on) TLS_KEY_FILE names a key. The files default to TLS's.
 */
function signingSettings(env: Env, tls: TlsSettings | null, problems: string[]): SigningSettings | null {
  const configured = Boolean(env.SIGNING_KEY_FILE) || tls !== null;
  const mode = env.SIGNING || (configured ? 'on' : 'off');
  if (mode !== 'on' && mode !== 'off') {
    problems.push(`SIGNING must be on or off, got '${env.SIGNING}'`);
    return null;
  }
  if (mode === 'off') return null;
  const file = (name: string, fallback: string | undefined): string | undefined => {
    const raw = env[name];
    if (!raw) {
      if (!fallback) problems.push(`${name} must name a PEM file when SIGNING is on (or set TLS_* with TLS on)`);
      return fallback;
    }
    return readablePath(name, raw, problems);
  };
  const keyFile = file('SIGNING_KEY_FILE', tls?.keyFile);
  const certFile = file('SIGNING_CERT_FILE', tls?.certFile);
  if (!keyFile || !certFile) return null;
  return { keyFile, certFile };
}
