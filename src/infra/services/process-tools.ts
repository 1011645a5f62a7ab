import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';

/** Whether an executable is on PATH. */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs a Debian package when this process may (root, apt-get present); otherwise throws with the
 * command a person should run.
 */
export function installDebianPackage(pkg: string, log: (message: string) => void): void {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    throw new Error(`${pkg} is not installed; install it with: sudo apt-get install -y ${pkg}`);
  }
  log(`installing Debian package ${pkg} (one time)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether a Unix socket can live at this path: sockaddr_un holds 108 bytes with the terminating zero,
 * and the path must survive PostgreSQL's comma-separated, quoted `unix_socket_directories` and Redis's
 * config-line parsing, so commas, quotes, backslashes and white space are refused too.
 */
export function unixSocketPathFits(socketPath: string): boolean {
  return Buffer.byteLength(socketPath) <= 100 && !/[\s,'"\\]/.test(socketPath);
}
