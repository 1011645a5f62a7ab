import fs from 'node:fs';
import { ConfigError } from './config.js';

/** A start-up problem whose message already says what is wrong and which setting to look at. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** A file a setting names, read at start; a StartupError naming the setting when it cannot be. */
export function readSettingFile(file: string, setting: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new StartupError(
      `${setting} (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Where a connection URL points, without its user or password. */
export function serviceAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host || parsed.searchParams.get('host') || parsed.pathname;
  } catch {
    return 'the configured address';
  }
}

/** Wraps a failure to reach PostgreSQL at start-up in one line that names the address and the setting. */
export function databaseUnreachable(url: string, error: unknown, external: boolean): StartupError {
  const reason = firstLine(error);
  return new StartupError(
    `PostgreSQL at ${serviceAddress(url)} cannot be used: ${reason}${external ? ' (check DATABASE_URL)' : ''}`,
  );
}

const firstLine = (error: unknown): string => {
  const text =
    error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  return text.split('\n')[0]!.trim();
};

/**
 * The single line printed when the broker cannot start: what is wrong and what to change, never a stack
 * (an operator reads it; a restart would only repeat it).
 */
export function startupFailureLine(error: unknown, listen: { port: number; host: string }): string {
  if (error instanceof ConfigError) return error.message;
  const errno = error as NodeJS.ErrnoException;
  if (errno?.code === 'EADDRINUSE')
    return `bron-broker cannot start: port ${listen.port} on ${listen.host} is already in use; stop what listens there or set PORT to a free port`;
  if (errno?.code === 'EACCES' && errno.syscall === 'listen')
    return `bron-broker cannot start: no permission to listen on port ${listen.port}; set PORT to a port above 1023`;
  if (errno?.code === 'EADDRNOTAVAIL')
    return `bron-broker cannot start: ${listen.host} is not an address of this machine; check HOST`;
  return `bron-broker cannot start: ${firstLine(error)}`;
}
