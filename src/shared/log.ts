import { Writable } from 'node:stream';
import winston from 'winston';

export type Logger = winston.Logger;

/**
 * stdout with the lines of one event-loop turn written together: one write per turn instead of one
 * per request (a write to a file or pipe is a system call, and at thousands of requests per second
 * those add up). Flushed before the process exits.
 */
class BatchedStdout extends Writable {
  private lines: string[] = [];

  constructor() {
    super({ decodeStrings: false });
    process.once('exit', () => this.flushNow());
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.lines.length === 0) setImmediate(() => this.flushNow());
    this.lines.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    callback();
  }

  private flushNow(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    process.stdout.write(text);
  }
}

/** Masks personal numbers in every string field of a log entry, whoever wrote it. */
const maskFields = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (typeof value === 'string') info[key] = maskPersonalNumbers(value);
  }
  return info;
});

/** JSON logger on stdout. Callers pass structured fields; nothing here ever receives raw XML. */
export function createLogger(level: string, stream: Writable = new BatchedStdout()): Logger {
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(maskFields(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream, eol: '\n' })],
  });
  // winston runs an entry through its stream and formats before the transport drops it by level
  // (~4 µs a call): the level methods (`info()`, `debug()`…) below the configured level do nothing
  // at all instead; `log(level, …)` still goes the long way. The level is fixed for the process
  // (LOG_LEVEL at start-up): setting `logger.level` later would not bring those methods back.
  for (const name of Object.keys(logger.levels)) {
    if (!logger.isLevelEnabled(name)) (logger as unknown as Record<string, () => Logger>)[name] = () => logger;
  }
  return logger;
}

/** A logger that drops everything (for tools and tests that do not want output). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

/**
 * A UUID (request and message ids) is matched whole first, so a digit run inside one (`…-427e12345678`)
 * is never taken for a personal number; otherwise any standalone run of 7 to 10 digits (a BSN or
 * onderwijsnummer, also when mistyped with a digit too few or too many) keeps only its last three
 * digits, also right after a letter or punctuation (`BSN:123456782`, `PGN-123456782`, `x123456782`).
 * Longer digit runs (OINs) and runs followed by a letter or hyphen are left alone; masking a little too
 * much is the safe side.
 */
const UUID_OR_PERSONAL_NUMBER =
  /(?<![0-9A-Za-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9A-Za-z])|(?<![0-9])\d{4,7}(\d{3})(?![0-9A-Za-z-])/gi;

/** Masks personal numbers in free text (see UUID_OR_PERSONAL_NUMBER for what counts as one). */
export function maskPersonalNumbers(text: string): string {
  return text.replace(UUID_OR_PERSONAL_NUMBER, (match, last: string | undefined) => (last === undefined ? match : `******${last}`));
}
