/**
 * bench:job-memory — Redis memory per job BullMQ keeps: a delivery job waiting for its retry (delayed)
 * and one in the failed set (the error queue's mirror). Completed jobs are removed, so they cost none.
 * Starts its own redis-server; prints bytes per job.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { deliveryJobs } from '../src/queue/delivery-queue.js';
import { freePort } from '../src/services/process-tools.js';
import { startLocalRedis } from '../src/services/local-redis.js';

const JOBS = 5000;

async function usedMemory(redis: Redis): Promise<number> {
  await redis.call('MEMORY', 'PURGE').catch(() => undefined);
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bron-jobmem-'));
  const service = await startLocalRedis({ dataDir: dir, port: await freePort(), log: () => undefined });
  const redis = new Redis(service.url, { maxRetriesPerRequest: null });
  const queue = new Queue('delivery', { connection: redis, prefix: 'bron' });
  try {
    const ids = Array.from({ length: JOBS }, (_, i) => 1_000_000 + i);
    const before = await usedMemory(redis);
    // As the delivery worker leaves a job between attempts: delayed until its retry.
    await queue.addBulk(deliveryJobs(3)(ids).map((job) => ({ ...job, opts: { ...job.opts, delay: 600_000 } })) as Parameters<Queue['addBulk']>[0]);
    const delayed = await usedMemory(redis);
    process.stdout.write(`delayed delivery job (waiting for a retry): ${Math.round((delayed - before) / JOBS)} bytes each (${JOBS} jobs)\n`);
    await queue.obliterate({ force: true });
    const base = await usedMemory(redis);
    // Jobs on their last attempt (no retries left), so a failure ends in the failed set.
    await queue.addBulk(deliveryJobs(0)(ids) as Parameters<Queue['addBulk']>[0]);
    // A worker fails each once, with a typical error text: after the last attempt they stay in the failed set.
    const workerConnection = new Redis(service.url, { maxRetriesPerRequest: null });
    const worker = new Worker('delivery', async () => { throw new Error('no answer within 10000 ms'); }, { connection: workerConnection, prefix: 'bron', concurrency: 50 });
    while ((await queue.getFailedCount()) < JOBS) await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.close();
    workerConnection.disconnect();
    const failed = await usedMemory(redis);
    process.stdout.write(`failed delivery job (error queue mirror): ${Math.round((failed - base) / JOBS)} bytes each\n`);
  } finally {
    await queue.close();
    redis.disconnect();
    await service.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
