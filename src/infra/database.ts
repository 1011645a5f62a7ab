import pg from 'pg';
import { DataKeys } from './data-keys.js';

export type Pool = pg.Pool;

// Bigint ids fit in a JS number for the lifetime of any broker; timestamps stay Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  /** Server-side statement_timeout: a statement the server cancels never commits. */
  readonly statementTimeoutMs?: number;
  /** Server-side lock_timeout: a statement waiting this long for a lock fails instead of queueing others behind it. */
  readonly lockTimeoutMs?: number;
  /** Client-side wait for any answer (default 5000). The server may still run a statement given up on. */
  readonly queryTimeoutMs?: number;
  /**
   * How statements with parameters are planned (see PLAN_SETTINGS): `per-call` (the default), `cached`,
   * or `key-lookups`. Only named statements keep a cached plan; unnamed ones are planned on every call,
   * under the same settings. Cache plans only in a pool whose named statements have no plan choice that
   * table growth could make wrong.
   */
  readonly plans?: PlanMode;
  /** The keys stored messages are sealed and opened with by the repositories (default: none, plain text). */
  readonly dataKeys?: DataKeys;
}

/** Where a pool, and every client it hands out, carries its data keys. */
const DATA_KEYS = Symbol('dataKeys');

/** The data keys of this pool or of the pool this client came from (none for a client made otherwise). */
export const dataKeysOf = (db: object): DataKeys => (db as { [DATA_KEYS]?: DataKeys })[DATA_KEYS] ?? DataKeys.NONE;

const carryDataKeys = (db: object, keys: DataKeys): void => {
  Object.defineProperty(db, DATA_KEYS, { value: keys, enumerable: false });
};

export type PlanMode = 'per-call' | 'cached' | 'key-lookups';

/**
 * Session settings per plan mode. `per-call`: every execution of a named statement is planned for its
 * own parameters, because a generic plan cached while the tables were nearly empty (a fresh database)
 * kept scanning them whole as they grew, until the next ANALYZE (bench:accept: PostgreSQL CPU per
 * message 3-8x in half the runs). `cached`: PostgreSQL's default choice. `key-lookups`: generic plans
 * always, with sequential scans, hash and merge joins ruled out wherever an index can serve, so a plan
 * cached on empty tables is still an index lookup per key (or an index range) when they hold millions
 * of rows. For pools whose statements reach rows through an index (the pipeline's): planning each call
 * cost PostgreSQL about 0.7 ms per statement there (bench:pipeline, docs/benchmarks.md).
 */
const PLAN_SETTINGS: Record<PlanMode, string> = {
  'per-call': ' -c plan_cache_mode=force_custom_plan',
  cached: '',
  'key-lookups':
    ' -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off',
};

/**
 * A PostgreSQL pool whose every wait is bounded, so an unreachable database turns into an error
 * within about a second instead of a hung request.
 */
export function createPool(connectionString: string, max = 10, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 1000,
    query_timeout: options.queryTimeoutMs ?? 5000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.lockTimeoutMs ? { lock_timeout: options.lockTimeoutMs } : {}),
    // Times without an offset are read as UTC, whatever the server's default.
    options: `-c timezone=UTC${PLAN_SETTINGS[options.plans ?? 'per-call']}`,
    idleTimeoutMillis: 30_000,
    application_name: 'bron-broker',
  });
  // The repositories seal and open stored messages with these, in a pool's transactions too.
  const dataKeys = options.dataKeys ?? DataKeys.NONE;
  carryDataKeys(pool, dataKeys);
  pool.on('connect', (client) => carryDataKeys(client, dataKeys));
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  // Nor a checked-out one between two queries (a transaction's client when PostgreSQL dies): the next
  // query on it fails, and that failure is handled where the query was made.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * A named statement: PostgreSQL parses it once per connection instead of on every call (it is still
 * planned as the pool's plan mode says, see PLAN_SETTINGS). Used for the statements on the message path.
 */
export const prepared = (name: string, text: string, values: unknown[]): pg.QueryConfig => ({ name, text, values });

/** Runs `work` in a transaction of its own: committed when it returns, rolled back when it throws (a broken client is discarded). */
export async function inTransaction<T>(
  pool: Pool,
  work: (tx: pg.PoolClient) => Promise<T>,
  commit: (tx: pg.PoolClient, result: T) => Promise<void> = async (tx) => void (await tx.query('COMMIT')),
): Promise<T> {
  const tx = await pool.connect();
  let failure: Error | undefined;
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await commit(tx, result);
    return result;
  } catch (error) {
    failure = error as Error;
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    tx.release(failure);
  }
}
