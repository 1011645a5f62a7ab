import type { Redis } from 'ioredis';
import type { Pool } from '../database.js';
import { latestAppliedMigration, listMigrations } from '../migrate.js';

/** What /readyz checks, each true or false, and the reason of the first failure. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: {
    readonly postgres: boolean;
    readonly migrations: boolean;
    readonly redis: boolean;
    readonly schemas: boolean;
  };
  readonly problems: readonly string[];
}

export interface ReadinessDeps {
  readonly pool: Pool;
  readonly redis: Redis;
  /** Whether every contract schema is compiled (they are compiled before the server listens). */
  readonly schemasLoaded: () => boolean;
}

/**
 * Ready = PostgreSQL answers with every migration applied, Redis answers PING, and the contract
 * schemas are compiled. A load balancer sends requests only to a ready broker; /healthz says only
 * that the process is up.
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const problems: string[] = [];
  const latest = Math.max(0, ...listMigrations().map((m) => m.version));
  let postgres = false;
  let migrations = false;
  try {
    const applied = await latestAppliedMigration(deps.pool);
    postgres = true;
    migrations = applied >= latest;
    if (!migrations) problems.push(`database schema at migration ${applied}, code expects ${latest}`);
  } catch (error) {
    problems.push(`PostgreSQL: ${(error as Error).message}`);
  }
  let redis = false;
  try {
    redis =
      (await Promise.race([
        deps.redis.ping(),
        new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no answer within 1 s')), 1000).unref()),
      ])) === 'PONG';
  } catch (error) {
    problems.push(`Redis: ${(error as Error).message}`);
  }
  const schemas = deps.schemasLoaded();
  if (!schemas) problems.push('contract schemas not compiled');
  return {
    ready: postgres && migrations && redis && schemas,
    checks: { postgres, migrations, redis, schemas },
    problems,
  };
}
