import { Redis } from 'ioredis';

/**
 * A Redis connection for producers (Queue): commands fail at once while Redis is unreachable instead
 * of piling up, because the outbox in PostgreSQL — not Redis — is the copy that must survive.
 */
export function createProducerConnection(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => undefined); // reconnects on its own; callers see their command fail
  return redis;
}

/** A Redis connection for consumers (Worker): BullMQ requires unlimited retries for blocking commands. */
export function createConsumerConnection(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  return redis;
}
