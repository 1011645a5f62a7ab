import { ConfigError, loadConfig } from './config.js';
import { startBroker } from './broker.js';
import { seedDemoInstitutions } from './demo-seed.js';
import { createLogger } from './log.js';
import { resolveDatabase, resolveRedis } from './services/resolve-services.js';
import { INBOUND_CONTRACTS } from './contracts/catalogue.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const say = (message: string): void => {
    log.info(message);
  };
  const database = await resolveDatabase(config, say);
  const redis = await resolveRedis(config, say);
  const broker = await startBroker(config, { databaseUrl: database.url, redisUrl: redis.url }, log);
  if (config.seedDemo) {
    const added = await seedDemoInstitutions(broker.pool);
    await broker.registry.refresh();
    if (added > 0) log.info('seeded demo institutions', { added });
  }
  const base = `http://localhost:${broker.port}`;
  log.info('bron-broker listening', { port: broker.port, brokerOin: config.brokerOin });
  for (const contract of INBOUND_CONTRACTS) {
    process.stdout.write(`WSDL ${contract.name}: ${base}/vo-webservices/${contract.name}?wsdl\n`);
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await broker.close();
    await redis.stop();
    await database.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `bron-broker failed to start: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exit(1);
});
