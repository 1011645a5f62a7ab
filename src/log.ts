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

/** JSON logger on stdout. Callers pass structured fields; nothing here ever receives raw XML. */
export function createLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: new BatchedStdout(), eol: '\n' })],
  });
}

/** A logger that drops everything (for tools and tests that do not want output). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

/**
 * Masks personal numbers (BSN / onderwijsnummer: 9 digits) in free text, keeping the last three
 * digits so an operator can still tell two numbers apart. Longer digit runs (OINs) are left alone.
 */
export function maskPersonalNumbers(text: string): string {
  return text.replace(/(?<!\d)\d{6}(\d{3})(?!\d)/g, '******$1');
}
