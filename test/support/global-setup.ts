import { ensureChromium } from './chromium.js';
import { ensureLasClients } from './las-clients.js';
import { TEST_SECRETS } from './operator-secrets.js';
import { startTestServices } from './services.js';
import { ensureXmlsec1 } from './xmlsec.js';

/**
 * Starts the shared PostgreSQL and Redis once for the whole run, and makes sure the dashboard test has
 * its browser, the client tests their PHP and zeep, and the signature tests xmlsec1.
 */
export default async function globalSetup(): Promise<void> {
  ensureChromium((message) => process.stderr.write(`${message}\n`));
  ensureLasClients((message) => process.stderr.write(`${message}\n`));
  ensureXmlsec1();
  // Every test file and spawned broker or worker uses these, so nothing writes ./var/operator-secrets.json.
  Object.assign(process.env, TEST_SECRETS);
  const services = await startTestServices('test');
  process.env.TEST_PG_ADMIN_URL = services.postgres.url;
  process.env.TEST_REDIS_URL = services.redis.url;
  (globalThis as Record<string, unknown>).__bronTestServices = services;
}
