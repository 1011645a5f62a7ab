/**
 * The broker's processes under test, as a supervisor runs them: one HTTP broker (dist/src/main.js,
 * ROLE=http) and N pipeline processes (dist/src/main.js, ROLE=pipeline), each restarted when it
 * dies (unless the harness is stopping them). Output goes to a log file per process in the scenario's
 * folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { PIPELINE_READY_LINE } from '../../src/pipeline.js';
import { signal, sleep, waitGone } from './services.js';

export interface Supervised {
  readonly name: string;
  /** The running process's pid (undefined between a death and its restart). */
  pid(): number | undefined;
  /** kill -9 now; the supervisor restarts it after `restartDelayMs`. */
  kill9(): void;
  /** SIGSTOP / SIGCONT the running process. */
  pause(): void;
  resume(): void;
  /** Whether the current run of it has said it is ready (a pipeline's PIPELINE_READY_LINE, the HTTP broker's WSDL lines). */
  ready(): boolean;
  restarts: number;
  readonly deaths: readonly string[];
}

/** Every process the harness has spawned and not seen end: what an exiting harness kills. */
const LIVE = new Set<ChildProcess>();
let exiting = false;

/** SIGKILL (after SIGCONT) every broker process still running; synchronous, for exit handlers. */
export function killAllSpawned(): void {
  exiting = true;
  for (const child of LIVE) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) signal([child.pid], 'SIGKILL');
  }
}

class SupervisedProcess implements Supervised {
  private child: ChildProcess | undefined;
  private stopping = false;
  restarts = 0;
  /** How each run of it ended: a signal name or `exit <code>`. */
  readonly deaths: string[] = [];
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly restartDelayMs: number,
    private readonly readyMarker: string,
  ) {}

  start(): void {
    if (exiting) return;
    fs.appendFileSync(this.logFile, `[chaos ${new Date().toISOString()}] ${this.name} starting\n`);
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, this.script)], {
      env: this.env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    LIVE.add(child);
    this.child = child;
    child.once('exit', (code, sig) => {
      LIVE.delete(child);
      if (this.child === child) this.child = undefined;
      this.deaths.push(sig ?? `exit ${code}`);
      fs.appendFileSync(
        this.logFile,
        `[chaos ${new Date().toISOString()}] ${this.name} ended: ${sig ?? `exit code ${code}`}${this.stopping ? ' (stopped by the harness)' : ''}\n`,
      );
      if (this.stopping) return;
      this.restarts += 1;
      this.restartTimer = setTimeout(() => {
        if (!this.stopping) this.start();
      }, this.restartDelayMs);
    });
  }

  pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  ready(): boolean {
    if (this.pid() === undefined) return false;
    const text = fs.readFileSync(this.logFile, 'utf8');
    return text.slice(text.lastIndexOf(`] ${this.name} starting`)).includes(this.readyMarker);
  }

  pause(): void {
    const pid = this.pid();
    if (pid !== undefined) signal([pid], 'SIGSTOP');
  }

  resume(): void {
    const pid = this.pid();
    if (pid !== undefined) signal([pid], 'SIGCONT');
  }

  kill9(): void {
    const pid = this.pid();
    if (pid !== undefined) signal([pid], 'SIGKILL');
  }

  /** SIGTERM (the processes close cleanly), SIGKILL after a while. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const pid = this.pid();
    if (pid === undefined) return;
    signal([pid], 'SIGCONT');
    signal([pid], 'SIGTERM');
    if (!(await waitGone([pid], 8000))) {
      signal([pid], 'SIGKILL');
      await waitGone([pid], 5000);
    }
  }

  killNow(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const pid = this.pid();
    if (pid !== undefined) signal([pid], 'SIGKILL');
  }
}

export interface BrokerCluster {
  readonly baseUrl: string;
  readonly http: Supervised;
  readonly pipelines: readonly Supervised[];
  stop(): Promise<void>;
  killNow(): void;
}

/** Polls /healthz until the HTTP process answers. */
export async function waitHealthy(baseUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await sleep(100);
  }
  return false;
}

/** Until every process runs and has said it is ready. */
export async function waitReady(processes: readonly Supervised[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processes.every((p) => p.ready())) return true;
    await sleep(100);
  }
  return false;
}

export async function startCluster(options: {
  env: NodeJS.ProcessEnv;
  port: number;
  pipelines: number;
  logDir: string;
  restartDelayMs: number;
}): Promise<BrokerCluster> {
  const http = new SupervisedProcess(
    'http',
    'dist/src/main.js',
    { ...options.env, ROLE: 'http' },
    path.join(options.logDir, 'http.log'),
    options.restartDelayMs,
    'Admin dashboard:',
  );
  const pipelines = Array.from(
    { length: options.pipelines },
    (_, index) =>
      new SupervisedProcess(
        `pipeline-${index + 1}`,
        'dist/src/main.js',
        { ...options.env, ROLE: 'pipeline' },
        path.join(options.logDir, `pipeline-${index + 1}.log`),
        options.restartDelayMs,
        PIPELINE_READY_LINE,
      ),
  );
  const all = [http, ...pipelines];
  // The HTTP process migrates first; the pipelines then find the schema in place (every start
  // migrates, under one advisory lock).
  http.start();
  const baseUrl = `http://127.0.0.1:${options.port}`;
  if (!(await waitHealthy(baseUrl, 60_000))) {
    for (const p of all) p.killNow();
    throw new Error(`the HTTP broker did not become healthy (see ${path.join(options.logDir, 'http.log')})`);
  }
  for (const p of pipelines) p.start();
  // Load starts when every pipeline process has started its workers.
  if (!(await waitReady(all, 90_000))) {
    for (const p of all) p.killNow();
    throw new Error(`the pipeline processes did not start (see ${options.logDir})`);
  }
  return {
    baseUrl,
    http,
    pipelines,
    stop: async () => {
      await Promise.all(all.map((p) => p.stop()));
    },
    killNow: () => {
      for (const p of all) p.killNow();
    },
  };
}
