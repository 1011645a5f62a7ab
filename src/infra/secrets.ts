import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/** The admin API's bearer tokens and the pupil-trace key, from the environment or the data folder. */
export interface OperatorSecrets {
  readonly adminReadToken: string;
  readonly adminOperatorToken: string;
  readonly traceKey: string;
  /** The file the generated values live in, when any value was not set in the environment. */
  readonly generatedFile: string | undefined;
}

type Generated = { adminReadToken: string; adminOperatorToken: string; traceKey: string };

/** Where development secrets are kept: beside the embedded databases, never in the repository. */
export const secretsFile = (config: Pick<Config, 'dataDir'>): string =>
  path.join(config.dataDir, 'operator-secrets.json');

function fresh(): Generated {
  return {
    adminReadToken: randomBytes(24).toString('base64url'),
    adminOperatorToken: randomBytes(24).toString('base64url'),
    traceKey: randomBytes(32).toString('base64url'),
  };
}

/**
 * Reads the generated secrets, creating them once. `wx` makes creation race-free: cluster workers, the
 * CLI and the broker that start together all end up with the one file the first of them wrote.
 */
function loadOrCreate(file: string): Generated {
  try {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(fresh(), null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Generated;
  } catch (error) {
    throw new Error(
      `cannot keep generated operator secrets in ${file} (${(error as Error).message}); set ADMIN_READ_TOKEN, ADMIN_OPERATOR_TOKEN and TRACE_KEY instead`,
    );
  }
}

/**
 * The secrets in force. Values set in the environment win; any value left unset is generated once
 * and kept in BROKER_DATA_DIR/operator-secrets.json (mode 0600), so a development broker is never
 * open without a token and the trace index stays searchable across restarts.
 */
export function resolveOperatorSecrets(
  config: Pick<Config, 'dataDir' | 'adminReadToken' | 'adminOperatorToken' | 'traceKey'>,
): OperatorSecrets {
  if (config.adminReadToken && config.adminOperatorToken && config.traceKey) {
    return {
      adminReadToken: config.adminReadToken,
      adminOperatorToken: config.adminOperatorToken,
      traceKey: config.traceKey,
      generatedFile: undefined,
    };
  }
  const file = secretsFile(config);
  const generated = loadOrCreate(file);
  return {
    adminReadToken: config.adminReadToken ?? generated.adminReadToken,
    adminOperatorToken: config.adminOperatorToken ?? generated.adminOperatorToken,
    traceKey: config.traceKey ?? generated.traceKey,
    generatedFile: file,
  };
}

/** Only the trace key (processing workers, the CLI): the environment's, else the generated one. */
export function resolveTraceKey(
  config: Pick<Config, 'dataDir' | 'adminReadToken' | 'adminOperatorToken' | 'traceKey'>,
): string {
  return config.traceKey ?? resolveOperatorSecrets(config).traceKey;
}
