/**
 * The chaos harness's own PostgreSQL and Redis, and the faults it puts on them: SIGSTOP/SIGCONT of
 * every process of a server, kill -9 and restart. Both are started with the broker's own helpers
 * (startEmbeddedPostgres, startLocalRedis) in the harness's temporary folder on free ports; the pids
 * come from PostgreSQL's postmaster.pid and Redis's INFO, their children from /proc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/infra/services/embedded-postgres.js';
import { startLocalRedis } from '../../src/infra/services/local-redis.js';
import { freePort } from '../../src/infra/services/process-tools.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids of a process's descendants (children, grandchildren, …), read from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const result: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent && !result.includes(child)) {
        result.push(child);
        frontier.push(child);
      }
    }
  }
  return result;
}

export function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((pid) => !alive(pid))) return true;
    await sleep(50);
  }
  return pids.every((pid) => !alive(pid));
}

const quiet = (): void => undefined;

/** The harness's PostgreSQL server: one per run, a fresh database per scenario. */
export class ChaosPostgres {
  private url = '';
  private stopped = false;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  static async start(dir: string): Promise<ChaosPostgres> {
    const server = new ChaosPostgres(path.join(dir, 'pg'), await freePort());
    await server.boot();
    return server;
  }

  private async boot(): Promise<void> {
    // A smaller buffer pool than the broker's default: several engineers share this machine.
    const service = await startEmbeddedPostgres({
      dataDir: this.dataDir,
      port: this.port,
      database: 'postgres',
      log: quiet,
      extraFlags: ['-c', 'shared_buffers=128MB'],
    });
    this.url = service.url;
    this.stopped = false;
  }

  /** The postmaster's pid, from its lock file (undefined when it is not running). */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The postmaster and every process it forked. */
  pids(): number[] {
    const pid = this.postmasterPid();
    return pid === undefined ? [] : [pid, ...descendants(pid)];
  }

  /** A database's URL on this server (the socket when the helper chose it). */
  urlOf(database: string): string {
    const url = new URL(this.url);
    url.pathname = `/${database}`;
    return url.toString();
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.urlOf(name);
  }

  /** SIGSTOP every process of the server: connections hang, nothing is refused. */
  pause(): void {
    signal(this.pids(), 'SIGSTOP');
    this.stopped = true;
  }

  resume(): void {
    signal(this.pids(), 'SIGCONT');
    this.stopped = false;
  }

  /** kill -9 the postmaster and all its children (no shutdown checkpoint; crash recovery on restart). */
  async kill(): Promise<void> {
    const pids = this.pids();
    signal(pids, 'SIGCONT');
    signal(pids, 'SIGKILL');
    if (!(await waitGone(pids, 10_000))) throw new Error('PostgreSQL processes survived SIGKILL');
  }

  async restart(): Promise<void> {
    await this.boot();
  }

  /** Makes sure the server runs and is not stopped (after a scenario that failed half-way). */
  async ensureRunning(): Promise<void> {
    if (this.stopped) this.resume();
    if (this.postmasterPid() === undefined) await this.restart();
  }

  /** Fast shutdown (SIGINT to the postmaster), then SIGKILL whatever is left. */
  async stop(): Promise<void> {
    const pids = this.pids();
    signal(pids, 'SIGCONT');
    const postmaster = this.postmasterPid();
    if (postmaster !== undefined) signal([postmaster], 'SIGINT');
    if (!(await waitGone(pids, 15_000))) signal(pids, 'SIGKILL');
  }

  /** Synchronous last resort for an exiting harness. */
  killNow(): void {
    const pids = this.pids();
    signal(pids, 'SIGCONT');
    signal(pids, 'SIGKILL');
  }
}

/** The harness's redis-server. */
export class ChaosRedis {
  url = '';
  private pid: number | undefined;
  private stopped = false;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  static async start(dir: string): Promise<ChaosRedis> {
    const server = new ChaosRedis(path.join(dir, 'redis'), await freePort());
    await server.boot();
    return server;
  }

  private async boot(): Promise<void> {
    const service = await startLocalRedis({ dataDir: this.dataDir, port: this.port, log: quiet });
    this.url = service.url;
    const client = new Redis(`redis://127.0.0.1:${this.port}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', quiet);
    await client.connect();
    this.pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
    client.disconnect();
    this.stopped = false;
  }

  /** A client for the harness itself (its own queue prefixes are cleaned through it). */
  client(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    client.on('error', quiet);
    return client;
  }

  running(): boolean {
    return this.pid !== undefined && alive(this.pid);
  }

  pause(): void {
    if (this.pid !== undefined) signal([this.pid], 'SIGSTOP');
    this.stopped = true;
  }

  resume(): void {
    if (this.pid !== undefined) signal([this.pid], 'SIGCONT');
    this.stopped = false;
  }

  async kill(): Promise<void> {
    if (this.pid === undefined) return;
    signal([this.pid], 'SIGCONT');
    signal([this.pid], 'SIGKILL');
    if (!(await waitGone([this.pid], 10_000))) throw new Error('redis-server survived SIGKILL');
    this.pid = undefined;
  }

  /** Deletes its data (append-only files, any dump): the next start is empty. */
  wipe(): void {
    for (const entry of fs.existsSync(this.dataDir) ? fs.readdirSync(this.dataDir) : []) {
      if (entry !== 'redis.sock') fs.rmSync(path.join(this.dataDir, entry), { recursive: true, force: true });
    }
  }

  async restart(): Promise<void> {
    await this.boot();
  }

  async ensureRunning(): Promise<void> {
    if (this.stopped) this.resume();
    if (!this.running()) await this.restart();
  }

  async stop(): Promise<void> {
    if (this.pid === undefined) return;
    signal([this.pid], 'SIGCONT');
    signal([this.pid], 'SIGTERM');
    if (!(await waitGone([this.pid], 10_000))) signal([this.pid], 'SIGKILL');
    this.pid = undefined;
  }

  killNow(): void {
    if (this.pid !== undefined) signal([this.pid], 'SIGKILL');
  }
}
