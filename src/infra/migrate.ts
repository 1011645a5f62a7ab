import fs from 'node:fs';
import path from 'node:path';
import type { QueryConfig } from 'pg';
import type { Pool } from './database.js';
import { MIGRATIONS_DIR } from './paths.js';

const LOCK_KEY = 4_242_001; // advisory lock: one migrator at a time across processes
/**
 * A migration may build an index on a large table: it gets far longer than the pool's query timeout
 * (which would give up client-side while the server still builds, and roll back on every start).
 */
const MIGRATION_TIMEOUT_MS = 60 * 60 * 1000;

/** Migration files `NNN_name.sql`, in order. Append-only: a shipped file is never edited. */
export function listMigrations(dir = MIGRATIONS_DIR): { version: number; name: string; file: string }[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), name: file.slice(4, -4), file: path.join(dir, file) }));
}

/** Applies every migration not yet applied, each in its own transaction. Returns the versions applied. */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const migration of listMigrations()) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        // node-pg reads a per-query `query_timeout` (its types only declare it on the pool).
        const statement: QueryConfig & { query_timeout: number } = {
          text: fs.readFileSync(migration.file, 'utf8'),
          query_timeout: MIGRATION_TIMEOUT_MS,
        };
        await client.query(statement);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/** Versions of the migrations not yet applied to the database (all of them on an empty database). */
export async function pendingMigrations(pool: Pool): Promise<number[]> {
  const table = await pool.query<{ exists: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists");
  const done = table.rows[0]!.exists
    ? new Set(
        (await pool.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      )
    : new Set<number>();
  return listMigrations()
    .map((m) => m.version)
    .filter((version) => !done.has(version));
}

/** The highest migration version applied to the database (0 when none is); throws when the database cannot be read. */
export async function latestAppliedMigration(pool: Pool): Promise<number> {
  return (await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
}
