import pg from 'pg';

export type Pool = pg.Pool;

// Bigint ids fit in a JS number for the lifetime of any broker; timestamps stay Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * A PostgreSQL pool whose every wait is bounded, so an unreachable database turns into an error
 * within about a second instead of a hung request.
 */
export function createPool(connectionString: string, max = 10, statementTimeoutMs?: number): Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 1000,
    query_timeout: 5000,
    // A statement the server cancels never commits: the accept path relies on this (see AcceptBatcher).
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    // Times without an offset are read as UTC, whatever the server's default.
    options: '-c timezone=UTC',
    idleTimeoutMillis: 30_000,
    application_name: 'bron-broker',
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A named statement: PostgreSQL parses and plans it once per connection instead of on every call.
 * Used for the statements on the message path, where planning cost a visible share of PostgreSQL's CPU.
 */
export const prepared = (name: string, text: string, values: unknown[]): pg.QueryConfig => ({ name, text, values });
