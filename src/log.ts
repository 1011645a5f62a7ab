import winston from 'winston';

export type Logger = winston.Logger;

/** JSON logger on stdout. Callers pass structured fields; nothing here ever receives raw XML. */
export function createLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
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
