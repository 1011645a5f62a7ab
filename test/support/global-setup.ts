import { startTestServices } from './services.js';

/** Starts the shared PostgreSQL and Redis once for the whole run. */
export default async function globalSetup(): Promise<void> {
  const services = await startTestServices('test');
  process.env.TEST_PG_ADMIN_URL = services.postgres.url;
  process.env.TEST_REDIS_URL = services.redis.url;
  (globalThis as Record<string, unknown>).__bronTestServices = services;
}
