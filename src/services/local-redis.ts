import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { installDebianPackage, onPath } from './process-tools.js';
import type { RunningService } from './embedded-postgres.js';

async function reachable(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * A redis-server from PATH (installed from Debian's packages when missing and allowed), durable the
 * way the broker needs: append-only file fsynced every second, and never evicting keys.
 * A server already answering on the port is reused.
 */
export async function startLocalRedis(options: { dataDir: string; port: number; log: (message: string) => void }): Promise<RunningService> {
  const url = `redis://127.0.0.1:${options.port}`;
  if (await reachable(url)) return { url, stop: async () => undefined };
  if (!onPath('redis-server')) installDebianPackage('redis-server', options.log);
  fs.mkdirSync(options.dataDir, { recursive: true });
  const child = spawn('redis-server', [
    '--port', String(options.port), '--bind', '127.0.0.1', '--dir', options.dataDir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
    '--save', '', '--daemonize', 'no', '--logfile', '',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
