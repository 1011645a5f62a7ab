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

/** Masks personal numbers in every field of a log entry, nested ones too, whoever wrote it. */
const maskFields = winston.format((info) => {
  const seen = new WeakSet<object>();
  for (const key of Object.keys(info)) info[key] = maskValue(info[key], seen, 0);
  return info;
});

/** Deeper than any log entry the broker writes; what lies below is dropped rather than written unmasked. */
const MAX_DEPTH = 8;

/**
 * A copy of `value` with personal numbers masked in every string, through objects, arrays and errors
 * (whose message and stack JSON would otherwise drop). Numbers are left alone: they are the broker's own
 * ids, counts and durations (a message id grows past seven digits). The caller's objects are never
 * changed: an error logged is often thrown on.
 */
function maskValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return maskPersonalNumbers(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => maskValue(item, seen, depth + 1));
  const copy: Record<string, unknown> = {};
  if (value instanceof Error) {
    copy.name = value.name;
    copy.message = maskPersonalNumbers(value.message);
    if (value.stack) copy.stack = maskPersonalNumbers(value.stack);
  }
  for (const [key, item] of Object.entries(value)) copy[key] = maskValue(item, seen, depth + 1);
  return copy;
}

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
 * Weighted check shared by the BSN (sum ≡ 0 mod 11, the "elfproef") and the onderwijsnummer (≡ 5);
 * repeated from register/pgn.ts, which shared code may not import.
 */
function isPersonalNumber(nineDigits: string): boolean {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (nineDigits.charCodeAt(i) - 48);
  sum -= nineDigits.charCodeAt(8) - 48;
  const remainder = ((sum % 11) + 11) % 11;
  return (remainder === 0 && nineDigits !== '000000000') || remainder === 5;
}

/** Whether some nine consecutive digits of `digits` pass the BSN or onderwijsnummer check. */
function holdsPersonalNumber(digits: string): boolean {
  for (let start = 0; start + 9 <= digits.length; start++) {
    if (isPersonalNumber(digits.slice(start, start + 9))) return true;
  }
  return false;
}

/**
 * Matched whole first and left alone: a UUID (request and message ids), so its digits are never taken
 * for a personal number, and an OIN (20 characters, seven zeros and a non-zero prefix digit), which
 * operators need to see. Then any run of digits, also inside a longer token (`x123456782`,
 * `BSN123456782NL`, `123456782x`) and also with separators between them (`.`, white space, `-`, up to
 * three at a time: `123.456.782`, `123 456 782`).
 */
const KEPT_OR_DIGIT_RUN =
  /(?<![0-9A-Za-z])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0{7}[1-9][0-9A-Za-z]{12})(?![0-9A-Za-z])|\d(?:[.\s-]{0,3}\d)*/gi;

/**
 * A digit run is masked to its last three digits when it is 7 to 10 digits without separators (a BSN
 * or onderwijsnummer, also mistyped with a digit too few or too many), or when any nine consecutive of
 * its digits, separators taken out, pass the BSN or onderwijsnummer check (`00123456782`,
 * `123.456.782`). Other runs (dates, counts, durations, long ids that hold no such nine) are left alone.
 * Masking a little too much is the safe side.
 */
function maskRun(run: string): string {
  const digits = run.replace(/\D/g, '');
  const plain = digits.length === run.length;
  if ((plain && digits.length >= 7 && digits.length <= 10) || holdsPersonalNumber(digits))
    return `******${digits.slice(-3)}`;
  return run;
}

/** Masks personal numbers in free text (see KEPT_OR_DIGIT_RUN and maskRun for what counts as one). */
export function maskPersonalNumbers(text: string): string {
  return text.replace(KEPT_OR_DIGIT_RUN, (match, kept: string | undefined) =>
    kept === undefined ? maskRun(match) : match,
  );
}
