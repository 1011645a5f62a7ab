import pg from 'pg';

export type Pool = pg.Pool;

// Bigint ids fit in a JS number for the lifetime of any broker; timestamps stay Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  /** Server-side statement_timeout: a statement the server cancels never commits (see AcceptBatcher). */
  readonly statementTimeoutMs?: number;
  /**
   * Let PostgreSQL cache a generic plan for named statements (its default). Only for a pool whose
   * named statements have no plan choice that table growth could make wrong; see below.
   */
  readonly cachedPlans?: boolean;
}

/**
 * A PostgreSQL pool whose every wait is bounded, so an unreachable database turns into an error
 * within about a second instead of a hung request.
 */
export function createPool(connectionString: string, max = 10, options: PoolOptions = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 1000,
    query_timeout: 5000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // Times without an offset are read as UTC, whatever the server's default. Unless told otherwise,
    // every execution of a named statement is planned for its own parameters: a generic plan cached
    // while the tables were nearly empty (a fresh database) kept scanning them whole as they grew,
    // until the next ANALYZE (bench:accept: PostgreSQL CPU per message 3-8x in half the runs).
    options: `-c timezone=UTC${options.cachedPlans ? '' : ' -c plan_cache_mode=force_custom_plan'}`,
    idleTimeoutMillis: 30_000,
    application_name: 'bron-broker',
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A named statement: PostgreSQL parses it once per connection instead of on every call (it is still
 * planned per call, see createPool). Used for the statements on the message path.
 */
export const prepared = (name: string, text: string, values: unknown[]): pg.QueryConfig => ({ name, text, values });
