import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RunningService } from './embedded-postgres.js';
import { installDebianPackage, onPath, unixSocketPathFits } from './process-tools.js';

async function reachable(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
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
 * way the broker needs: append-only file fsynced every second, and never evicting keys. It listens
 * on 127.0.0.1:`port` and on a Unix socket in `dataDir`, which the URL it returns uses (ioredis reads
 * a `path` query parameter). A server already answering on the port is reused.
 */
export async function startLocalRedis(options: {
  dataDir: string;
  port: number;
  log: (message: string) => void;
}): Promise<RunningService> {
  const tcpUrl = `redis://127.0.0.1:${options.port}`;
  const socketPath = path.resolve(options.dataDir, 'redis.sock');
  const socketUsable = unixSocketPathFits(socketPath);
  const url = (viaSocket: boolean): string => (viaSocket ? `${tcpUrl}?path=${encodeURIComponent(socketPath)}` : tcpUrl);
  if (await reachable(tcpUrl)) {
    const viaSocket = socketUsable && fs.existsSync(socketPath) && (await reachable(url(true)));
    return { url: url(viaSocket), stop: async () => undefined };
  }
  if (!onPath('redis-server')) installDebianPackage('redis-server', options.log);
  fs.mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(options.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dataDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...(socketUsable ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    url: url(socketUsable && (await reachable(url(true)))),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
